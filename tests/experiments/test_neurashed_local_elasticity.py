import matplotlib.pyplot as plt
import numpy as np

from dltheory.experiments.neurashed_local_elasticity import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", n_seeds=1, pi_max_values=(0.5,), checkpoints=(0, 1000), n_per_class=15,
                            n_boot=50, srel_per_class=3)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {c.name for c in out.claims} == {"le-ordering", "le-kmeans-vs-masks"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    t = out.table
    assert len(t) == 2 and {"same_class", "same_superclass", "other_superclass", "kmeans_masks"} <= set(t.columns)
    assert np.all((t.srel_undefined >= 0) | t.srel_undefined.isna())
    plt.close("all")
