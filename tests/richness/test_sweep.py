"""Sweep runner: the coord-check property and the exponent fit on a small sweep (richness.md §9, §12)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.richness import (classification_task, coordinate_size, mup, representation_change, richness,
                               run_ensemble, sweep)
from dltheory.stats import bonferroni_z, fit_width_exponent


@pytest.fixture(scope="module")
def task():
    return classification_task("digits", 32, seed=0)


def test_coord_check_property(task):
    """μP hidden coordinates over 3 SGD steps: max/min across widths 32..512 of the seed-mean l1 <= 1.5."""
    x, y = task["x_train"], task["y_train"]
    sizes = {}
    for n in (32, 128, 512):
        run = run_ensemble((64, n, n, 10), mup(), seeds=range(3), x=x, y=y, steps=3, lr=0.5, record_steps=(0, 1, 2, 3))
        sizes[n] = [[np.mean([coordinate_size(run.preacts[t][layer][e]) for e in range(3)]) for layer in (0, 1)]
                    for t in range(4)]
    arr = np.array([sizes[n] for n in sizes])  # (width, t, layer)
    ratio = arr.max(0) / arr.min(0)
    assert ratio.max() <= 1.5


def test_exponent_fit_on_small_sweep(task):
    """One step, widths 32..512, r = 1/4: the fitted exponent of ||Δh|| is r within z* SE and within 0.1."""
    x, y = task["x_train"], task["y_train"]
    widths = (32, 64, 128, 256, 512)
    vals = np.zeros((6, len(widths)))
    for k, (n, _, _, run) in enumerate(sweep(widths, {"r": richness(0.25)}, [0.5], list(range(6)), d=64, k=10, x=x,
                                             y=y, steps=1, record_steps=(0, 1), center=True)):
        vals[:, k] = [representation_change(run.preacts[0][1][e], run.preacts[1][1][e]) for e in range(6)]
    f = fit_width_exponent(widths, vals)
    assert abs(f.slope - 0.25) <= max(bonferroni_z(1) * f.se, 1e-3) and abs(f.slope - 0.25) <= 0.1


def test_run_ensemble_bad_input(task):
    with pytest.raises(DLTheoryError, match="one Parametrization"):
        run_ensemble((64, 8, 8, 10), [mup()] * 2, seeds=range(3), x=task["x_train"], y=task["y_train"], steps=1)
    with pytest.raises(DLTheoryError, match="depth"):
        next(sweep((8,), {"m": mup()}, [0.1], [0], d=64, k=10, depth=1, x=task["x_train"], y=task["y_train"],
                   steps=1))
