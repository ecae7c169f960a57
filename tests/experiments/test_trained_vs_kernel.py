import numpy as np

from dltheory.experiments.trained_vs_kernel import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", widths=(8, 16, 32), n_train=8, n_test=4, pairs=4, steps=5,
                            first_step_width=8, first_step_pairs=50, n_bootstrap=20)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    claims = {c.name: c for c in out.claims}
    assert set(claims) == {"mean-gap-slope", "first-step-exact"}
    assert np.isfinite(claims["first-step-exact"].measured)
    assert {"gap2", "first_step_mc", "first_step_exact"} <= set(out.table.columns)
