"""Analytic recursions vs Monte Carlo ensembles of finite-width networks, five activations.

At layer 2 the mean kernel and the mean NTK are exact at any width: given layer 1 (exactly Gaussian
with kernel K^(1)), averaging over W^(2) gives E K̂^(2) = C_b + C_W⟨σσ⟩_{K^(1)} and
E Ĥ^(2) = λ_b + λ_W⟨σσ⟩ + C_W⟨σ'σ'⟩Θ^(1) (effective-theory.md §3.1, §6.2). So these tests compare
with no 1/n truncation at all, within 4.5 Monte Carlo standard errors (SE from the ensemble).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dltheory.effective import kernel_recursion, ntk_recursion
from dltheory.nets import estimate_kernel, estimate_ntk_mean, ntk_forward_equation, sample_random_mlps

X = np.array([[1.0, 0.5, -0.3, 0.8], [0.2, -1.0, 0.7, 0.1], [-0.6, 0.4, 1.1, -0.9]])
CASES = [("relu", 0.1, 2.0), ("tanh", 0.3, 1.5), ("gelu", 0.17, 1.98), ("erf", 0.0, 1.2), ("swish", 0.5, 1.99)]


@pytest.mark.parametrize("activation, cb, cw", CASES)
def test_layer2_kernel_and_ntk_are_exact_at_finite_width(activation, cb, cw):
    gen = torch.Generator().manual_seed(2024)
    st = ntk_forward_equation(X, 2, 24, activation, cb, cw, lambda_b=0.7, lambda_w=1.3, n_networks=3000, generator=gen)
    k_th, theta_th = ntk_recursion(X, 2, activation, cb, cw, lambda_b=0.7, lambda_w=1.3)
    k_mc, k_se = estimate_kernel(st.kernel)
    h_mc, h_se = estimate_ntk_mean(st)
    assert np.all(np.abs(k_mc[1] - k_th[1]) <= 4.5 * k_se[1])
    assert np.all(np.abs(h_mc[1] - theta_th[1]) <= 4.5 * h_se[1])


@pytest.mark.parametrize("activation, cb, cw", [("relu", 0.0, 2.0), ("linear", 0.0, 1.0), ("leaky_relu:0.2", 0.0, 2 / 1.04)])
def test_scale_invariant_kernel_diagonal_exact_at_every_depth(activation, cb, cw):
    gen = torch.Generator().manual_seed(7)
    st = sample_random_mlps(X, 8, 32, activation, cb, cw, n_networks=3000, generator=gen)
    k_mc, k_se = estimate_kernel(st)
    k_th = kernel_recursion(X, 8, activation, cb, cw)
    d = np.arange(3)
    assert np.all(np.abs(k_mc[:, d, d] - k_th[:, d, d]) <= 4.5 * k_se[:, d, d])


def test_detects_a_wrong_theory():
    """Power check: the same ensemble rejects a kernel off by 3% (so the tests above can fail)."""
    gen = torch.Generator().manual_seed(2024)
    st = sample_random_mlps(X, 2, 24, "tanh", 0.3, 1.5, n_networks=3000, generator=gen)
    k_mc, k_se = estimate_kernel(st)
    k_th = kernel_recursion(X, 2, "tanh", 0.3, 1.5)
    assert np.any(np.abs(k_mc[1] - 1.03 * k_th[1]) > 4.5 * k_se[1])


@pytest.mark.slow
def test_tanh_deep_kernel_extrapolates_to_theory():
    from dltheory.stats import fit_inverse_width

    widths = np.array([32.0, 64.0, 128.0, 256.0])
    means, ses = [], []
    for n in widths:
        st = sample_random_mlps(X, 10, int(n), "tanh", 0.0, 1.0, n_networks=2000, generator=int(n))
        m, s = estimate_kernel(st)
        means.append(m)
        ses.append(s)
    y0, se0, *_ = fit_inverse_width(widths, np.array(means), np.array(ses))
    th = kernel_recursion(X, 10, "tanh", 0.0, 1.0)
    assert np.all(np.abs(y0 - th) <= 4.5 * se0)
