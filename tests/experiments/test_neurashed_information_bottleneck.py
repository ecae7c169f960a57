import matplotlib.pyplot as plt
import numpy as np
import pytest

from dltheory.experiments.neurashed_information_bottleneck import EXPERIMENT, compression_statistics


def test_runs_small():
    cfg = EXPERIMENT.config("quick", steps=3000, checkpoint_every=1000, n_per_class=15, n_seeds=1, pure_tree_seeds=1)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {c.name for c in out.claims} >= {"ib-compression-phase", "ib-rise", "ib-fall"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert set(out.table.config) == {"IB", "pure-tree-noisy"} and set(out.table.level) == {0, 1, 2, 3}
    plt.close("all")


def test_compression_statistics_by_hand():
    s = compression_statistics(np.array([1.0, 1.3, 1.1, 0.9]), np.array([0.5, 0.6, 0.6, 0.61]))
    assert s["t_peak_index"] == 1 and s["interior"] == 1.0
    assert s["rise"] == pytest.approx(0.3) and s["fall"] == pytest.approx(0.4) and s["ity_change"] == pytest.approx(0.01)
