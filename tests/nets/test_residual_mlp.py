"""Residual MLP Monte Carlo (effective-theory.md §8)."""

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.nets.random_mlp import sample_random_mlps
from dltheory.nets.residual_mlp import sample_residual_mlps


def test_gamma_zero_reproduces_plain_mlp():
    x = np.array([[1.0, -1.0, 0.5], [0.2, 0.3, 1.0]])
    a = sample_residual_mlps(x, 3, 5, 0.0, "tanh", 0.1, 1.2, 50, generator=7, method="weights")
    b = sample_random_mlps(x, 3, 5, "tanh", 0.1, 1.2, 50, generator=7)
    np.testing.assert_allclose(a.second_moment, b.second_moment, rtol=1e-12)
    np.testing.assert_allclose(a.pair_fourth, b.pair_fourth, rtol=1e-12)


def test_linear_residual_kernel_mean():
    """Linear σ: K' = (γ² + C_W) K exactly in expectation."""
    st = sample_residual_mlps(np.ones((1, 4)), 4, 16, 0.6, "linear", 0.0, 0.64, 4000, first_cw=1.0, generator=1)
    m = st.second_moment[:, :, 0, 0]
    mean, se = m.mean(0), m.std(0, ddof=1) / np.sqrt(len(m))
    assert np.all(np.abs(mean - np.ones(4)) <= 4.5 * se + 1e-12)


@pytest.mark.parametrize("kwargs", [{"width": [4, 5, 4]}, {"gamma": 1.0}, {"gamma": -0.2}, {"width": 0},
                                    {"cw": 0.0}])
def test_bad_input(kwargs):
    args = {"x": np.ones((1, 2)), "depth": 3, "width": 4, "gamma": 0.5, "n_networks": 10, "generator": 0}
    args.update(kwargs)
    with pytest.raises(DLTheoryError):
        sample_residual_mlps(**args)


def test_gram_sampling_matches_weight_sampling_in_distribution():
    """Two-input tanh: Gram-space and explicit-weight ensembles agree on E[z_a z_b] and V (layer 3)."""
    x = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]])
    a = sample_residual_mlps(x, 3, 6, 0.4, "tanh", 0.2, 1.1, 8000, generator=1, method="gram")
    b = sample_residual_mlps(x, 3, 6, 0.4, "tanh", 0.2, 1.1, 8000, generator=2, method="weights")
    for stat in (lambda s: s.second_moment[:, 2], lambda s: s.pair_fourth[:, 2]):
        va, vb = stat(a), stat(b)
        diff = va.mean(0) - vb.mean(0)
        se = np.sqrt(va.var(0, ddof=1) / len(va) + vb.var(0, ddof=1) / len(vb))
        assert np.all(np.abs(diff) <= 4.5 * se)
