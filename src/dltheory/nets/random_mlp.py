"""Monte Carlo ensembles of finite-width random MLPs at initialization (effective-theory.md §2, §9.3).

Many networks are sampled at once: preactivations are kept as ``(chunk, n_l, P)`` tensors and each
layer is one ``torch.baddbmm`` over the leading network axis, chunked over networks to bound
memory. Only per-network, neuron-averaged statistics are kept (replicate = one network,
§10.1); preactivations of earlier layers are discarded as soon as the next layer is computed.
Estimates with standard errors are in :mod:`dltheory.nets.estimators`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dltheory.activations import TensorFn, TorchActivation, resolve_torch_activation
from dltheory.errors import DLTheoryError

__all__ = ["EnsembleStatistics", "sample_random_mlps", "default_chunk_size"]

_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class EnsembleStatistics:
    """Per-network, neuron-averaged preactivation statistics of a random-MLP ensemble.

    N networks, L layers, P inputs; each row along axis 0 is one network (one replicate, §10.1).

    Attributes
    ----------
    second_moment : ndarray, shape (N, L, P, P)
        (1/n_ℓ) Σ_i z_{i;a} z_{i;b} — the stochastic metric's sample, mean → G^{(ℓ)}_{ab} (§3.1).
    fourth_moment : ndarray, shape (N, L, P)
        (1/n_ℓ) Σ_i z_{i;a}^4.
    pair_fourth : ndarray, shape (N, L, P)
        Cross-neuron pairs [(Σ_i z_{i;a}^2)^2 − Σ_i z_{i;a}^4] / (n_ℓ(n_ℓ−1)), mean → E[z_i^2 z_j^2]_{i≠j}
        (§5.1, §10.1); NaN where n_ℓ = 1.
    pair_four_point : ndarray, shape (N, L, P, P, P, P), or None
        Only with ``full_four_point=True``: mean over i≠j of z_{i;a} z_{i;b} z_{j;c} z_{j;d}.
    input_dim : int
        n_0.
    widths : tuple of int
        (n_1, ..., n_L).
    activation : str
    cb, cw : ndarray, shape (L,)
        Per-layer C_b, C_W.
    """

    second_moment: np.ndarray
    fourth_moment: np.ndarray
    pair_fourth: np.ndarray
    pair_four_point: np.ndarray | None
    input_dim: int
    widths: tuple[int, ...]
    activation: str
    cb: np.ndarray
    cw: np.ndarray

    @property
    def n_networks(self) -> int:
        return int(self.second_moment.shape[0])

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def fan_in(self) -> tuple[int, ...]:
        """(n_0, ..., n_{L-1}): the n_{ℓ-1} that normalizes layer ℓ's 4-point vertex (§5.1, §9.2)."""
        return (self.input_dim, *self.widths[:-1])


# ------------------------------------------------------------------ validation (shared with ntk)


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise DLTheoryError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _check_widths(width: int | Sequence[int], depth: int) -> tuple[int, ...]:
    if isinstance(width, (int, np.integer)) and not isinstance(width, bool):
        widths: tuple[int, ...] = (int(width),) * depth
    else:
        try:
            widths = tuple(width)  # type: ignore[arg-type]
        except TypeError:
            raise DLTheoryError(f"width={width!r} must be an int or a sequence of {depth} ints") from None
        if len(widths) != depth:
            raise DLTheoryError(f"width has {len(widths)} entries; need depth={depth} (n_1..n_L)")
    return tuple(_check_int(w, "width", 1) for w in widths)


def _per_layer(value: float | Sequence[float], depth: int, name: str, nonnegative: bool) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(depth, float(arr))
    if arr.shape != (depth,):
        raise DLTheoryError(f"{name} must be a scalar or a sequence of depth={depth} values, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DLTheoryError(f"{name}={value!r} must be finite")
    if nonnegative and np.any(arr < 0):
        raise DLTheoryError(f"{name}={value!r} must be >= 0 (a variance / learning rate)")
    return arr


def _check_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)  # type: ignore[assignment]
    if dtype not in (torch.float64, torch.float32):
        raise DLTheoryError(f"dtype={dtype!r} must be torch.float64 or torch.float32")
    return dtype  # type: ignore[return-value]


