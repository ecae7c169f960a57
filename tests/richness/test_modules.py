"""Applying parametrizations to torch models: save/load, compile, errors, gauge equivalence (§5, §11)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from torch import nn

from dltheory.errors import DLTheoryError
from dltheory.nets.training import stack_models, train_ensemble
from dltheory.richness import (ScaledConv2d, ScaledLinear, layer_table, lr_multipliers, mlp, mup, ntp, param_groups,
                               parametrize, richness, scaled_layers, sp)

PRESETS = {"sp": sp(), "ntp": ntp(), "ntp-lr": ntp("stp"), "mup": mup(), "mup-lr": mup("stp"), "r=1/4": richness(0.25)}


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_user_model_is_parametrized_in_place():
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))
    out = parametrize(model, mup(), generator=_gen())
    assert out is model
    roles = [m.role for _, m in scaled_layers(model)]
    assert roles == ["readin", "hidden", "readout"]
    assert all(type(p) is nn.Parameter for p in model.parameters())  # nothing attached to Parameters
    assert not any(hasattr(p, "infshape") for p in model.parameters())
    rows = layer_table(model, mup())
    assert [r["width"] for r in rows] == [32] * 3
    assert float(model[4].weight.detach().std()) == pytest.approx(rows[2]["init_std"], rel=0.3)
    assert type(model[1]) is nn.ReLU and type(model[3]) is nn.Tanh  # user activations untouched (no silent gain)


def test_mlp_activation_gain_is_an_explicit_name():
    x = torch.randn(7, 8, dtype=torch.float64, generator=_gen(1))
    assert mlp((8, 16, 16, 2), mup(), generator=_gen())[0].weight.dtype == torch.get_default_dtype()
    assert mlp((8, 16, 16, 2), mup(), generator=_gen())(torch.randn(3, 8)).shape == (3, 2)  # like any nn.Module
    default = mlp((8, 16, 16, 2), mup(), generator=_gen(), dtype=torch.float64)
    assert default[1].activation.name == "relu*sqrt2"
    plain = mlp((8, 16, 16, 2), mup(), generator=_gen(), activation="relu", dtype=torch.float64)
    h = default[0](x)
    assert torch.equal(default[1](h), math.sqrt(2.0) * torch.relu(h))
    assert torch.equal(plain[1](h), torch.relu(h))
    with pytest.raises(DLTheoryError, match="activation"):
        mlp((8, 16, 16, 2), mup(), generator=_gen(), activation="relu6", dtype=torch.float64)


def test_save_load_and_compile_survive():
    model = mlp((8, 16, 16, 2), mup(), generator=_gen(), bias=True, dtype=torch.float64)
    x = torch.randn(5, 8, dtype=torch.float64, generator=_gen(1))
    ref = model(x)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert torch.equal(loaded(x), ref)
    assert lr_multipliers(loaded) == lr_multipliers(model)
    fresh = mlp((8, 16, 16, 2), mup(), generator=_gen(99), bias=True, dtype=torch.float64)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    fresh.load_state_dict(torch.load(buf))
    assert torch.equal(fresh(x), ref)
    compiled = torch.compile(model, backend="eager")
    assert torch.allclose(compiled(x), ref, rtol=0, atol=1e-14)


@pytest.mark.slow
def test_inductor_compile_trains():
    """Full torch.compile (inductor, needs a C compiler; ~15 s) of a parametrized model, forward and backward."""
    model = mlp((8, 16, 16, 2), mup(), generator=_gen(), dtype=torch.float64)
    compiled = torch.compile(model)
    x = torch.randn(5, 8, dtype=torch.float64, generator=_gen(1))
    torch.testing.assert_close(compiled(x), model(x))
    compiled(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unsupported_layer_error_lists_supported():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    with pytest.raises(DLTheoryError, match="LayerNorm.*Linear, Conv2d"):
        parametrize(model, mup(), generator=_gen())
    with pytest.raises(DLTheoryError, match="at least 2 weight layers"):
        parametrize(nn.Sequential(nn.Linear(4, 2)), mup(), generator=_gen())
    with pytest.raises(DLTheoryError, match="Parametrization"):
        parametrize(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2)), "mup", generator=_gen())


def test_small_cnn():
    cnn = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    parametrize(cnn, mup("stp"), generator=_gen())
    layers = scaled_layers(cnn)
    assert [type(m) for _, m in layers] == [ScaledConv2d, ScaledConv2d, ScaledLinear]
    rows = layer_table(cnn, mup("stp"))
    assert [r["fan_in"] for r in rows] == [27, 144, 16]
    assert rows[1]["lr_factor"] == pytest.approx(16 / 144)  # alpha^2 / fan_in with alpha^2 = n = 16
    assert cnn(torch.randn(2, 3, 8, 8, generator=_gen(2))).shape == (2, 10)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_model_invariants(name):
    """Shared suite over presets: realized buffers give v and lambda; param_groups match; training runs."""
    p = PRESETS[name]
    model = mlp((12, 64, 64, 3), p, generator=_gen(), dtype=torch.float64)
    for (_, layer), row in zip(scaled_layers(model), layer_table(model, p)):
        g = float(layer.multiplier)
        assert (g * float(layer.weight.detach().std())) ** 2 == pytest.approx(row["v"], rel=0.1)
        assert float(layer.lr_factor) * g ** 2 == pytest.approx(row["lam"], rel=1e-12)
    groups = param_groups(model, 0.1)
    assert [gr["lr"] for gr in groups] == pytest.approx([0.1 * v for v in lr_multipliers(model).values()])
    x = torch.randn(32, 12, dtype=torch.float64, generator=_gen(3))
    y = torch.randn(32, 3, dtype=torch.float64, generator=_gen(4))
    opt = torch.optim.SGD(groups, lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = 0.5 * ((model(x) - y) ** 2).sum(1).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("r", [0.0, 0.25, 0.5])
def test_gauges_identical_after_20_steps(r):
    """R1 in small: three gauges, shared draws, 20 SGD steps with momentum, float64, outputs equal <= 1e-10."""
    x = torch.randn(24, 10, dtype=torch.float64, generator=_gen(5))
    y = torch.randn(24, 4, dtype=torch.float64, generator=_gen(6))
    outs = []
    for gauge in ("stp", "mup", "rescale"):
        model = mlp((10, 128, 128, 4), richness(r, 2.0, gauge=gauge), generator=_gen(7), dtype=torch.float64)
        template, params, buffers = stack_models([model])
        res = train_ensemble(template, params, x, y, steps=20, lr=0.1, lr_multipliers=lr_multipliers(model),
                             momentum=0.9, buffers=buffers, batch_size=8, generator=_gen(8))
        outs.append(torch.func.functional_call(model, {k: v[0] for k, v in res.params.items()}, (x,)))
    scale = float(outs[0].abs().max())
    assert scale > 1e-3
    for o in outs[1:]:
        assert float((o - outs[0]).abs().max()) <= 1e-10
    # negative control: a different r is far outside the tolerance
    model = mlp((10, 128, 128, 4), richness(r + 0.01 if r < 0.5 else r - 0.01, 2.0), generator=_gen(7),
                dtype=torch.float64)
    template, params, buffers = stack_models([model])
    res = train_ensemble(template, params, x, y, steps=20, lr=0.1, lr_multipliers=lr_multipliers(model),
                         momentum=0.9, buffers=buffers, batch_size=8, generator=_gen(8))
    other = torch.func.functional_call(model, {k: v[0] for k, v in res.params.items()}, (x,))
    assert float((other - outs[0]).abs().max()) > 1e-6


def test_output_scale_at_init():
    """||f_0|| ~ n^-r (§9): the ratio between widths 64 and 4096 is 64^-r within MC error (8 seeds)."""
    x = torch.randn(16, 10, dtype=torch.float64, generator=_gen(9))
    for r in (0.0, 0.5):
        logs = {n: [math.log(float(mlp((10, n, n, 1), richness(r), generator=_gen(s), dtype=torch.float64)(x).norm()))
                    for s in range(8)]
                for n in (64, 1024)}
        diff = np.mean(logs[1024]) - np.mean(logs[64])
        se = math.sqrt(np.var(logs[1024], ddof=1) / 8 + np.var(logs[64], ddof=1) / 8)
        assert abs(diff / math.log(16) + r) * math.log(16) <= 4.5 * se + 0.05
