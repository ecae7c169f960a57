import numpy as np

from dltheory.experiments.ntk_fluctuations import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", widths=(4, 8, 12), depth=3, n_networks=300)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {"relu-ntk-variance-extrapolated", "tanh-ntk-variance-extrapolated", "layer2-exact",
            "relu-ntk-mean-exact"} == {c.name for c in out.claims}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert {"n_var_diag_mc", "a_plus_2b", "y0"} <= set(out.table.columns)