def _check_inputs(x: object, dtype: torch.dtype, device: torch.device | str) -> Tensor:
    try:
        t = torch.as_tensor(np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float))
    except (TypeError, ValueError):
        raise DLTheoryError("x must be a real array of shape (P, n0)") from None
    if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 1:
        raise DLTheoryError(f"x must have shape (P, n0) with P, n0 >= 1, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise DLTheoryError("x must be finite (no NaN or inf)")
    return t.to(dtype=dtype, device=device)


def _check_generator(generator: torch.Generator | int | None, device: torch.device | str) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        g = torch.Generator(device=device)
        g.manual_seed(int(generator))
        return g
    raise DLTheoryError("generator must be a torch.Generator or an int seed (no global RNG state is used)")


def default_chunk_size(widths: Sequence[int], input_dim: int, n_networks: int,
                       extra_per_network: int = 0, itemsize: int = 8) -> int:
    """Networks per chunk so one layer's weights (+ ``extra_per_network`` numbers) fit in ~256 MB."""
    fan = (input_dim, *widths[:-1])
    per_net = max(w * f for w, f in zip(widths, fan)) + extra_per_network
    return max(1, min(n_networks, _CHUNK_BYTES // (itemsize * per_net)))


def _draw_layer(chunk: int, n_out: int, n_in: int, g: torch.Generator, dtype: torch.dtype,
                device: torch.device | str) -> tuple[Tensor, Tensor]:
    """Standard-normal weights (chunk, n_out, n_in) and biases (chunk, n_out, 1), in that order.

    Drawing the weights dominates the cost of an ensemble (N·n² normals per layer against 2·N·n²·P
    flops). On the CPU float64 normals are drawn as float32 and widened, about 4× faster: the
    widened numbers are exact float64 values of a float32 Gaussian, whose only departure from
    N(0, 1) is rounding at relative 6e-8 and no mass beyond about 5.8σ (probability 7e-9), far
    below any Monte Carlo error here. All arithmetic (matmuls, statistics) stays in ``dtype``.
    """
    draw = torch.float32 if dtype == torch.float64 and torch.device(device).type == "cpu" else dtype
    w = torch.randn(chunk, n_out, n_in, generator=g, dtype=draw, device=device).to(dtype)
    b = torch.randn(chunk, n_out, 1, generator=g, dtype=draw, device=device).to(dtype)
    return w, b


def _forward_layer(z_prev: Tensor, w: Tensor, b: Tensor, cb: float, cw: float,
                   sigma: TensorFn | None) -> Tensor:
    """z' = √C_b b + √(C_W/n_{ℓ-1}) W σ(z) for standard-normal (W, b) (§2); z_prev is (chunk, n_in, P)."""
    s = z_prev if sigma is None else sigma(z_prev)
    return torch.baddbmm(b, w, s, beta=math.sqrt(cb), alpha=math.sqrt(cw / w.shape[-1]))


def _layer_statistics(z: Tensor, full_four_point: bool) -> tuple[Tensor, ...]:
    """Neuron averages of one layer; z is (chunk, n, P)."""
    n = z.shape[1]
    second = torch.bmm(z.transpose(1, 2), z) / n
    z2 = z * z
    s2 = z2.sum(1)
    s4 = (z2 * z2).sum(1)
    fourth = s4 / n
    denom = n * (n - 1)
    pair = (s2 * s2 - s4) / denom if n > 1 else torch.full_like(s4, float("nan"))
    out = (second, fourth, pair)
    if full_four_point:
        prod = z[:, :, :, None] * z[:, :, None, :]  # (chunk, n, P, P)
        same = torch.einsum("kipq,kirs->kpqrs", prod, prod)
        sab = second * n
        ss = sab[:, :, :, None, None] * sab[:, None, None, :, :]
        four = (ss - same) / denom if n > 1 else torch.full_like(same, float("nan"))
        out = (*out, four)
    return out


def sample_random_mlps(
    x: np.ndarray | Tensor,
    depth: int,
    width: int | Sequence[int],
    activation: str | TorchActivation | TensorFn = "relu",
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    n_networks: int = 1000,
    *,
    generator: torch.Generator | int,
    chunk_size: int | None = None,
    dtype: torch.dtype | str = torch.float64,
    device: torch.device | str = "cpu",
    full_four_point: bool = False,
) -> EnsembleStatistics:
    """Sample ``n_networks`` random MLPs and return their per-network preactivation statistics.

    Model of effective-theory.md §2: z^{(1)} = b + W x with W ~ N(0, C_W/n_0), b ~ N(0, C_b);
    z^{(ℓ+1)} = b + W σ(z^{(ℓ)}) with W ~ N(0, C_W/n_ℓ); no activation on z^{(L)}.

    Parameters
    ----------
    x : array, shape (P, n0)
        Inputs (finite).
    depth : int
        L >= 1.
    width : int or sequence of L ints
        n_1..n_L (an int: all layers, including the last, have this width).
    activation : str, TorchActivation or callable
        See :func:`dltheory.activations.resolve_torch_activation`.
    cb, cw : float or sequence of L floats
        C_b >= 0, C_W >= 0 (per layer).
    n_networks : int
        N >= 1.
    generator : torch.Generator or int
        Explicit RNG (an int builds a seeded generator). Draw order per chunk and layer: W, then b.
    chunk_size : int, optional
        Networks per batched matmul; default keeps one layer's weights ≲ 256 MB.
    dtype, device
        float64 (default) or float32; CPU default.
    full_four_point : bool
        Also keep the (N, L, P, P, P, P) cross-neuron four-point products (memory ∝ P^4).

    Returns
    -------
    EnsembleStatistics
    """
    depth = _check_int(depth, "depth", 1)
    widths = _check_widths(width, depth)
    n_networks = _check_int(n_networks, "n_networks", 1)
    cbs = _per_layer(cb, depth, "cb", nonnegative=True)
    cws = _per_layer(cw, depth, "cw", nonnegative=True)
    dtype = _check_dtype(dtype)
    xt = _check_inputs(x, dtype, device)
    g = _check_generator(generator, device)
    act = resolve_torch_activation(activation)
    n0 = xt.shape[1]
    p = xt.shape[0]
    if chunk_size is None:
        chunk_size = default_chunk_size(widths, n0, n_networks, itemsize=xt.element_size())
    chunk_size = _check_int(chunk_size, "chunk_size", 1)

    shapes = [(n_networks, depth, p, p), (n_networks, depth, p), (n_networks, depth, p)]
    if full_four_point:
        shapes.append((n_networks, depth, p, p, p, p))
    outs = [np.empty(s) for s in shapes]
    x_in = xt.T.contiguous()  # (n0, P)
    with torch.no_grad():
        for start in range(0, n_networks, chunk_size):
            c = min(chunk_size, n_networks - start)
            z = x_in.expand(c, n0, p)
            for layer in range(depth):
                w, b = _draw_layer(c, widths[layer], z.shape[1], g, dtype, device)
                z = _forward_layer(z, w, b, cbs[layer], cws[layer], None if layer == 0 else act.fn)
                del w
                for out, stat in zip(outs, _layer_statistics(z, full_four_point)):
                    out[start:start + c, layer] = stat.cpu().numpy()
    return EnsembleStatistics(
        second_moment=outs[0], fourth_moment=outs[1], pair_fourth=outs[2],
        pair_four_point=outs[3] if full_four_point else None,
        input_dim=n0, widths=widths, activation=act.name, cb=cbs, cw=cws,
    )
