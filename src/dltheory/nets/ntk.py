"""Empirical neural tangent kernels of MLP ensembles (effective-theory.md §6.1-6.4).

Two constructions of Ĥ_{ii';ab} = Σ_μ λ_μ dz_{i;a}/dθ_μ dz_{i';b}/dθ_μ with λ_b^{(ℓ)} on biases and
λ_W^{(ℓ)}/n_{ℓ-1} on weights:

* :func:`ntk_forward_equation` — the exact forward equation of §6.1 [BOOK; MC],
  Ĥ^{(1)} = δ_{ii'}[λ_b + λ_W x_a·x_b/n_0], Ĥ' = M_a Ĥ M_b^T + δ_{ii'}[λ_b + λ_W/n_ℓ Σ_j σ_{j;a}σ_{j;b}],
  M_a = W diag(σ'(z_a)), batched over networks (no autodiff);
* :func:`empirical_ntk_autodiff` — ``torch.func.jacrev`` of one ``nn.Module`` (validation).

:func:`make_mlp` builds the §2 MLP as an ``nn.Sequential`` with the spec's initialization.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev

from dltheory.activations import TensorFn, TorchActivation, resolve_torch_activation
from dltheory.effective.kernels import per_layer
from dltheory.errors import DLTheoryError
from dltheory.nets._engine import (check_dtype, check_generator, check_inputs, check_int, check_widths,
                                   default_chunk_size, draw_layer, ensemble_setup, forward_layer,
                                   layer_statistics)
from dltheory.nets.random_mlp import EnsembleStatistics

__all__ = ["ActivationLayer", "NTKEnsembleStatistics", "ntk_forward_equation", "ntk_from_weights",
           "empirical_ntk_autodiff", "make_mlp", "mlp_weights"]


@dataclass(frozen=True)
class NTKEnsembleStatistics:
    """Per-network NTK statistics of a random-MLP ensemble (N networks, L layers, P inputs).

    Cross-neuron averages run over ordered pairs i ≠ j (divided by n_ℓ(n_ℓ−1)); h_i ≡ Ĥ_{ii;aa}.

    Attributes
    ----------
    ntk_mean : ndarray, shape (N, L, P, P)
        (1/n_ℓ) Σ_i Ĥ_{ii;ab}, mean → Θ_{ab} + H^{\\{1\\}}_{ab}/n_{ℓ-1} (§6.2).
    ntk_diag_square : ndarray, shape (N, L, P)
        (1/n_ℓ) Σ_i h_i^2 (for Var Ĥ_ii).
    ntk_diag_pair : ndarray, shape (N, L, P)
        mean_{i≠j} h_i h_j (for A, §6.3).
    ntk_offdiag_square : ndarray, shape (N, L, P)
        mean_{i≠j} Ĥ_{ij;aa}^2 (for B).
    ntk_z_pair : ndarray, shape (N, L, P)
        mean_{i≠j} h_i z_{j;a}^2 (for D).
    ntk_offdiag_zz : ndarray, shape (N, L, P)
        mean_{i≠j} Ĥ_{ij;aa} z_{i;a} z_{j;a} (for F).
    kernel : EnsembleStatistics
        Preactivation statistics of the same networks.
    lambda_b, lambda_w : ndarray, shape (L,)
    """

    ntk_mean: np.ndarray
    ntk_diag_square: np.ndarray
    ntk_diag_pair: np.ndarray
    ntk_offdiag_square: np.ndarray
    ntk_z_pair: np.ndarray
    ntk_offdiag_zz: np.ndarray
    kernel: EnsembleStatistics
    lambda_b: np.ndarray
    lambda_w: np.ndarray


def _ntk_first_layer(x: Tensor, n1: int, chunk: int, lb: float, lw: float) -> Tensor:
    """Ĥ^{(1)} as (chunk, P, P, n1, n1) (§6.1); x is (P, n0)."""
    theta = lb + lw * (x @ x.T) / x.shape[1]
    eye = torch.eye(n1, dtype=x.dtype, device=x.device)
    return (theta[:, :, None, None] * eye).expand(chunk, *theta.shape, n1, n1).clone()


def _ntk_step(h: Tensor, z: Tensor, w: Tensor, act: TorchActivation, lb: float, lw: float) -> Tensor:
    """One forward-equation step (§6.1).

    h : (chunk, P, P, n, n) layer-ℓ NTK; z : (chunk, n, P) layer-ℓ preactivations;
    w : (chunk, n', n) layer-(ℓ+1) weights (already scaled). Returns (chunk, P, P, n', n').
    """
    c, p, _, n, _ = h.shape
    n_out = w.shape[1]
    sp = act.derivative(z).transpose(1, 2)  # (c, P, n)
    s = act.fn(z)
    a = h * sp[:, :, None, :, None] * sp[:, None, :, None, :]
    # W A: contract A's first neuron index
    t = torch.bmm(w, a.permute(0, 3, 1, 2, 4).reshape(c, n, p * p * n))  # (c, n', P P n)
    t = t.reshape(c, n_out, p, p, n).permute(0, 2, 3, 1, 4).reshape(c, p * p * n_out, n)
    out = torch.bmm(t, w.transpose(1, 2)).reshape(c, p, p, n_out, n_out)
    diag = lb + (lw / n) * torch.bmm(s.transpose(1, 2), s)  # (c, P, P)
    out.diagonal(dim1=-2, dim2=-1).add_(diag[..., None])
    return out


def _ntk_layer_statistics(h: Tensor, z: Tensor) -> tuple[Tensor, ...]:
    n = z.shape[1]
    mean = h.diagonal(dim1=-2, dim2=-1).mean(-1)  # (c, P, P)
    hd = h.diagonal(dim1=1, dim2=2)  # (c, n, n, P): Ĥ_{ij;aa}
    hi = hd.diagonal(dim1=1, dim2=2)  # (c, P, n): h_i
    zt = z.transpose(1, 2)  # (c, P, n)
    z2 = zt * zt
    hsum, h2sum, z2sum = hi.sum(-1), (hi * hi).sum(-1), z2.sum(-1)
    hz_same = (hi * z2).sum(-1)
    denom = n * (n - 1) if n > 1 else float("nan")
    pair = (hsum * hsum - h2sum) / denom
    off_sq = ((hd * hd).sum((1, 2)) - h2sum) / denom
    z_pair = (hsum * z2sum - hz_same) / denom
    off_zz = (torch.einsum("kijp,kpi,kpj->kp", hd, zt, zt) - hz_same) / denom
    return mean, h2sum / n, pair, off_sq, z_pair, off_zz


def ntk_forward_equation(
    x: np.ndarray | Tensor,
    depth: int,
    width: int | Sequence[int],
    activation: str | TorchActivation | TensorFn = "relu",
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    n_networks: int = 1000,
    *,
    generator: torch.Generator | int,
    chunk_size: int | None = None,
    dtype: torch.dtype | str = torch.float64,
    device: torch.device | str = "cpu",
) -> NTKEnsembleStatistics:
    """Sample random MLPs (§2) and propagate their full NTK by the forward equation (§6.1).

    Networks are drawn exactly as in :func:`dltheory.nets.random_mlp.sample_random_mlps` (same
    generator state and chunk size ⇒ same networks, same ``kernel`` statistics). Cost per network
    and layer O(P² n³); memory per chunk O(chunk·P²·n²).

    Parameters
    ----------
    x, depth, width, activation, cb, cw, n_networks, generator, chunk_size, dtype, device
        As in :func:`~dltheory.nets.random_mlp.sample_random_mlps`.
    lambda_b, lambda_w : float or sequence of L floats
        Per-layer learning rates λ_b^{(ℓ)} (biases) and λ_W^{(ℓ)} (weights get λ_W/n_{ℓ-1}), >= 0.

    Returns
    -------
    NTKEnsembleStatistics
    """
    depth, widths, n_networks, cbs, cws, dtype, xt, g, act = ensemble_setup(
        x, depth, width, activation, cb, cw, n_networks, generator, dtype, device)
    lbs = per_layer(lambda_b, depth, "lambda_b", positive=False)
    lws = per_layer(lambda_w, depth, "lambda_w", positive=False)
    p, n0 = xt.shape
    if chunk_size is None:
        chunk_size = default_chunk_size(widths, n0, n_networks, extra_per_network=4 * p * p * max(widths) ** 2,
                                        itemsize=xt.element_size())
    chunk_size = check_int(chunk_size, "chunk_size", 1)

    k_out = [np.empty((n_networks, depth, p, p)), np.empty((n_networks, depth, p)), np.empty((n_networks, depth, p))]
    h_out = [np.empty((n_networks, depth, p, p))] + [np.empty((n_networks, depth, p)) for _ in range(5)]
    x_in = xt.T.contiguous()
    with torch.no_grad():
        for start in range(0, n_networks, chunk_size):
            c = min(chunk_size, n_networks - start)
            z = x_in.expand(c, n0, p)
            h = None
            for layer in range(depth):
                w, b = draw_layer(c, widths[layer], z.shape[1], g, dtype, device)
                if layer == 0:
                    h = _ntk_first_layer(xt, widths[0], c, lbs[0], lws[0])
                    z_new = forward_layer(z, w, b, cbs[0], cws[0], None)
                else:
                    w_scaled = w * math.sqrt(cws[layer] / w.shape[-1])
                    h = _ntk_step(h, z, w_scaled, act, lbs[layer], lws[layer])
                    z_new = forward_layer(z, w, b, cbs[layer], cws[layer], act.fn)
                z = z_new
                sl = slice(start, start + c)
                for out, stat in zip(k_out, layer_statistics(z, False)):
                    out[sl, layer] = stat.cpu().numpy()
                for out, stat in zip(h_out, _ntk_layer_statistics(h, z)):
                    out[sl, layer] = stat.cpu().numpy()
    kernel = EnsembleStatistics(k_out[0], k_out[1], k_out[2], None, n0, widths, act.name, cbs, cws)
    return NTKEnsembleStatistics(*h_out, kernel=kernel, lambda_b=lbs, lambda_w=lws)


def ntk_from_weights(
    x: np.ndarray | Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    activation: str | TorchActivation | TensorFn = "relu",
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
) -> tuple[list[Tensor], list[Tensor]]:
    """Forward equation (§6.1) for given networks: all layers' preactivations and full NTKs.

    Parameters
    ----------
    x : array, shape (P, n0)
    weights : sequence of L tensors, shapes (N, n_ℓ, n_{ℓ-1})
        Actual (scaled) weights W^{(ℓ)} of N networks (see :func:`mlp_weights`).
    biases : sequence of L tensors, shapes (N, n_ℓ)
    activation, lambda_b, lambda_w
        As in :func:`ntk_forward_equation`.

    Returns
    -------
    z : list of L tensors, shapes (N, n_ℓ, P)
    ntk : list of L tensors, shapes (N, n_ℓ, n_ℓ, P, P)
        Ĥ^{(ℓ)}_{ii';ab}.
    """
    depth = len(weights)
    if depth < 1 or len(biases) != depth:
        raise DLTheoryError("weights and biases must be equal-length, non-empty sequences (one per layer)")
    lbs = per_layer(lambda_b, depth, "lambda_b", positive=False)
    lws = per_layer(lambda_w, depth, "lambda_w", positive=False)
    w0 = weights[0]
    xt = check_inputs(x, w0.dtype, w0.device)
    act = resolve_torch_activation(activation)
    c = w0.shape[0]
    zs: list[Tensor] = []
    hs: list[Tensor] = []
    z = xt.T.expand(c, *xt.T.shape)
    with torch.no_grad():
        for layer, (w, b) in enumerate(zip(weights, biases)):
            if w.ndim != 3 or w.shape[0] != c or w.shape[2] != z.shape[1] or b.shape != w.shape[:2]:
                raise DLTheoryError(f"layer {layer + 1}: weights must be (N, n_out, n_in) matching the previous "
                                    f"layer and biases (N, n_out); got {tuple(w.shape)}, {tuple(b.shape)}")
            if layer == 0:
                h = _ntk_first_layer(xt, w.shape[1], c, lbs[0], lws[0])
                z = torch.baddbmm(b[:, :, None], w, z)
            else:
                h = _ntk_step(h, z, w, act, lbs[layer], lws[layer])
                z = torch.baddbmm(b[:, :, None], w, act.fn(z))
            zs.append(z)
            hs.append(h.permute(0, 3, 4, 1, 2))
    return zs, hs


class ActivationLayer(nn.Module):
    """``nn.Module`` wrapper of a registry activation, for ``nn.Sequential`` MLPs (§2).

    Parameters
    ----------
    activation : str, Activation, TorchActivation or callable
        See :func:`dltheory.activations.resolve_torch_activation`. Registry activations pickle by
        name, so models holding this layer survive ``torch.save``/``torch.load`` and ``deepcopy``.
    """

    def __init__(self, activation: str | TorchActivation | TensorFn) -> None:
        super().__init__()
        self.activation = resolve_torch_activation(activation)

    def forward(self, z: Tensor) -> Tensor:
        return self.activation.fn(z)

    def extra_repr(self) -> str:
        return self.activation.name


def make_mlp(
    n0: int,
    widths: Sequence[int],
    activation: str | TorchActivation | TensorFn = "relu",
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    *,
    generator: torch.Generator | int,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str = "cpu",
) -> nn.Sequential:
    """The §2 MLP as ``nn.Sequential(Linear, σ, Linear, σ, ..., Linear)`` with the spec's init.

    Weights of layer ℓ ~ N(0, C_W^{(ℓ)}/n_{ℓ-1}), biases ~ N(0, C_b^{(ℓ)}); no activation after the
    last Linear. Draw order per layer: weight, then bias.

    Parameters
    ----------
    n0 : int
        Input dimension.
    widths : sequence of L ints
        n_1..n_L (n_L = output dimension).
    activation, cb, cw, generator, device
        As in :func:`~dltheory.nets.random_mlp.sample_random_mlps`.
    dtype : torch.dtype or str, optional
        Of the parameters; default ``torch.get_default_dtype()`` (float32 unless changed), like any
        ``nn.Module``. Pass ``torch.float64`` for Monte Carlo comparisons with the theory.
    """
    n0 = check_int(n0, "n0", 1)
    try:
        depth = len(widths)
    except TypeError:
        raise DLTheoryError(f"widths={widths!r} must be a sequence of ints n_1..n_L") from None
    depth = check_int(depth, "len(widths)", 1)
    ws = check_widths(widths, depth)
    cbs = per_layer(cb, depth, "cb", positive=False)
    cws = per_layer(cw, depth, "cw", positive=False)
    dtype = check_dtype(torch.get_default_dtype() if dtype is None else dtype)
    g = check_generator(generator, device)
    act = resolve_torch_activation(activation)
    layers: list[nn.Module] = []
    fan = n0
    for layer, n in enumerate(ws):
        lin = nn.Linear(fan, n, dtype=dtype, device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(n, fan, generator=g, dtype=dtype, device=device) * math.sqrt(cws[layer] / fan))
            lin.bias.copy_(torch.randn(n, generator=g, dtype=dtype, device=device) * math.sqrt(cbs[layer]))
        if layer > 0:
            layers.append(ActivationLayer(act))
        layers.append(lin)
        fan = n
    return nn.Sequential(*layers)


def _linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise DLTheoryError("model must contain nn.Linear layers (e.g. built by make_mlp)")
    return found


def mlp_weights(models: Sequence[nn.Module]) -> tuple[list[Tensor], list[Tensor]]:
    """Stack the Linear weights (N, n_ℓ, n_{ℓ-1}) and biases (N, n_ℓ) of N same-shape MLPs."""
    per_model = [_linear_layers(m) for m in models]
    depth = len(per_model[0])
    if any(len(p) != depth for p in per_model):
        raise DLTheoryError("all models must have the same number of Linear layers")
    weights = [torch.stack([p[k][1].weight.detach() for p in per_model]) for k in range(depth)]
    biases = [torch.stack([p[k][1].bias.detach() for p in per_model]) for k in range(depth)]
    return weights, biases


def empirical_ntk_autodiff(
    model: nn.Module,
    x: np.ndarray | Tensor,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
) -> Tensor:
    """Empirical NTK of one MLP by automatic differentiation (§6.1 definition).

    Ĥ_{ij;ab} = Σ_ℓ [λ_b^{(ℓ)} Σ dz_{i;a}/db^{(ℓ)} dz_{j;b}/db^{(ℓ)} + λ_W^{(ℓ)}/n_{ℓ-1} Σ dz_{i;a}/dW^{(ℓ)} dz_{j;b}/dW^{(ℓ)}],
    ℓ counting the model's ``nn.Linear`` layers in order (bias-free Linear layers contribute weights only).

    Parameters
    ----------
    model : nn.Module
        E.g. from :func:`make_mlp`; maps (P, n0) -> (P, n_L).
    x : array, shape (P, n0)
    lambda_b, lambda_w : float or sequence of L floats

    Returns
    -------
    Tensor, shape (n_L, n_L, P, P)
    """
    linears = _linear_layers(model)
    depth = len(linears)
    lbs = per_layer(lambda_b, depth, "lambda_b", positive=False)
    lws = per_layer(lambda_w, depth, "lambda_w", positive=False)
    p0 = next(model.parameters())
    xt = check_inputs(x, p0.dtype, p0.device)
    weight_of: dict[str, float] = {}
    for k, (name, lin) in enumerate(linears):
        prefix = f"{name}." if name else ""
        weight_of[prefix + "weight"] = lws[k] / lin.in_features
        if lin.bias is not None:
            weight_of[prefix + "bias"] = lbs[k]
    params = {k: v.detach() for k, v in model.named_parameters() if k in weight_of}

    def f(ps: dict[str, Tensor]) -> Tensor:
        return functional_call(model, ps, (xt,))

    jac = jacrev(f)(params)  # name -> (P, n_L, *param.shape)
    total = None
    for name, j in jac.items():
        jf = j.reshape(j.shape[0], j.shape[1], -1)
        term = weight_of[name] * torch.einsum("aiq,bjq->ijab", jf, jf)
        total = term if total is None else total + term
    return total
