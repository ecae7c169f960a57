"""Closed-form kernels of the registry and the Hermite series vs the 2-D quadrature oracle (issue 14; §3.2-3.3).

Oracle: :func:`dltheory.effective.gaussian.expect_pair_reference` (composite Gauss–Legendre panels
split at the kinks). Agreement is required to 1e-10 relative to the Cauchy–Schwarz scale
√(⟨σ²⟩_a ⟨σ²⟩_b) (absolute for O(1) kernels) on a grid with small and large variances and ρ near ±1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.activations import ACTIVATION_NAMES, get_activation
from dltheory.effective.gaussian import (
    SERIES_TOLERANCE,
    expect_pair,
    hermite_coefficients,
    pair_expectations,
)
from dltheory.effective.gaussian import expect_pair_reference as _reference


def expect_pair_reference(f, g, k11, k12, k22, breaks=(0.0,)):
    return _reference(f, g, k11, k12, k22, breaks=breaks, nodes=32)  # 32 nodes/panel: ~1e-15 here, 2x faster

CLOSED = tuple(n for n in ACTIVATION_NAMES if get_activation(n).kernel is not None) + (
    "leaky_relu:0.2", "abrelu:0.3,2", "relu^2", "relu^3", "monomial:2", "monomial:3", "erf*2", "cos*-1.5",
    "gelu*0.7")
SERIES = ("tanh", "swish", "softplus", "sigmoid")
VARIANCES = ((0.05, 0.05), (1.0, 1.0), (0.3, 7.0), (20.0, 15.0))
RHOS = (-1.0, -0.999999, -0.7, 0.0, 0.3, 0.9, 0.999999, 1.0)


def test_every_kinked_builtin_has_a_closed_form():
    names = {n for n in ACTIVATION_NAMES if get_activation(n).taylor is None}
    assert names and all(get_activation(n).kernel is not None for n in names)
    assert {"erf", "gelu", "sin", "cos", "gaussian", "step", "sign", "relu", "leaky_relu"} <= set(CLOSED)


def _scale(act, a, b):
    g = [expect_pair_reference(act.fn, act.fn, v, v, v) for v in (a, b)]
    return max(1.0, math.sqrt(abs(g[0] * g[1])))


@pytest.mark.parametrize("name", CLOSED)
def test_closed_form_matches_quadrature_oracle(name):
    act = get_activation(name)
    worst = 0.0
    for a, b in VARIANCES:
        scale = _scale(act, a, b)
        dscale = max(1.0, math.sqrt(abs(expect_pair_reference(act.derivative, act.derivative, a, a, a)
                                        * expect_pair_reference(act.derivative, act.derivative, b, b, b))))
        for rho in RHOS:
            c = rho * math.sqrt(a * b)
            ss, dd = act.kernel(np.array(a), np.array(c), np.array(b), True)
            o_ss = expect_pair_reference(act.fn, act.fn, a, c, b)
            o_dd = expect_pair_reference(act.derivative, act.derivative, a, c, b)
            worst = max(worst, abs(float(ss) - o_ss) / scale, abs(float(dd) - o_dd) / dscale)
    assert worst <= 1e-10, worst


@pytest.mark.parametrize("name", ("gelu", "erf", "relu^2", "cos", "sign"))
def test_closed_form_broadcasts_and_is_symmetric(name):
    act = get_activation(name)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4))
    k = x @ x.T / 4 + 0.1
    d = np.diag(k)
    ss, dd = act.kernel(d[:, None], k, d[None, :], True)
    assert ss.shape == dd.shape == (6, 6)
    np.testing.assert_array_equal(ss, ss.T)
    s11, d11 = act.kernel(d[1], k[1, 3], d[3], True)
    assert float(s11) == pytest.approx(ss[1, 3], rel=1e-15, abs=1e-300) and float(d11) == pytest.approx(dd[1, 3])


def test_hermite_coefficients_of_a_monomial_are_exact():
    """z³ = K^{3/2}(He_3 + 3 He_1): c_1 = 3K^{3/2}, c_3 = √6 K^{3/2}, no tail."""
    k = np.array([0.5, 2.0])
    coef, tail = hermite_coefficients(lambda z: z**3, k, 8, 64)
    expected = np.zeros((2, 9))
    expected[:, 1], expected[:, 3] = 3 * k**1.5, math.sqrt(6) * k**1.5
    np.testing.assert_allclose(coef, expected, rtol=0, atol=1e-13)
    assert np.all(tail[:, 3:] <= 1e-12)


def _kernel_with_high_correlations(scale: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(10, 6))
    x[5] = x[4] + 1e-3 * rng.normal(size=6)  # ρ ≈ 1 - 1e-7
    x[7] = -x[6]  # ρ = -1
    return scale * (x @ x.T) / 6 + 0.02


@pytest.mark.parametrize(("name", "scale"), [(n, s) for n in SERIES for s in (0.1, 0.5)]
                         + [(n, 2.0) for n in ("swish", "softplus", "sigmoid")])
def test_series_matches_quadrature_oracle(name, scale):
    """Variances up to ≈ 3·scale: the series with its truncation bound serves every pair (ρ = ±1 included)."""
    act = get_activation(name)
    k = _kernel_with_high_correlations(scale)
    ss, dd = pair_expectations(act, k)  # "auto": the Hermite series for these activations
    d = np.diag(k)
    pairs = [(0, 0), (4, 4), (4, 5), (6, 7), (0, 1), (2, 9), (1, 8), (3, 5)]  # incl. ρ ≈ 1 and ρ = −1
    worst = 0.0
    for i, j in pairs:
        o_ss = expect_pair_reference(act.fn, act.fn, d[i], k[i, j], d[j], breaks=())
        o_dd = expect_pair_reference(act.derivative, act.derivative, d[i], k[i, j], d[j], breaks=())
        worst = max(worst, abs(ss[i, j] - o_ss) / max(1.0, abs(ss[i, i] * ss[j, j]) ** 0.5),
                    abs(dd[i, j] - o_dd) / max(1.0, abs(dd[i, i] * dd[j, j]) ** 0.5))
    assert worst <= 1e-10, worst


def test_series_handles_user_callables_and_forced_method():
    k = _kernel_with_high_correlations(1.0)
    user = get_activation(lambda z: np.tanh(z) + 0.1 * z * z, derivative=lambda z: 1 - np.tanh(z) ** 2 + 0.2 * z)
    ss, dd = pair_expectations(user, k)
    o = expect_pair_reference(user.fn, user.fn, k[4, 4], k[4, 5], k[5, 5], breaks=())
    assert abs(ss[4, 5] - o) <= 1e-10
    ce, de = pair_expectations("erf", k)  # closed form
    se, sd = pair_expectations("erf", k, method="series")
    np.testing.assert_allclose(se, ce, rtol=0, atol=10 * SERIES_TOLERANCE)
    np.testing.assert_allclose(sd, de, rtol=0, atol=10 * SERIES_TOLERANCE)


def test_switch_rule_sends_slow_pairs_to_the_tensor_rule():
    """tanh: a ρ ≈ 1 pair at K ≈ 2.7 (bound fails at SERIES_MAX_TERMS) and every pair touching K ≈ 8
    (f(√K x) unresolvable with 1024 nodes) are the 2-D tensor rule; the other pairs stay on the series."""
    k = _kernel_with_high_correlations(3.0)
    assert 2.0 < k[4, 4] < 3.0 and k[1, 1] > 7.0 and max(k[2, 2], k[3, 3]) < 2.5
    ss, _ = pair_expectations("tanh", k, derivative=False, order=40)
    act = get_activation("tanh")
    for i, j in ((4, 5), (0, 1), (1, 3)):
        quad = expect_pair(act.fn, act.fn, k[i, i], k[i, j], k[j, j], 40)[0]
        assert ss[i, j] == pytest.approx(quad, rel=1e-14), (i, j)
    far = expect_pair_reference(act.fn, act.fn, k[2, 2], k[2, 3], k[3, 3], breaks=())
    assert abs(ss[2, 3] - far) <= 1e-10


def test_gelu_closed_form_drives_single_input_moments():
    from dltheory.effective.gaussian import single_moments

    k = np.array([0.1, 1.0, 3.561552813])
    m = single_moments("gelu", k, order=400)
    ss, dd = get_activation("gelu").kernel(k, k, k, True)
    np.testing.assert_array_equal(m["sigma2"], ss)
    quad = single_moments(lambda z: get_activation("gelu").fn(z), k, order=400)
    np.testing.assert_allclose(m["sigma2"], quad["sigma2"], rtol=1e-13)
