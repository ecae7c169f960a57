"""Criticality solver and universality classes (effective-theory.md §4; D2, D8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.activations import ACTIVATION_NAMES, get_activation
from dltheory.effective import (
    CLASS_NAMES,
    critical_point,
    fixed_points,
    kernel_recursion_single,
    single_moments,
    susceptibilities,
    universality_class,
)
from dltheory.errors import DLTheoryError

EXPECTED_CLASS = {
    "linear": "scale-invariant", "relu": "scale-invariant", "leaky_relu": "scale-invariant",
    "erf": "K*=0", "sin": "K*=0", "tanh": "K*=0",
    "gelu": "half-stable", "swish": "half-stable", "silu": "half-stable",
    "softplus": "none", "sigmoid": "none",
    # beyond the §4.2 table [DER]: g'(K) < 0 (cos, gaussian); ratio (2k−1)/k ≠ 1 (z^k, ReLU^k, k ≥ 2)
    "cos": "none", "gaussian": "none", "monomial:3": "none", "relu^2": "none",
    "abrelu:-1,1": "scale-invariant",
}
NO_CRITICAL_POINT = ("step", "sign")  # σ' = 0 almost everywhere: χ_⊥ = 0


def test_every_builtin_is_classified():
    assert set(EXPECTED_CLASS) | set(NO_CRITICAL_POINT) >= set(ACTIVATION_NAMES)
    for name, cls in EXPECTED_CLASS.items():
        assert universality_class(name).name == cls, name
        assert get_activation(name).universality == cls, name  # the registry's class metadata
        assert cls in CLASS_NAMES
    for name in NO_CRITICAL_POINT:
        assert get_activation(name).universality is None
        with pytest.raises(DLTheoryError, match="no critical point"):
            critical_point(name)


@pytest.mark.parametrize(("name", "base"), [("relu*sqrt2", "relu"), ("tanh*2", "tanh"), ("gelu*0.5", "gelu")])
def test_gain_keeps_class_and_divides_critical_cw(name, base):
    """g·σ has the class of σ and critical (C_b, C_W/g²) (§4.1: χ's scale with C_W g²)."""
    cp, cp0 = critical_point(name), critical_point(base)
    g2 = get_activation(name).gain ** 2
    assert cp.universality_class == cp0.universality_class == get_activation(name).universality
    assert cp.cw * g2 == pytest.approx(cp0.cw, rel=1e-9)
    assert cp.cb == pytest.approx(cp0.cb, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "cw"),
    [("relu", 2.0), ("linear", 1.0), ("leaky_relu:0.2", 2 / 1.04), ("leaky_relu", 2 / 1.0001),
     ("tanh", 1.0), ("erf", math.pi / 4), ("sin", 1.0)],
)
def test_critical_weight_variance_scale_invariant_and_k0(name, cw):
    cp = critical_point(name)
    assert cp.cb == 0.0
    assert cp.cw == pytest.approx(cw, rel=1e-14)
    if cp.universality_class == "K*=0":
        assert cp.k_star == 0.0
        assert cp.chi_parallel == pytest.approx(1, abs=1e-12) and cp.chi_perp == pytest.approx(1, abs=1e-12)
    else:
        assert math.isnan(cp.k_star)


@pytest.mark.parametrize(
    ("name", "cb", "cw", "kstar"),
    [("gelu", 0.172922391, 1.983058257, (3 + math.sqrt(17)) / 2), ("swish", 0.555143171, 1.988004678, 14.320173618)],
)
def test_half_stable_constants_nine_digits(name, cb, cw, kstar):
    """D2: §4.2 constants to 9 digits (|Δ| < 6e-10 allows the last printed digit's rounding)."""
    cp = critical_point(name)
    assert abs(cp.cb - cb) < 6e-10
    assert abs(cp.cw - cw) < 6e-10
    assert abs(cp.k_star - kstar) < 6e-10 * kstar
    assert cp.roots == (cp.k_star,)
    assert abs(cp.chi_parallel - 1) < 1e-10 and abs(cp.chi_perp - 1) < 1e-10
    # independent re-evaluation at high order (SWISH needs ~10^3 nodes at K* ≈ 14.3)
    chi_par, chi_perp = susceptibilities(name, cp.k_star, cp.cw, order=1200)
    assert abs(chi_par - 1) < 1e-10 and abs(chi_perp - 1) < 1e-10
    g = single_moments(name, cp.k_star, order=1200)["sigma2"]
    assert abs(cp.cb + cp.cw * g - cp.k_star) < 1e-10 * cp.k_star  # fixed-point identity


def test_gelu_exact_kstar():
    assert abs(critical_point("gelu").k_star - (3 + math.sqrt(17)) / 2) < 1e-11


