"""Your own network against the infinite-width theory (dltheory.nets.compare).

Tolerances are z-scores from the Monte Carlo standard error (replicate = one network) with the
Bonferroni z* the API computes (family-wise error 10⁻³, effective-theory.md §10.1); seeds fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, jacrev

from dltheory.errors import DLTheoryError
from dltheory.nets import activation_name, compare_to_theory, empirical_ntk_autodiff, parse_architecture, width_sweep
from dltheory.stats import Verdict

N0 = 8


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    x = np.random.default_rng(7).standard_normal((3, N0))
    return x / np.sqrt((x**2).mean(1, keepdims=True))  # |x|²/n0 = 1


def gaussian_mlp(widths, activation=nn.ReLU, cw=2.0, cb=0.1, bias=True):
    """Factory seed -> nn.Sequential with W ~ N(0, cw/fan_in), b ~ N(0, cb), float64."""

    def make(seed: int) -> nn.Module:
        g = torch.Generator().manual_seed(seed)
        mods, fan = [], N0
        for k, n in enumerate(widths):
            if k:
                mods.append(activation())
            mods.append(nn.Linear(fan, n, bias=bias, dtype=torch.float64))
            fan = n
        net = nn.Sequential(*mods)
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, math.sqrt(cw / m.in_features), generator=g)
                    if m.bias is not None:
                        nn.init.normal_(m.bias, 0.0, math.sqrt(cb), generator=g)
        return net

    return make


# ------------------------------------------------------------------------------------------ exact algebra


def test_ntk_traces_equal_autodiff_per_layer(x):
    """The batched per-layer NTK trace equals torch.func autodiff on the truncated network (§6.1)."""
    make = gaussian_mlp((6, 5, 4), activation=nn.Tanh, cb=0.2)
    res = compare_to_theory(make, x, seeds=[3, 4], lambda_b=[0.5, 1.0, 2.0], lambda_w=[1.5, 1.0, 0.5],
                            ntk=True)
    net = make(3)
    for depth in range(1, 4):
        sub = nn.Sequential(*list(net)[: 2 * depth - 1])
        ref = empirical_ntk_autodiff(sub, x, lambda_b=[0.5, 1.0, 2.0][:depth], lambda_w=[1.5, 1.0, 0.5][:depth])
        trace = torch.diagonal(ref, dim1=0, dim2=1).mean(-1).numpy()  # (1/n) Σ_i Ĥ_ii;ab
        np.testing.assert_allclose(res.ntk[0, depth - 1], trace, rtol=1e-12, atol=1e-13)
        zz = sub(torch.as_tensor(x)).detach().numpy()
        np.testing.assert_allclose(res.kernel[0, depth - 1], zz @ zz.T / zz.shape[1], rtol=1e-12)


class _Block(nn.Module):
    def __init__(self, n: int, gamma: float) -> None:
        super().__init__()
        self.act = nn.Tanh()
        self.fc = nn.Linear(n, n, dtype=torch.float64)
        self.gamma = gamma

    def forward(self, z):
        return self.gamma * z + self.fc(self.act(z))


class _ResMLP(nn.Module):
    def __init__(self, n: int = 6, gamma: float = 0.7) -> None:
        super().__init__()
        self.inp = nn.Linear(N0, n, dtype=torch.float64)
        self.blocks = nn.Sequential(_Block(n, gamma), _Block(n, gamma))
        self.relu = nn.ReLU()
        self.out = nn.Linear(n, 3, bias=False, dtype=torch.float64)

    def forward(self, x):
        return torch.sigmoid(self.out(self.relu(self.blocks(self.inp(x)))))


def _res_factory(seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    net = _ResMLP()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.5, generator=g)
    return net


def test_residual_network_parsed_and_ntk_equals_autodiff(x):
    arch = parse_architecture(_ResMLP(), x)
    assert [s.gamma for s in arch.layers] == pytest.approx([0.0, 0.7, 0.7, 0.0], abs=1e-12)
    assert [s.activation for s in arch.layers] == [None, "tanh", "tanh", "relu"]
    assert arch.layers[-1].bias is False and arch.trailing_activation == "sigmoid"
    res = compare_to_theory(_res_factory, x, seeds=[0, 1])
    net = _res_factory(1)
    xt = torch.as_tensor(x)
    params = {k: v.detach() for k, v in net.named_parameters()}

    def layer(ps, depth):
        z = functional_call(net.inp, {"weight": ps["inp.weight"], "bias": ps["inp.bias"]}, (xt,))
        for i in range(min(depth - 1, 2)):
            fc = {"weight": ps[f"blocks.{i}.fc.weight"], "bias": ps[f"blocks.{i}.fc.bias"]}
            z = 0.7 * z + functional_call(net.blocks[i].fc, fc, (torch.tanh(z),))
        if depth == 4:
            z = functional_call(net.out, {"weight": ps["out.weight"]}, (torch.relu(z),))
        return z

    for depth in range(1, 5):
        jac = jacrev(lambda ps: layer(ps, depth))(params)
        total = 0.0
        for name, j in jac.items():
            jf = j.reshape(j.shape[0], j.shape[1], -1)
            weight = 1.0 / params[name].shape[1] if name.endswith("weight") else 1.0
            total = total + weight * torch.einsum("aiq,biq->ab", jf, jf) / j.shape[1]
        np.testing.assert_allclose(res.ntk[1, depth - 1], total.numpy(), rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------------------------------------ theory vs ensembles


def test_relu_cw2_exact_rows_agree_and_wrong_cw_is_rejected(x):
    """ReLU, C_W = 2: diagonal kernel/NTK means are exact at any width; a 10 % wrong C_W must FAIL."""
    make = gaussian_mlp((128, 128, 128), cw=2.0, cb=0.1)
    res = compare_to_theory(make, x, seeds=range(300), cw=2.0, cb=0.1, delta=0.12)
    table = res.table()
    exact = table[table.expectation == "exact"]
    assert len(exact) == 2 * 6 + 2 * 2 * 3  # layer 1: all 6 entries x 2 quantities; layers 2-3: 3 diagonals x 2
    z_star = res.z_star()
    assert np.all(np.abs(exact.z) <= z_star), exact[np.abs(exact.z) > z_star]
    assert res.verdict is Verdict.PASS, res.summary()
    # power: networks drawn at C_W = 2 compared with C_W = 2.2 (the layer-3 kernel is 21 % higher)
    wrong = compare_to_theory(make, x, seeds=range(60), cw=2.2, cb=0.1, delta=0.12)
    assert wrong.verdict is Verdict.FAIL
    t = wrong.table()
    worst = t[(t.quantity == "kernel") & (t.layer == 3) & (t.a == t.b)]
    assert np.all(np.abs(worst.z) > wrong.z_star()), worst


def test_measured_init_matches_the_torch_default_rule(x):
    """A factory with PyTorch's default nn.Linear init: measured C_W ≈ 1/3, C_b ≈ 1/(3 n_in) within z*·SE."""

    def make(seed: int) -> nn.Module:
        g = torch.Generator().manual_seed(seed)
        net = nn.Sequential(nn.Linear(N0, 64), nn.ReLU(), nn.Linear(64, 64))
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=g)
        return net

    res = compare_to_theory(make, x, seeds=range(60))  # float32 model, init measured
    init = res.init_table()
    assert list(init.cw_source) == ["measured"] * 2
    z_w = (init.cw_measured - 1 / 3) / init.cw_measured_se
    z_b = (init.cb_measured - 1 / (3 * init.fan_in)) / init.cb_measured_se
    assert np.all(np.abs(z_w) < 4.0) and np.all(np.abs(z_b) < 4.0), init
    t = res.table()
    exact = t[t.expectation == "exact"]
    assert np.all(np.abs(exact.z) <= res.z_star())
    rule = compare_to_theory(make, x, seeds=range(60), init="torch_default")
    assert rule.cw == pytest.approx([1 / 3, 1 / 3]) and rule.cb == pytest.approx([1 / 24, 1 / 192])


