"""Random-MLP ensembles vs exact finite-width results (effective-theory.md §3.2, §5.1, §5.4, §10.1).

Closed forms are computed inline (no dependency on dltheory.effective). Tolerance: 4.5 SE
(jackknife SE for nonlinear functionals), §10.1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dltheory.errors import DLTheoryError
from dltheory.nets import (
    estimate_excess_kurtosis,
    estimate_four_point_vertex,
    estimate_kernel,
    sample_random_mlps,
)
from dltheory.stats import jackknife

Z = 4.5


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _assert_within(mc: np.ndarray, se: np.ndarray, theory: np.ndarray) -> None:
    mc, se, theory = np.broadcast_arrays(np.asarray(mc), np.asarray(se), np.asarray(theory))
    assert np.all(se > 0), se
    dev = np.abs(mc - theory) / se
    assert np.all(dev <= Z), f"max |MC-theory|/SE = {dev.max():.2f}; mc={mc}, theory={theory}, se={se}"


def test_deep_linear_exact_kernel_and_kurtosis():
    """Deep linear, C_b=0: E z^2 = C_W^{ℓ-1} K^(1), E z^4/(3(E z^2)^2) = (1+2/n)^{ℓ-1} (§5.4)."""
    n, depth, cw = 16, 5, 1.3
    x = np.array([[1.0, -0.5, 2.0]])
    stats = sample_random_mlps(x, depth, n, "linear", 0.0, cw, 20000, generator=_gen(1))
    k1 = cw * float(x[0] @ x[0]) / 3
    ell = np.arange(1, depth + 1)
    k, k_se = estimate_kernel(stats)
    _assert_within(k[:, 0, 0], k_se[:, 0, 0], k1 * cw ** (ell - 1))
    ratio, ratio_se = jackknife(lambda m4, m2: m4 / (3 * m2**2), stats.fourth_moment[:, :, 0],
                                stats.second_moment[:, :, 0, 0])
    _assert_within(ratio, ratio_se, (1 + 2 / n) ** (ell - 1))
    # the cross-neuron form gives the same exact ratio (§5.4)
    pair, pair_se = jackknife(lambda p, m2: p / m2**2, stats.pair_fourth[:, :, 0], stats.second_moment[:, :, 0, 0])
    _assert_within(pair, pair_se, (1 + 2 / n) ** (ell - 1))


def test_deep_linear_two_input_kernel_with_bias():
    """Deep linear: E z_a z_b obeys K' = C_b + C_W K exactly at any width (§5.4), per input pair."""
    x = np.array([[1.0, 0.0, 1.0], [0.5, -1.0, 2.0]])
    cb, cw, depth = 0.4, 0.9, 4
    stats = sample_random_mlps(x, depth, [8, 12, 8, 5], "linear", cb, cw, 8000, generator=_gen(2))
    k = cb + cw * x @ x.T / 3
    theory = []
    for _ in range(depth):
        theory.append(k)
        k = cb + cw * k
    mean, se = estimate_kernel(stats)
    _assert_within(mean, se, np.array(theory))


def test_relu_exact_kernel_kurtosis_and_vertex():
    """ReLU, C_b=0: E z^2 = (C_W/2)^{ℓ-1} K^(1); kurtosis ratio (1+5/n)^{ℓ-1}; V exact (§5.4)."""
    n, depth, cw = 32, 4, 2.0
    x = np.ones((1, 4))
    stats = sample_random_mlps(x, depth, n, "relu", 0.0, cw, 20000, generator=_gen(3))
    ell = np.arange(1, depth + 1)
    k_th = (cw / 2) ** (ell - 1) * cw * 1.0
    k, k_se = estimate_kernel(stats)
    _assert_within(k[:, 0, 0], k_se[:, 0, 0], k_th)
    exk, exk_se = estimate_excess_kurtosis(stats)
    _assert_within(exk[:, 0] / 3 + 1, exk_se[:, 0] / 3, (1 + 5 / n) ** (ell - 1))
    v, v_se = estimate_four_point_vertex(stats)
    # V/n_{ℓ-1} = Cov(z_i^2, z_j^2) = (E z^2)^2 [(1+5/n)^{ℓ-1} - 1]; layer 1 has independent neurons
    v_th = n * k_th**2 * ((1 + 5 / n) ** (ell - 1) - 1)
    _assert_within(v[1:, 0], v_se[1:, 0], v_th[1:])
    _assert_within(v[0, 0], v_se[0, 0], 0.0)
    assert abs(v_th[1] - 20.0) < 1e-12  # M7: V^(2) = 20 at x=(1,1,1,1), C_W=2


