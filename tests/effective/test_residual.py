"""Residual MLPs (effective-theory.md §8; D10)."""

import numpy as np
import pytest

from dltheory.effective.four_point import four_point_single, vertex_slope
from dltheory.effective.residual import residual_critical_point, residual_four_point, residual_vertex_slope
from dltheory.errors import DLTheoryError


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 0.9])
def test_d10_nu_gamma_closed_forms(gamma):
    g2 = gamma**2
    assert residual_vertex_slope("relu", gamma) == pytest.approx((1 - g2) * ((1 - g2) * 5 + 4 * g2), rel=1e-12)
    assert residual_vertex_slope("tanh", gamma) == pytest.approx(2 / 3 * (1 - gamma**4), abs=1e-6)
    cp = residual_critical_point("relu", gamma)
    r = residual_four_point(1.3, 10, "relu", gamma, cp.cb, cp.cw)
    np.testing.assert_allclose(r.kernel, 1.3)
    np.testing.assert_allclose(r.vertex, residual_vertex_slope("relu", gamma) * np.arange(10) * 1.3**2, rtol=1e-12)


def test_gamma_zero_is_plain_mlp():
    assert residual_vertex_slope("gelu", 0.0) == pytest.approx(vertex_slope("gelu"), rel=1e-12)
    a = residual_four_point(1.0, 20, "tanh", 0.0, 0.0, 1.0)
    b = four_point_single(1.0, 20, "tanh", 0.0, 1.0)
    np.testing.assert_allclose(a.vertex, b.vertex, rtol=1e-12)
    np.testing.assert_allclose(a.nlo_metric, b.nlo_metric, rtol=1e-12)


def test_iterated_tanh_vertex_tends_to_nu_gamma():
    gamma = 0.5
    cp = residual_critical_point("tanh", gamma)
    r = residual_four_point(1.0, 4000, "tanh", gamma, cp.cb, cp.cw)
    slope = (r.vertex[-1] / r.kernel[-1] ** 2 - r.vertex[-1001] / r.kernel[-1001] ** 2) / 1000
    assert slope == pytest.approx(2 / 3 * (1 - gamma**4), rel=0.01)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "x"])
def test_bad_gamma(bad):
    with pytest.raises(DLTheoryError):
        residual_vertex_slope("relu", bad)


def test_mc_residual_relu():
    from dltheory.nets.estimators import estimate_four_point_vertex
    from dltheory.nets.residual_mlp import sample_residual_mlps

    gamma, n = 0.5, 8
    cp = residual_critical_point("relu", gamma)
    st = sample_residual_mlps(np.ones((1, 4)), 2, n, gamma, "relu", cp.cb, cp.cw, 20000, first_cw=2.0, generator=2)
    v, se = estimate_four_point_vertex(st)
    th = residual_four_point(2.0, 2, "relu", gamma, cp.cb, cp.cw)
    assert abs(v[1, 0] - th.vertex[1]) <= 4.5 * se[1, 0]  # layer 2: exact at any width
