import numpy as np

from dltheory.experiments.richness_exponent import EXPERIMENT


def test_richness_exponent_tiny():
    cfg = EXPERIMENT.config("quick", widths=(32, 64, 128, 256), rs=(0.0, 0.5), n_seeds=3, batch=16)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {"exponent-r0", "exponent-r0.5", "exponent-z", "output-change-flat", "estimator-slope"} == \
        {c.name for c in out.claims}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert set(out.table.columns) >= {"r", "layer", "slope", "se", "predicted"}
    assert "exponents" in out.figures