def test_template_module_reinitialized_by_rule(x):
    template = nn.Sequential(nn.Linear(N0, 48), nn.GELU(), nn.Linear(48, 48), nn.GELU(), nn.Linear(48, 48))
    before = template[0].weight.detach().clone()
    res = compare_to_theory(template, x, seeds=range(40), reinit="gaussian", cw=1.5, cb=0.2)
    assert list(res.cw_source) == ["gaussian"] * 3
    init = res.init_table()
    assert np.all(np.abs((init.cw_measured - 1.5) / init.cw_measured_se) < 4.0)
    assert res.architecture.layers[1].activation == "gelu"
    t = res.table()
    assert np.all(np.abs(t[t.expectation == "exact"].z) <= res.z_star())
    assert torch.equal(template[0].weight, before)  # the template itself is left untouched


def test_deep_linear_residual_network_is_exact_at_any_width(x):
    """σ = identity with residual γ: every entry of every layer is exact (linear recursions)."""

    def make(seed: int) -> nn.Module:
        g = torch.Generator().manual_seed(seed)
        net = _LinearRes(64, 0.6)
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, math.sqrt(0.5 / m.in_features), generator=g)
                nn.init.normal_(m.bias, 0.0, math.sqrt(0.05), generator=g)
        return net

    res = compare_to_theory(make, x, seeds=range(300), cw=0.5, cb=0.05, delta=0.1)
    assert res.architecture.gammas == pytest.approx([0.0, 0.6, 0.6])
    t = res.table()
    assert (t.expectation == "exact").all()
    assert np.all(np.abs(t.z) <= res.z_star()), t[np.abs(t.z) > res.z_star()]
    assert res.verdict is Verdict.PASS, res.summary()