def test_half_stability_d8():
    """D8: f''(K*) = −2.87e-4 (GELU, stable from above), +5.70e-6 (SWISH, from below)."""
    gelu, swish = critical_point("gelu"), critical_point("swish")
    assert gelu.f_second == pytest.approx(-2.87e-4, rel=2e-3) and gelu.stable_side == "above"
    assert swish.f_second == pytest.approx(5.70e-6, rel=2e-3) and swish.stable_side == "below"
    # 10^4 layers from K* ± 0.1 move K by < 0.02; f'' < 0: K always decreases, never crosses K*
    for dk in (0.1, -0.1):
        kern = kernel_recursion_single(gelu.k_star + dk, 10_000, "gelu", gelu.cb, gelu.cw)
        assert 0 < kern[0] - kern[-1] < 0.02
        assert (kern[-1] - gelu.k_star) * dk > 0


def test_gelu_second_fixed_point_d8():
    gelu = critical_point("gelu")
    roots = fixed_points("gelu", gelu.cb, gelu.cw)
    assert len(roots) == 1 and abs(roots[0] - 3.0350) < 5e-5
    chi_par, chi_perp = susceptibilities("gelu", roots[0], gelu.cw)
    assert abs(chi_par - 0.99991) < 5e-6 and abs(chi_perp - 0.99398) < 5e-6


def test_fixed_points_relu_and_tanh():
    assert list(fixed_points("tanh", 0.0, 1.0)) == [0.0]  # only K = 0 at criticality
    roots = fixed_points("tanh", 0.3, 1.5)
    assert len(roots) == 1
    assert abs(0.3 + 1.5 * float(single_moments("tanh", roots[0])["sigma2"]) - roots[0]) < 1e-12
    k = kernel_recursion_single(1.0, 400, "tanh", 0.3, 1.5)
    assert abs(k[-1] - roots[0]) < 1e-10  # stable fixed point reached by iteration


@pytest.mark.parametrize(
    ("name", "a1", "b1"),
    [("tanh", -2.0, -2.0), ("erf", -2.0, -2.0), ("sin", -1.0, -1.0), ("gelu", 6 / math.pi, None), ("swish", 0.75, 1.0)],
)
def test_taylor_a1_b1(name, a1, b1):
    uc = universality_class(name)
    assert uc.a1 == pytest.approx(a1, rel=1e-14)
    if b1 is not None:
        assert uc.b1 == pytest.approx(b1, rel=1e-14)
    if uc.name == "K*=0":
        assert uc.p_perp == pytest.approx(1.0)
        assert uc.kernel_asymptote(10) == pytest.approx(1 / (-a1 * 10))


def test_numerical_taylor_of_user_callable():
    act = get_activation(lambda z: np.tanh(z) + 0.1 * z * z)
    ref = (0.0, 1.0, 0.2, -2.0)
    assert np.allclose(act.taylor, ref, atol=1e-7)
    assert universality_class(act).a1 == pytest.approx(-2.0 + 0.75 * 0.04, abs=1e-6)


def test_none_class_and_cubic_ratio():
    for name in ("sigmoid", "softplus"):
        cp = critical_point(name)
        assert cp.universality_class == "none" and math.isnan(cp.cw) and math.isnan(cp.cb)
    cubic = get_activation(lambda z: z**3, derivative=lambda z: 3 * z**2, name="cube")
    assert critical_point(cubic).universality_class == "none"
    chi_par, chi_perp = susceptibilities(cubic, np.array([0.5, 2.0]), 1.0)
    np.testing.assert_allclose(chi_par / chi_perp, 5 / 3, rtol=1e-12)


def test_softplus_ratio_range_and_sigmoid_below_one():
    k = np.geomspace(1e-3, 30, 40)
    cp, cq = susceptibilities("softplus", k, 1.0)
    assert np.all(cp / cq > 1.0)
    sp, sq = susceptibilities("sigmoid", k, 1.0)
    assert np.all(sp / sq <= 1.0)


def test_kernel_asymptote_only_for_k0_class():
    with pytest.raises(DLTheoryError, match="K\\*=0"):
        universality_class("relu").kernel_asymptote(10)


def test_bad_inputs_raise():
    with pytest.raises(DLTheoryError, match="activation"):
        critical_point("tanhh")
    with pytest.raises(DLTheoryError, match="cw"):
        susceptibilities("tanh", 1.0, 0.0)
    with pytest.raises(DLTheoryError, match="cb"):
        fixed_points("tanh", -0.1, 1.0)
    with pytest.raises(DLTheoryError, match="slope"):
        get_activation("leaky_relu:abc")
    with pytest.raises(DLTheoryError, match="accepted"):
        get_activation(42)
