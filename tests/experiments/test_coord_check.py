import numpy as np

from dltheory.experiments.coord_check import EXPERIMENT


def test_coord_check_tiny():
    cfg = EXPERIMENT.config("quick", widths=(32, 128), steps=2, n_seeds=2, batch=16)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    claims = {c.name: c for c in out.claims}
    assert set(claims) == {"mup-hidden-flat", "mup-updates-flat", "mup-output-change-flat", "sp-blows-up"}
    assert claims["mup-hidden-flat"].measured >= 1.0
    assert set(out.table["param"]) == {"mup", "sp"} and "coord_check" in out.figures