class _LinearRes(nn.Module):
    def __init__(self, n: int, gamma: float) -> None:
        super().__init__()
        self.a = nn.Linear(N0, n, dtype=torch.float64)
        self.b = nn.Linear(n, n, dtype=torch.float64)
        self.c = nn.Linear(n, n, dtype=torch.float64)
        self.gamma = gamma

    def forward(self, x):
        z = self.a(x)
        z = self.gamma * z + self.b(z)
        return self.gamma * z + self.c(z)


def test_tanh_width_trend_extrapolates_to_the_theory_and_rejects_a_wrong_cw(x):
    """Critical tanh (C_W = 1, C_b = 0): deviation(n) = D_0 + D_1/n with D_0 = 0 (§10.1 (b)); C_W = 1.15 fails."""

    def make(n: int, seed: int) -> nn.Module:
        return gaussian_mlp((n, n, n, n), activation=nn.Tanh, cw=1.0, cb=0.0, bias=False)(seed)

    sweep = width_sweep(make, x[:2], (8, 16, 32, 64), seeds=lambda n: 4 * n, cw=1.0, cb=0.0)
    trend = sweep.trend()
    assert len(trend) == 3 * 4 + 3 * 3  # kernel: 4 layers x 3 entries; NTK: layers 2-4 (layer 1 deterministic)
    assert sweep.verdict is not Verdict.FAIL, trend
    assert not (trend.verdict == Verdict.FAIL).any()
    wrong = width_sweep(make, x[:2], (8, 16, 32, 64), seeds=lambda n: 2 * n, cw=1.15, cb=0.0)
    tw = wrong.trend()
    assert wrong.verdict is Verdict.FAIL
    deep = tw[(tw.layer == 4) & (tw.a == tw.b)]
    assert np.all(np.abs(deep.z0) > 2 * wrong.comparisons[0].z_star()), deep


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize("module, name", [
    (nn.ReLU(), "relu"), (nn.Tanh(), "tanh"), (nn.GELU(), "gelu"), (nn.SiLU(), "swish"),
    (nn.Sigmoid(), "sigmoid"), (nn.Softplus(), "softplus"), (nn.LeakyReLU(0.2), "leaky_relu:0.2"),
    (nn.GELU(approximate="tanh"), None), (nn.ELU(), None),
])
def test_activation_names(module, name):
    assert activation_name(module) == name


def test_functional_and_quadrature_activations_are_recognized(x):
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.Linear(N0, 7), nn.Linear(7, 7), nn.Linear(7, 2)

        def forward(self, x):
            return self.c(torch.relu(self.b(torch.tanh(self.a(x)))))

    arch = parse_architecture(Functional(), x)
    assert [s.activation for s in arch.layers] == [None, "tanh", "relu"]
    seq = nn.Sequential(nn.Linear(N0, 9), nn.ELU(), nn.Linear(9, 9), nn.Identity(), nn.Linear(9, 1), nn.Sigmoid())
    arch = parse_architecture(seq, x)
    assert arch.layers[1].activation.startswith("ELU") and arch.layers[2].activation == "linear"
    assert arch.trailing_activation == "sigmoid"


class _Sin(nn.Module):
    def forward(self, z):
        return torch.sin(z)


def test_own_activation_module_needs_a_matching_override(x):
    net = nn.Sequential(nn.Linear(N0, 16), _Sin(), nn.Linear(16, 16))
    with pytest.raises(DLTheoryError, match="activation="):
        parse_architecture(net, x)
    arch = parse_architecture(net, x, activation=np.sin)
    assert arch.layers[1].activation == "sin"
    with pytest.raises(DLTheoryError, match="does not match"):
        parse_architecture(net, x, activation=np.tanh)
    assert parse_architecture(net, x, activation="sin").layers[1].activation == "sin"


