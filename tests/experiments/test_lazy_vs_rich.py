import numpy as np

from dltheory.experiments.lazy_vs_rich import EXPERIMENT


def test_lazy_vs_rich_tiny():
    cfg = EXPERIMENT.config("quick", widths=(32, 64, 128), kernel_rs=(0.0, 0.5), kernel_steps=3, n_train_kernel=32,
                            n_probe=16, n_seeds=2, rs=(0.0, 0.5), width_b=32, steps_b=5)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert {c.name for c in out.claims} == {"ntk-change-lazy-decreasing", "ntk-change-lazy-slope",
                                             "ntk-change-rich-flat", "cka-rich-lower"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    assert set(out.table["part"]) == {"A", "B"} and "lazy_rich" in out.figures
