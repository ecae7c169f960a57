"""Per-layer / residual kernel and NTK recursion (effective-theory.md §3.1, §6.2, §8)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.effective import four_point_single, network_ntk_recursion, ntk_recursion, residual_four_point
from dltheory.errors import DLTheoryError


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((4, 7))


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "erf"])
def test_plain_network_equals_ntk_recursion(x, activation):
    depth = 4
    cw, cb, lb, lw = [1.5, 2.0, 1.2, 0.9], [0.1, 0.0, 0.3, 0.2], [1.0, 0.5, 0.0, 2.0], [1.0, 2.0, 1.5, 0.5]
    k_ref, t_ref = ntk_recursion(x, depth, activation, cb=cb, cw=cw, lambda_b=lb, lambda_w=lw)
    k, t = network_ntk_recursion(x, [None] + [activation] * (depth - 1), cw, cb, 0.0, lb, lw)
    np.testing.assert_allclose(k, k_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(t, t_ref, rtol=1e-13, atol=1e-14)


def test_residual_one_input_matches_residual_four_point():
    """K' = γ²K + C_b + C_W g(K) (§8) for one input, against the existing one-input residual code."""
    x = np.array([[1.0, -2.0, 0.5, 1.5]])
    gamma, cb, cw = 0.6, 0.1, 0.8
    k1 = 0.1 + 1.3 * float((x @ x.T)[0, 0]) / 4
    ref = residual_four_point(k1, 6, "tanh", gamma, cb, cw).kernel
    k, _ = network_ntk_recursion(x, [None] + ["tanh"] * 5, [1.3] + [cw] * 5, [0.1] + [cb] * 5, gamma, ntk=False)
    # the multi-input path takes Gaussian expectations by the Hermite series, the one-input residual code
    # by 1-D quadrature; the two agree to their stated accuracy (~1e-10), not to rounding
    np.testing.assert_allclose(k[:, 0, 0], ref, rtol=1e-9)


def test_linear_residual_closed_form(x):
    """σ = identity: K^(ℓ) = (γ² + C_W) K^(ℓ-1) + C_b and Θ^(ℓ) = (γ² + C_W) Θ^(ℓ-1) + λ_b + λ_W K^(ℓ-1)."""
    gamma, cw, cb, lb, lw = 0.5, 0.7, 0.2, 0.3, 1.1
    k, t = network_ntk_recursion(x, [None, "linear", "linear"], cw, cb, gamma, lb, lw)
    gram = x @ x.T / x.shape[1]
    k_exp, t_exp = cb + cw * gram, lb + lw * gram
    for ell in range(1, 3):
        k_prev = k_exp
        k_exp = (gamma**2 + cw) * k_prev + cb
        t_exp = (gamma**2 + cw) * t_exp + lb + lw * k_prev
        np.testing.assert_allclose(k[ell], k_exp, rtol=1e-13)
        np.testing.assert_allclose(t[ell], t_exp, rtol=1e-13)


def test_mixed_activations_and_callable(x):
    """Per-layer activations: a NumPy callable equal to tanh gives the registry's tanh values (quadrature)."""
    k_ref, t_ref = network_ntk_recursion(x, [None, "relu", "tanh"], 1.5, 0.1)
    k, t = network_ntk_recursion(x, [None, "relu", lambda z: np.tanh(z)], 1.5, 0.1)
    np.testing.assert_allclose(k, k_ref, rtol=1e-9)
    np.testing.assert_allclose(t, t_ref, rtol=1e-6)  # derivative by finite differences for a callable


def test_relu_single_input_critical_kernel_is_constant():
    x = np.ones((1, 4))
    k, t = network_ntk_recursion(x, [None] + ["relu"] * 5, 2.0, 0.0, ntk=True, lambda_b=0.0, lambda_w=1.0)
    np.testing.assert_allclose(k[:, 0, 0], 2.0, rtol=1e-14)
    # one input, scale-invariant, C_W = 2: Θ^(ℓ) = ℓ λ_W A_2 K (§6.6 with λ_b = 0, θ_1 = λ_W |x|²/n_0 = 1)
    np.testing.assert_allclose(t[:, 0, 0], np.arange(1, 7) * 1.0, rtol=1e-14)
    fp = four_point_single(2.0, 6, "relu", cb=0.0, cw=2.0)
    np.testing.assert_allclose(fp.kernel, k[:, 0, 0], rtol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    (dict(gamma=[0.5, 0.5, 0.5]), "gamma\\[0\\]"),
    (dict(gamma=[0.0, np.inf, 0.0]), "gamma"),
    (dict(cw=-1.0), "cw"),
    (dict(cb=[0.0, -0.1, 0.0]), "cb"),
    (dict(lambda_w=[1.0, 1.0]), "lambda_w"),
])
def test_bad_arguments(x, kwargs, match):
    args = dict(cw=1.0, cb=0.0)
    args.update(kwargs)
    with pytest.raises(DLTheoryError, match=match):
        network_ntk_recursion(x, [None, "relu", "relu"], **args)


def test_bad_inputs():
    with pytest.raises(DLTheoryError, match="x"):
        network_ntk_recursion(np.ones(3), [None, "relu"], 1.0)
    with pytest.raises(DLTheoryError, match="activations"):
        network_ntk_recursion(np.ones((2, 3)), [], 1.0)
