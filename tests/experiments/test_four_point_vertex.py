import numpy as np

from dltheory.experiments.four_point_vertex import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", activations=("relu", "tanh"), widths=(8, 16), n_networks=400, max_depth=4,
                            n_bootstrap=20)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    names = {c.name for c in out.claims}
    assert {"relu-slope-nu", "tanh-slope-recursion", "relu-exact-fourth-moment"} <= names
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert {"vertex_norm_mc", "vertex_norm_recursion", "excess_kurtosis_exact"} <= set(out.table.columns)
    assert "vertex_vs_depth" in out.figures
