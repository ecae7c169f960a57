import numpy as np

from dltheory.experiments.width_invariance import EXPERIMENT


def test_width_invariance_tiny():
    cfg = EXPERIMENT.config("quick", widths=(16, 32, 64), steps=5, n_seeds=2, batch=32)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert [c.name for c in out.claims] == ["mup-curves-converge"]
    assert np.isfinite(out.claims[0].measured) and "width_invariance" in out.figures
    assert (out.table["curve_distance_to_previous"].dropna() >= 0).all()
