"""NTK forward equation vs autodiff, and exact ReLU NTK statistics (effective-theory.md §6.1-6.6, §10.3 M7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dltheory.errors import DLTheoryError
from dltheory.nets import (
    empirical_ntk_autodiff,
    estimate_ntk_fluctuations,
    estimate_ntk_mean,
    make_mlp,
    mlp_weights,
    ntk_forward_equation,
    ntk_from_weights,
    sample_random_mlps,
)

Z = 4.5


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _assert_within(mc, se, theory) -> None:
    mc, se, theory = np.broadcast_arrays(np.asarray(mc), np.asarray(se), np.asarray(theory))
    assert np.all(se > 0), se
    dev = np.abs(mc - theory) / se
    assert np.all(dev <= Z), f"max |MC-theory|/SE = {dev.max():.2f}; mc={mc}, theory={theory}, se={se}"


@pytest.mark.parametrize(
    ("activation", "widths", "cb", "cw", "lb", "lw"),
    [
        ("tanh", [5, 6, 3], 0.3, 1.5, [1.0, 0.5, 2.0], [0.7, 1.0, 1.3]),
        ("relu", [7, 4], 0.1, 2.0, 1.0, 1.0),
        ("gelu", [4, 8, 5, 2], [0.0, 0.2, 0.1, 0.3], 1.9, 0.3, [1.0, 2.0, 0.5, 1.0]),
    ],
)
def test_forward_equation_equals_autodiff(activation, widths, cb, cw, lb, lw):
    """§6.1 forward equation == torch.func Jacobian NTK, all input pairs, to 1e-10 (float64)."""
    g = _gen(11)
    models = [make_mlp(3, widths, activation, cb, cw, generator=g, dtype=torch.float64) for _ in range(3)]
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    weights, biases = mlp_weights(models)
    zs, hs = ntk_from_weights(x, weights, biases, activation, lb, lw)
    for k, model in enumerate(models):
        h_auto = empirical_ntk_autodiff(model, x, lb, lw)
        assert h_auto.shape == (widths[-1], widths[-1], 4, 4)
        assert torch.allclose(hs[-1][k], h_auto, rtol=0, atol=1e-10)
        assert torch.allclose(zs[-1][k].T, model(x), rtol=0, atol=1e-12)
        assert float(h_auto.abs().max()) > 1e-2  # non-trivial


def test_relu_criticality_exact_ntk_facts_m7():
    """ReLU, C_W=2, C_b=0, x=(1,1,1,1), λ=1 (§10.3 M7): Θ^(ℓ)=ℓθ_1=2ℓ; layer 2: A=13, B=8, D=14, F=8, V=20.

    Layer 2 values are exact at any width (§6.4); Θ is exact at every width and depth (§6.4, §6.6).
    """
    x = np.ones((1, 4))
    stats = ntk_forward_equation(x, 3, 24, "relu", 0.0, 2.0, 1.0, 1.0, 12000, generator=_gen(12))
    theta, theta_se = estimate_ntk_mean(stats)
    np.testing.assert_allclose(theta[0, 0, 0], 2.0, rtol=1e-13)  # layer 1 is deterministic
    _assert_within(theta[1:, 0, 0], theta_se[1:, 0, 0], [4.0, 6.0])
    fl = estimate_ntk_fluctuations(stats)
    for name, value in {"A": 13.0, "B": 8.0, "D": 14.0, "F": 8.0, "V": 20.0}.items():
        est, se = fl[name]
        _assert_within(est[1, 0], se[1, 0], value)
        assert abs(est[0, 0]) < 1e-8 or name == "V"  # no fluctuations of Ĥ at layer 1


def test_relu_exact_mean_ntk_off_criticality():
    """Scale-invariant σ: E Ĥ_ii = Θ exactly (§6.4), with the exact metric G' = C_b + C_W G/2 (ReLU)."""
    x = np.array([[0.5, -1.0, 2.0]])
    cb, cw, lb, lw = 0.3, 1.7, [0.5, 1.0, 2.0, 1.0], [1.0, 0.4, 1.5, 1.0]
    stats = ntk_forward_equation(x, 4, 12, "relu", cb, cw, lb, lw, 6000, generator=_gen(13))
    g = cb + cw * float(x[0] @ x[0]) / 3
    theta = lb[0] + lw[0] * float(x[0] @ x[0]) / 3
    expected = [theta]
    for layer in range(1, 4):
        theta = lb[layer] + lw[layer] * g / 2 + cw * theta / 2
        g = cb + cw * g / 2
        expected.append(theta)
    mean, se = estimate_ntk_mean(stats)
    _assert_within(mean[1:, 0, 0], se[1:, 0, 0], expected[1:])


def test_ntk_sampler_draws_the_same_networks_as_the_kernel_sampler():
    x = np.array([[1.0, 0.0], [0.3, 0.7]])
    a = ntk_forward_equation(x, 3, 6, "tanh", 0.1, 1.3, 1.0, 1.0, 40, generator=_gen(14), chunk_size=16)
    b = sample_random_mlps(x, 3, 6, "tanh", 0.1, 1.3, 40, generator=_gen(14), chunk_size=16)
    np.testing.assert_allclose(a.kernel.second_moment, b.second_moment, rtol=1e-13)
    np.testing.assert_allclose(a.kernel.pair_fourth, b.pair_fourth, rtol=1e-12)
    assert a.ntk_mean.shape == (40, 3, 2, 2) and a.ntk_offdiag_zz.shape == (40, 3, 2)
    np.testing.assert_allclose(a.ntk_mean, np.swapaxes(a.ntk_mean, -1, -2), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [{"depth": 0}, {"width": [3]}, {"lambda_b": -1.0}, {"lambda_w": [1.0, np.nan]}, {"cw": -2.0},
     {"x": np.ones((2, 2, 2))}, {"x": np.array([[np.nan, 1.0]])}, {"generator": "seed"}],
)
def test_bad_input_raises(kwargs):
    args = {"x": np.ones((1, 2)), "depth": 2, "width": 3, "n_networks": 4, "generator": _gen(0)}
    args.update(kwargs)
    with pytest.raises(DLTheoryError):
        ntk_forward_equation(**args)


def test_make_mlp_init_and_bad_input():
    model = make_mlp(50, [400, 300], "relu", 0.5, 2.0, generator=_gen(15), dtype=torch.float64)
    w1, w2 = model[0].weight, model[2].weight
    assert w1.dtype == torch.float64 and len(model) == 3
    default = make_mlp(5, [4, 3], generator=_gen(0))  # like any nn.Module: the default dtype
    assert default[0].weight.dtype == torch.get_default_dtype()
    assert default(torch.randn(2, 5)).shape == (2, 3)
    # variance of 20000 / 120000 Gaussian entries: relative SE sqrt(2/N)
    assert abs(float(w1.detach().var()) * 50 / 2.0 - 1) < 4.5 * np.sqrt(2 / w1.numel())
    assert abs(float(w2.detach().var()) * 400 / 2.0 - 1) < 4.5 * np.sqrt(2 / w2.numel())
    assert abs(float(model[0].bias.detach().var()) / 0.5 - 1) < 4.5 * np.sqrt(2 / 400)
    with pytest.raises(DLTheoryError):
        make_mlp(0, [3], generator=_gen(0))
    with pytest.raises(DLTheoryError):
        make_mlp(3, [], generator=_gen(0))
    with pytest.raises(DLTheoryError):
        make_mlp(3, [4, 2], cb=-1.0, generator=_gen(0))
