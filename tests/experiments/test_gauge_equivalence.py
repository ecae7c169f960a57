import numpy as np

from dltheory.experiments.gauge_equivalence import EXPERIMENT


def test_gauge_equivalence_tiny():
    cfg = EXPERIMENT.config("quick", widths=(32,), rs=(0.0, 0.5), gamma0s=(1.0, 10.0), momenta=(0.9,), steps=5,
                            n_train=32, batch_size=16)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    names = {c.name for c in out.claims}
    assert names == {"gauges-identical", "gauges-rounding", "control-r-shift"}
    assert "gauges" in out.figures and len(out.table) > 0
    claims = {c.name: c for c in out.claims}
    assert claims["gauges-identical"].passed  # exact identity: must hold at any scale
    assert claims["control-r-shift"].passed
