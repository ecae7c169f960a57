import matplotlib.pyplot as plt
import numpy as np

from dltheory.experiments.local_elasticity_real import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", width=64, epochs=3, n_seeds=2)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {c.name for c in out.claims} == {"le-real-relu-vs-linear", "le-real-relu-vs-pixels"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert set(out.table.model) == {"relu", "linear"} and out.table.epoch.max() == 3
    assert out.table.kernel_kmeans_acc.between(0.5, 1.0).all()
    plt.close("all")


def test_mnist1d_variant_runs():
    cfg = EXPERIMENT.config("quick", width=32, epochs=1, n_seeds=2, srel_per_class=3, dataset="mnist1d")
    out = EXPERIMENT.execute(cfg, np.random.default_rng(1))
    assert len(out.claims) == 2 and out.table.srel_kmeans_acc.notna().any()
    plt.close("all")


def test_bce_variant_runs():
    cfg = EXPERIMENT.config("quick", width=32, epochs=2, n_seeds=2, srel_per_class=3, loss="bce")
    out = EXPERIMENT.execute(cfg, np.random.default_rng(2))
    assert "train_loss" in out.table and np.isfinite(out.table.train_loss).all()
    plt.close("all")
