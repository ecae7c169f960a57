"""Gaussian expectations: §3.2 closed forms vs quadrature (effective-theory.md D1), §3.4 identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from dltheory.activations import get_activation
from dltheory.effective import (
    expect_pair,
    expect_pair_with_error,
    expect_single,
    expect_single_with_error,
    g_prime,
    g_second,
    gauss_hermite,
    pair_expectations,
    single_moments,
)
from dltheory.errors import DLTheoryError


def _random_kernels(rng: np.random.Generator, m: int, scale: float = 2.0) -> np.ndarray:
    """m random PSD 2x2 kernels as rows (k11, k12, k22)."""
    k11 = rng.uniform(0.05, scale, m)
    k22 = rng.uniform(0.05, scale, m)
    rho = rng.uniform(-0.99, 0.99, m)
    return np.stack([k11, rho * np.sqrt(k11 * k22), k22], axis=1)


def _closed(name: str, k11: float, k12: float, k22: float) -> tuple[float, float]:
    kern = np.array([[k11, k12], [k12, k22]])
    ss, dd = pair_expectations(name, kern, method="closed")
    return ss[0, 1], dd[0, 1]


@pytest.mark.parametrize("name", ["erf", "sin"])
def test_smooth_closed_forms_match_gauss_hermite(name):
    rng = np.random.default_rng(11)
    act = get_activation(name)
    for k11, k12, k22 in _random_kernels(rng, 12):
        ss, dd = _closed(name, k11, k12, k22)
        q_ss, err_ss = expect_pair_with_error(act.fn, act.fn, k11, k12, k22)
        q_dd = expect_pair(act.derivative, act.derivative, k11, k12, k22)
        assert abs(q_ss[0] - ss) <= 1e-10
        assert abs(q_dd[0] - dd) <= 1e-10
        assert err_ss[0] <= 1e-10


def _adaptive_pair(f, g, k11, k12, k22):
    """Nested adaptive quadrature in u-space split at the kinks u1 = 0 and z2 = 0 (D1 reference)."""
    a = math.sqrt(k11)
    r = k12 / a
    s = math.sqrt(k22 - r * r)
    phi = lambda u: math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)  # noqa: E731

    def inner(u1):
        c = -r * u1 / s
        h = lambda u2: g(r * u1 + s * u2) * phi(u2)  # noqa: E731
        return sum(quad(h, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
                   for lo, hi in ((-np.inf, c), (c, np.inf)))

    outer = lambda u1: f(a * u1) * phi(u1) * inner(u1)  # noqa: E731
    return sum(quad(outer, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=200)[0] for lo, hi in ((-np.inf, 0), (0, np.inf)))


@pytest.mark.parametrize("name", ["relu", "leaky_relu:0.2", "linear"])
def test_scale_invariant_closed_forms_match_adaptive_quadrature(name):
    ap, am = get_activation(name).slopes
    f = lambda z: ap * z if z >= 0 else am * z  # noqa: E731  (pure Python: fast scalar quad)
    df = lambda z: ap if z > 0 else am  # noqa: E731
    for k11, k12, k22 in [(1.0, 0.3, 2.0), (0.7, -0.5, 0.9), (1.5, 1.4, 1.6)]:
        ss, dd = _closed(name, k11, k12, k22)
        assert abs(_adaptive_pair(f, f, k11, k12, k22) - ss) <= 1e-10
        assert abs(_adaptive_pair(df, df, k11, k12, k22) - dd) <= 1e-10


def test_gelu_semi_analytic_matches_tensor_quadrature():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 3))
    kern = 0.2 + 1.5 * x @ x.T / 3
    ss, dd = pair_expectations("gelu", kern)  # semi-analytic 1-D rule
    q_ss, q_dd = pair_expectations("gelu", kern, method="quadrature", order=120)
    np.testing.assert_allclose(ss, q_ss, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dd, q_dd, rtol=0, atol=1e-10)
    o_ss, o_dd = pair_expectations("gelu", kern, order=201)  # odd order: no reflection shortcut
    np.testing.assert_allclose(ss, o_ss, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dd, o_dd, rtol=0, atol=1e-10)


def test_pair_expectations_symmetric_and_diagonal_equals_single():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 6))
    kern = 0.1 + x @ x.T / 6
    ss, dd = pair_expectations("tanh", kern, order=60)
    np.testing.assert_array_equal(ss, ss.T)
    m = single_moments("tanh", np.diag(kern))
    np.testing.assert_allclose(np.diag(ss), m["sigma2"], atol=1e-10)
    np.testing.assert_allclose(np.diag(dd), m["dsigma2"], atol=1e-10)


def test_single_moments_scale_invariant_and_linear_quadrature():
    k = np.array([0.3, 1.0, 2.5])
    m = single_moments("relu", k)
    np.testing.assert_allclose(m["sigma2"], 0.5 * k)
    np.testing.assert_allclose(m["sigma4"], 1.5 * k * k)
    # linear by quadrature (a user callable, not the closed form): <z^4> = 3K^2
    lin = get_activation(lambda z: 1.0 * z, derivative=lambda z: np.ones_like(z), name="lin")
    q = single_moments(lin, k)
    np.testing.assert_allclose(q["sigma4"], 3 * k * k, rtol=1e-13)
    np.testing.assert_allclose(q["g_prime"], 1.0, rtol=1e-13)


@pytest.mark.parametrize("name", ["erf", "sin", "tanh", "gelu", "swish"])
def test_g_prime_and_g_second_identities_vs_finite_differences(name):
    k = np.array([0.4, 1.3, 3.0])
    h = 1e-4
    g = lambda kk: single_moments(name, kk)["sigma2"]  # noqa: E731
    fd1 = (g(k + h) - g(k - h)) / (2 * h)
    fd2 = (g(k + h) - 2 * g(k) + g(k - h)) / h**2
    np.testing.assert_allclose(g_prime(name, k), fd1, rtol=0, atol=1e-8)
    np.testing.assert_allclose(g_second(name, k), fd2, rtol=0, atol=1e-5)


def test_closed_form_g_prime_matches_identity_quadrature():
    k = np.array([0.2, 1.0, 4.0])
    for name in ("erf", "sin"):
        act = get_activation(name)
        u, w = gauss_hermite(200)
        z = np.sqrt(k)[:, None] * u
        ident = (act.fn(z) ** 2 * (u * u - 1)) @ w / (2 * k)
        np.testing.assert_allclose(g_prime(name, k), ident, atol=1e-12)


def test_single_error_estimate_small_for_smooth_and_tracks_kinked():
    val, err = expect_single_with_error(np.cos, np.array([1.0]))
    assert abs(val[0] - math.exp(-0.5)) <= 1e-13 and err[0] <= 1e-12
    relu = get_activation("relu")
    val, err = expect_single_with_error(lambda z: relu.fn(z) ** 3, 1.0, order=20)
    exact = 2.0 / math.sqrt(2 * math.pi)  # E[relu(u)^3] = 2 phi(0)
    assert err > 0 and abs(val - exact) < err  # kinked integrand: slow but estimated convergence


def test_gauss_hermite_weights():
    u, w = gauss_hermite(50)
    assert abs(w.sum() - 1) < 1e-14 and abs(w @ u**4 - 3) < 1e-12


@pytest.mark.parametrize("order", [0, 1, -3, 2.5, True])
def test_bad_order_raises(order):
    with pytest.raises(DLTheoryError, match="order"):
        gauss_hermite(order)
    with pytest.raises(DLTheoryError, match="order"):
        expect_single(np.tanh, 1.0, order=order)


def test_bad_kernel_and_method_raise():
    with pytest.raises(DLTheoryError, match="kernel"):
        pair_expectations("relu", np.ones((2, 3)))
    with pytest.raises(DLTheoryError, match="kernel"):
        pair_expectations("relu", np.array([[np.nan, 0], [0, 1]]))
    with pytest.raises(DLTheoryError, match="method"):
        pair_expectations("relu", np.eye(2), method="exact")
    with pytest.raises(DLTheoryError, match="closed form"):
        pair_expectations("tanh", np.eye(2), method="closed")
    with pytest.raises(DLTheoryError, match="k"):
        expect_single(np.tanh, -1.0)
