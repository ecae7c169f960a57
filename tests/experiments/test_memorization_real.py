import matplotlib.pyplot as plt
import numpy as np

from dltheory.experiments.memorization_real import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", widths=(32,), n_seeds=1, max_epochs=4)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    (claim,) = out.claims
    assert claim.name == "mem-real-clean-first" and 0.0 <= claim.measured <= 1.0
    assert len(out.table) == 1 and out.table.epochs.iloc[0] <= 4
    plt.close("all")
