import matplotlib.pyplot as plt
import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments.neurashed_implicit_regularization import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", steps=2000, checkpoint_every=500, n_per_class=15, n_seeds=2)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    names = {c.name for c in out.claims}
    assert names == {"ir1-clean-first", "ir2-memorization", "ir3-benign", "ir4-noisy-keep-idio", "ir5-clean-idio-decay"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert {"r", "rho", "seed", "step", "quantity", "value"} <= set(out.table.columns)
    assert set(out.table.r) == {0, 2} and {"ir_dynamics", "ir_graph_strip"} <= set(out.figures)
    plt.close("all")


def test_config_requires_comparison():
    with pytest.raises(DLTheoryError, match="r_values"):
        EXPERIMENT.config("quick", r_values=(2,))