class _Stray(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(N0, 5), nn.Linear(5, 5)
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.b(torch.relu(self.a(x))) * self.scale


class _Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(N0, 5), nn.Linear(5, 5)

    def forward(self, x):
        return self.b(torch.relu(self.b(torch.relu(self.a(x)))))


class _PostAct(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(N0, 5), nn.Linear(5, 5)

    def forward(self, x):
        h = torch.relu(self.a(x))
        return torch.relu(h + self.b(h)) + 1.0


@pytest.mark.parametrize("model, match", [
    (nn.Sequential(nn.Linear(N0, 5), nn.LayerNorm(5), nn.ReLU(), nn.Linear(5, 5)), "LayerNorm"),
    (nn.Sequential(nn.Linear(N0, 5), nn.Softmax(dim=-1), nn.Linear(5, 5)), "not a supported layer"),
    (nn.Sequential(nn.ReLU(), nn.Linear(N0, 5)), "before the first nn.Linear"),
    (nn.Sequential(nn.Linear(N0, 5), nn.ReLU(), nn.Tanh(), nn.Linear(5, 5)), "two activations"),
    (nn.Sequential(nn.Linear(N0, 5), nn.Dropout(0.5), nn.Linear(5, 5)), None),
    (_Stray(), "scale"),
    (_Shared(), "twice"),
    (_PostAct(), "not supported"),
    (nn.Sequential(nn.Conv1d(1, 1, 1)), "forward failed"),
    (nn.Sequential(nn.Linear(N0, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 5)), "BatchNorm1d"),
])
def test_unsupported_models_raise(x, model, match):
    if match is None:  # Dropout acts as the identity in eval mode: accepted
        assert parse_architecture(model, x).depth == 2
        return
    with pytest.raises(DLTheoryError, match=match):
        parse_architecture(model, x)


def test_bad_arguments(x):
    make = gaussian_mlp((8, 8))
    with pytest.raises(DLTheoryError, match="seeds"):
        compare_to_theory(make, x, seeds=1)
    with pytest.raises(DLTheoryError, match="init"):
        compare_to_theory(make, x, seeds=4, init="xavier")
    with pytest.raises(DLTheoryError, match="reinit"):
        compare_to_theory(make, x, seeds=4, reinit="torch_default")
    with pytest.raises(DLTheoryError, match="cw"):
        compare_to_theory(make, x, seeds=4, cw=[1.0, 2.0, 3.0])
    with pytest.raises(DLTheoryError, match="reinit='gaussian' needs cw"):
        compare_to_theory(nn.Linear(N0, 4), x, seeds=4, reinit="gaussian")
    with pytest.raises(DLTheoryError, match="x"):
        compare_to_theory(make, np.ones(8), seeds=4)
    with pytest.raises(DLTheoryError, match="widths"):
        width_sweep(lambda n, s: make(s), x, (8, 8, 16))

    def shape_changes(seed: int) -> nn.Module:
        return gaussian_mlp((8, 8 if seed < 3 else 9))(seed)

    with pytest.raises(DLTheoryError, match="differs"):
        compare_to_theory(shape_changes, x, seeds=6, chunk_size=2)


def test_table_and_summaries(x):
    res = compare_to_theory(gaussian_mlp((16, 16), activation=nn.Tanh), x, seeds=12)
    t = res.table()
    assert {"quantity", "layer", "a", "b", "empirical", "se", "theory", "z", "expectation", "verdict"} <= set(t)
    assert len(t) == 2 * 2 * 6
    assert set(t[t.layer == 2].verdict) == {Verdict.REPORTED}
    assert set(t[t.layer == 1].verdict) <= {Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE}
    s = res.layer_summary("ntk", "offdiag")
    assert s["rel_deviation"].shape == (2,) and np.all(s["se"][1:] > 0)
    assert "networks" in res.summary() and "ℓ=2" in res.architecture.describe()


def test_underpowered_exact_rows_are_inconclusive_with_a_no_power_reason(x):
    """Few networks and a tiny δ: the exact rows cannot see δ, so they are INCONCLUSIVE (never PASS)."""
    res = compare_to_theory(gaussian_mlp((16, 16)), x, seeds=4, cw=2.0, cb=0.1, delta=1e-4)
    exact = res.table().query("expectation == 'exact' and se > 0")
    assert len(exact) and set(exact.verdict) == {Verdict.INCONCLUSIVE}
    assert exact.reason.str.startswith("no power").all()
    assert res.verdict is Verdict.INCONCLUSIVE and "lack of power" in res.summary()
