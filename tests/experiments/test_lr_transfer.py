import numpy as np

from dltheory.experiments.lr_transfer import EXPERIMENT


def test_lr_transfer_tiny():
    cfg = EXPERIMENT.config("quick", widths=(16, 32), log2_lr_min=-2.0, log2_lr_max=0.0, log2_lr_step=1.0,
                            n_seeds=1, batch=256)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {c.name for c in out.claims} == {"mup-optimum-transfers", "sp-optimum-drifts"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert set(out.table["param"]) == {"mup", "sp"} and len(out.table) == 2 * 2 * 3
