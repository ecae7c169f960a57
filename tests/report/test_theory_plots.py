"""Figures of dltheory.nets.compare results (dltheory.report.theory_plots)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dltheory.errors import DLTheoryError
from dltheory.nets import compare_to_theory, width_sweep
from dltheory.report import plot_comparison, plot_width_sweep


def _make(width: int, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, width), nn.Tanh(), nn.Linear(width, width))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, math.sqrt(1.5 / m.in_features), generator=g)
                m.bias.normal_(0.0, 0.3, generator=g)
    return net


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 5))


def test_plot_comparison_writes_a_figure(x, tmp_path):
    res = compare_to_theory(lambda s: _make(16, s), x, seeds=10)
    fig = plot_comparison(res, path=tmp_path / "cmp.png")
    assert (tmp_path / "cmp.png").stat().st_size > 10_000
    assert len(fig.axes) == 4  # (kernel, NTK) x (mean vs theory, z-scores)
    res_k = compare_to_theory(lambda s: _make(16, s), x, seeds=10, ntk=False)
    assert len(plot_comparison(res_k).axes) == 2


def test_plot_width_sweep_writes_a_figure(x, tmp_path):
    sweep = width_sweep(_make, x, (4, 8, 16), seeds=8)
    fig = plot_width_sweep(sweep, entries="offdiag", path=tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    assert len(fig.axes) == 2
    with pytest.raises(DLTheoryError, match="entries"):
        plot_width_sweep(sweep, entries="all")