def test_relu_unequal_widths_kurtosis_product():
    """Unequal widths: E[z_i^2 z_j^2]/(E z^2)^2 = Π_k (1+5/n_k) over hidden layers (§5.4)."""
    widths = [8, 24, 12, 6]
    x = np.array([[0.3, -1.2]])
    stats = sample_random_mlps(x, 4, widths, "relu", 0.0, 1.5, 20000, generator=_gen(4))
    ratio, se = jackknife(lambda p, m2: p / m2**2, stats.pair_fourth[:, :, 0], stats.second_moment[:, :, 0, 0])
    theory = np.cumprod([1.0] + [1 + 5 / w for w in widths[:-1]])
    _assert_within(ratio, se, theory)


def _relu_arccos(k11: float, k22: float, k12: float) -> float:
    """⟨relu(z1) relu(z2)⟩ under N(0, K) (§3.2, a_+=1, a_-=0)."""
    rho = k12 / math.sqrt(k11 * k22)
    psi = math.acos(max(-1.0, min(1.0, rho)))
    return math.sqrt(k11 * k22) / (2 * math.pi) * (math.sin(psi) + (math.pi - psi) * math.cos(psi))


def test_relu_two_input_arccos_kernel_layer_two():
    """Layer 2 of a ReLU net: E z_a z_b = C_b + C_W ⟨σ_a σ_b⟩_{K^(1)} exactly at any width (§3.1-3.2)."""
    x = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.5, 0.2, 1.0]])
    cb, cw = 0.2, 1.8
    stats = sample_random_mlps(x, 2, 24, "relu", cb, cw, 10000, generator=_gen(5))
    k1 = cb + cw * x @ x.T / 3
    k2 = np.array([[cb + cw * _relu_arccos(k1[a, a], k1[b, b], k1[a, b]) for b in range(3)] for a in range(3)])
    mean, se = estimate_kernel(stats)
    _assert_within(mean[0], se[0], k1)
    _assert_within(mean[1], se[1], k2)


def test_full_four_point_matches_one_input_pairs():
    x = np.array([[1.0, 0.5], [-0.3, 1.0]])
    stats = sample_random_mlps(x, 2, 6, "tanh", 0.1, 1.2, 50, generator=_gen(6), full_four_point=True)
    diag = np.einsum("nlaaaa->nla", stats.pair_four_point)
    np.testing.assert_allclose(diag, stats.pair_fourth, rtol=1e-12)
    assert stats.pair_four_point.shape == (50, 2, 2, 2, 2, 2)


def test_chunking_and_seed_reproducibility():
    x = np.array([[1.0, 2.0]])
    a = sample_random_mlps(x, 3, 5, "gelu", 0.1, 1.0, 30, generator=_gen(7), chunk_size=30)
    b = sample_random_mlps(x, 3, 5, "gelu", 0.1, 1.0, 30, generator=_gen(7), chunk_size=30)
    c = sample_random_mlps(x, 3, 5, "gelu", 0.1, 1.0, 30, generator=_gen(7), chunk_size=7)
    np.testing.assert_array_equal(a.second_moment, b.second_moment)
    assert c.second_moment.shape == a.second_moment.shape and np.all(np.isfinite(c.pair_fourth))
    assert a.fan_in == (2, 5, 5) and a.n_networks == 30 and a.depth == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"depth": 0},
        {"width": 0},
        {"width": [4, 4]},
        {"cb": -0.1},
        {"cw": [1.0, -1.0, 1.0]},
        {"cw": float("nan")},
        {"x": np.array([1.0, 2.0])},
        {"x": np.array([[1.0, np.inf]])},
        {"x": np.zeros((0, 3))},
        {"n_networks": 0},
        {"activation": "relu6"},
        {"generator": None},
        {"chunk_size": 0},
        {"dtype": torch.int64},
    ],
)
def test_bad_input_raises(kwargs):
    args = {"x": np.ones((1, 2)), "depth": 3, "width": 4, "activation": "relu", "cb": 0.0, "cw": 1.0,
            "n_networks": 5, "generator": _gen(0)}
    args.update(kwargs)
    with pytest.raises(DLTheoryError):
        sample_random_mlps(**args)
