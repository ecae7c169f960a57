"""NNGP / NTK recursions (effective-theory.md §3.1, §4.3-4.4, §6.2, §6.6; D4, D5, D9, D11)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.activations import get_activation
from dltheory.effective import (
    kernel_recursion,
    kernel_recursion_single,
    ntk_recursion,
    ntk_recursion_single,
    pair_expectations,
    universality_class,
)
from dltheory.errors import DLTheoryError


def _inputs(seed: int, p: int, n0: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(p, n0))


def test_linear_network_kernel_is_exact_geometric_sum():
    x = _inputs(0, 5, 7)
    gram = x @ x.T / 7
    cb, cw, depth = 0.3, 0.8, 12
    kern = kernel_recursion(x, depth, "linear", cb, cw)
    for ell in range(1, depth + 1):
        expected = cw**ell * gram + cb * (1 - cw**ell) / (1 - cw)
        np.testing.assert_allclose(kern[ell - 1], expected, rtol=1e-13)


def test_per_layer_hyperparameters_used_in_order():
    x = _inputs(1, 3, 4)
    gram = x @ x.T / 4
    cb, cw = [0.1, 0.2, 0.0], [1.0, 2.0, 0.5]
    kern = kernel_recursion(x, 3, "linear", cb, cw)
    np.testing.assert_allclose(kern[2], 0.0 + 0.5 * (0.2 + 2.0 * (0.1 + 1.0 * gram)), rtol=1e-13)


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "swish", "erf", "sin"])
def test_single_input_multi_equals_one_input(name):
    """D11: P = 1 multi-input recursion equals the one-input recursion."""
    x = np.array([[0.9, -1.2, 0.4]])
    cb, cw, lb, lw = 0.1, 1.3, 0.7, 1.1
    kern, theta = ntk_recursion(x, 8, name, cb, cw, lb, lw)
    k1 = cb + cw * float((x @ x.T)[0, 0]) / 3
    ks, ts = ntk_recursion_single(k1, 8, name, cb, cw, lb, lw)
    np.testing.assert_allclose(kern[:, 0, 0], ks, rtol=1e-12)
    np.testing.assert_allclose(theta[:, 0, 0], ts, rtol=1e-12)
    np.testing.assert_allclose(kernel_recursion_single(k1, 8, name, cb, cw), ks, rtol=0, atol=0)


def _loop_reference(x, depth, name, cb, cw, lb, lw):
    """Straightforward per-pair loop over 2x2 kernels (independent of the vectorised path)."""
    p, n0 = x.shape
    kern = cb + cw * x @ x.T / n0
    theta = lb + lw * x @ x.T / n0
    for _ in range(depth - 1):
        new_k, new_t = np.empty_like(kern), np.empty_like(theta)
        for a in range(p):
            for b in range(p):
                sub = kern[np.ix_([a, b], [a, b])]
                ss, dd = pair_expectations(name, sub, method="quadrature", order=300)
                new_k[a, b] = cb + cw * ss[0, 1]
                new_t[a, b] = lb + lw * ss[0, 1] + cw * dd[0, 1] * theta[a, b]
        kern, theta = new_k, new_t
    return kern, theta


@pytest.mark.parametrize("name", ["gelu", "erf", "sin"])
def test_vectorised_recursion_matches_per_pair_loop(name):
    x = _inputs(3, 4, 3)
    kern, theta = ntk_recursion(x, 4, name, 0.2, 1.5, 0.5, 1.0)
    rk, rt = _loop_reference(x, 4, name, 0.2, 1.5, 0.5, 1.0)
    np.testing.assert_allclose(kern[-1], rk, rtol=0, atol=1e-10)
    np.testing.assert_allclose(theta[-1], rt, rtol=0, atol=1e-9)


def test_tanh_kernel_flow_d4_and_one_over_ell_law():
    """D4: tanh at criticality from K^(1) = 1: K ℓ = 0.5801, 0.5121, 0.5017, 0.5009."""
    kern = kernel_recursion_single(1.0, 2000, "tanh", 0.0, 1.0)
    for ell, target in [(10, 0.5801), (100, 0.5121), (1000, 0.5017), (2000, 0.5009)]:
        assert abs(kern[ell - 1] * ell - target) <= 5e-5
    uc = universality_class("tanh")
    ratio = kern[[9, 99, 999, 1999]] / uc.kernel_asymptote(np.array([10, 100, 1000, 2000]))
    assert np.all(np.diff(ratio) < 0) and abs(ratio[-1] - 1) < 2 * math.log(2000) / 2000


def test_sin_and_erf_kernel_flow_d4():
    ksin = kernel_recursion_single(1.0, 2000, "sin", 0.0, 1.0)
    kerf = kernel_recursion_single(1.0, 2000, "erf", 0.0, math.pi / 4)
    assert abs(ksin[-1] * 2000 - 0.9987) <= 5e-5
    assert abs(kerf[-1] * 2000 - 0.5005) <= 5e-5


def test_relu_angle_d5():
    """D5: from ψ^(1) = π/2, ψ ℓ = 8.54, 9.30, 9.41 at ℓ = 10², 10³, 10⁴ (→ 3π)."""
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    kern = kernel_recursion(x, 10_000, "relu", 0.0, 2.0)
    psi = np.arccos(kern[:, 0, 1] / np.sqrt(kern[:, 0, 0] * kern[:, 1, 1]))
    assert abs(psi[0] - math.pi / 2) < 1e-15
    for ell, target in [(100, 8.54), (1000, 9.30), (10_000, 9.41)]:
        assert abs(psi[ell - 1] * ell - target) <= 5e-3
    np.testing.assert_allclose(np.diagonal(kern, axis1=1, axis2=2), 1.0, rtol=1e-12)  # diagonal fixed


@pytest.mark.parametrize("name", ["relu", "leaky_relu:0.2", "linear"])
def test_scale_invariant_ntk_linear_in_depth(name):
    """§6.6: at criticality Θ^(ℓ) = ℓ(λ_b + λ_W A_2 K*) for every input."""
    act = get_activation(name)
    x = _inputs(4, 6, 5)
    lb, lw = 0.4, 1.7
    kern, theta = ntk_recursion(x, 30, act, 0.0, 1.0 / act.a2, lb, lw)
    kstar = np.diag(kern[0])
    np.testing.assert_allclose(np.diagonal(kern, axis1=1, axis2=2), np.broadcast_to(kstar, (30, 6)), rtol=1e-12)
    ell = np.arange(1, 31)[:, None]
    np.testing.assert_allclose(np.diagonal(theta, axis1=1, axis2=2), ell * (lb + lw * act.a2 * kstar), rtol=1e-12)


def test_tanh_learning_rate_prescription_d9():
    """D9: λ_b = λ̃_b/ℓ, λ_W = λ̃_W, K^(1) = 1: Θ^(4000) = 1.498 (λ̃_b = 1), 0.5008 (λ̃_b = 0)."""
    depth = 4000
    ell = np.arange(1, depth + 1)
    _, t1 = ntk_recursion_single(1.0, depth, "tanh", 0.0, 1.0, 1.0 / ell, 1.0)
    _, t0 = ntk_recursion_single(1.0, depth, "tanh", 0.0, 1.0, 0.0, 1.0)
    assert abs(t1[-1] - 1.498) <= 5e-4
    assert abs(t0[-1] - 0.5008) <= 5e-5


def test_quadrature_path_matches_closed_path_for_erf():
    x = _inputs(6, 4, 3)
    kc, tc = ntk_recursion(x, 5, "erf", 0.1, 1.2)
    kq, tq = ntk_recursion(x, 5, "erf", 0.1, 1.2, method="quadrature", order=300)
    np.testing.assert_allclose(kq, kc, rtol=0, atol=1e-10)
    np.testing.assert_allclose(tq, tc, rtol=0, atol=1e-10)


def test_user_callable_activation_matches_builtin():
    x = _inputs(7, 3, 2)
    k_builtin = kernel_recursion(x, 4, "tanh", 0.1, 1.5)
    k_user = kernel_recursion(x, 4, lambda z: np.tanh(z), 0.1, 1.5)
    np.testing.assert_allclose(k_user, k_builtin, rtol=0, atol=1e-12)
    k_quad = kernel_recursion(x, 4, "tanh", 0.1, 1.5, method="quadrature", order=300)  # the 2-D oracle
    np.testing.assert_allclose(k_user, k_quad, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "nope"}, "activation"),
        ({"cw": 0.0}, "cw"),
        ({"cw": -1.0}, "cw"),
        ({"cb": -0.1}, "cb"),
        ({"cb": [0.0, 0.1]}, "cb"),
        ({"cw": np.inf}, "cw"),
        ({"depth": 0}, "depth"),
        ({"depth": 2.5}, "depth"),
        ({"x": np.array([[1.0, np.nan]])}, "x"),
        ({"x": np.ones(3)}, "x"),
        ({"x": np.ones((2, 2, 2))}, "x"),
        ({"x": np.ones((0, 3))}, "x"),
        ({"order": 1, "activation": "tanh"}, "order"),
        ({"lambda_b": -1.0}, "lambda_b"),
        ({"method": "magic"}, "method"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    args = {"x": np.ones((2, 3)), "depth": 3, "activation": "relu", "cb": 0.0, "cw": 2.0}
    args.update(kwargs)
    with pytest.raises(DLTheoryError, match=match):
        ntk_recursion(**args)


def test_bad_single_inputs_raise():
    with pytest.raises(DLTheoryError, match="k1"):
        kernel_recursion_single(-1.0, 3, "tanh")
    with pytest.raises(DLTheoryError, match="depth"):
        kernel_recursion_single(1.0, 0, "tanh")
