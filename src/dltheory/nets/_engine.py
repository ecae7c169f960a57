"""The batched-ensemble engine shared by :mod:`~dltheory.nets.random_mlp`, :mod:`~dltheory.nets.ntk` and
:mod:`~dltheory.nets.residual_mlp` (effective-theory.md §2, §9.3).

Input checks, the chunk size, the weight draws, one layer's forward map and the per-network neuron
averages of one layer. Preactivations are ``(chunk, n_ℓ, P)`` tensors with the network axis first; each
layer is one ``torch.baddbmm``. The module is private to :mod:`dltheory.nets`; its functions are the
package's shared building blocks (per-layer hyper-parameters are broadcast by
:func:`dltheory.effective.kernels.per_layer`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from dltheory.effective.kernels import per_layer
from dltheory.errors import DLTheoryError
from dltheory.activations import TensorFn, TorchActivation, resolve_torch_activation

__all__ = ["CHUNK_BYTES", "check_int", "check_widths", "check_dtype", "check_inputs", "check_generator",
           "EnsembleSetup", "ensemble_setup", "default_chunk_size", "draw_layer", "forward_layer",
           "layer_statistics"]

CHUNK_BYTES = 256 * 2**20


def check_int(value: object, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools rejected); DLTheoryError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise DLTheoryError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def check_widths(width: int | Sequence[int], depth: int) -> tuple[int, ...]:
    """Widths (n_1, ..., n_L) from an int (every layer) or a sequence of ``depth`` ints >= 1."""
    if isinstance(width, (int, np.integer)) and not isinstance(width, bool):
        widths: tuple[int, ...] = (int(width),) * depth
    else:
        try:
            widths = tuple(width)  # type: ignore[arg-type]
        except TypeError:
            raise DLTheoryError(f"width={width!r} must be an int or a sequence of {depth} ints") from None
        if len(widths) != depth:
            raise DLTheoryError(f"width has {len(widths)} entries; need depth={depth} (n_1..n_L)")
    return tuple(check_int(w, "width", 1) for w in widths)


def check_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """torch.float64 or torch.float32, also from their names ("float64", "float32")."""
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)  # type: ignore[assignment]
    if dtype not in (torch.float64, torch.float32):
        raise DLTheoryError(f"dtype={dtype!r} must be torch.float64 or torch.float32")
    return dtype  # type: ignore[return-value]


def check_inputs(x: object, dtype: torch.dtype, device: torch.device | str) -> Tensor:
    """Finite inputs of shape (P, n0), P, n0 >= 1, as a tensor of ``dtype`` on ``device``."""
    try:
        t = torch.as_tensor(np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float))
    except (TypeError, ValueError):
        raise DLTheoryError("x must be a real array of shape (P, n0)") from None
    if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 1:
        raise DLTheoryError(f"x must have shape (P, n0) with P, n0 >= 1, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise DLTheoryError("x must be finite (no NaN or inf)")
    return t.to(dtype=dtype, device=device)


def check_generator(generator: torch.Generator | int | None, device: torch.device | str) -> torch.Generator:
    """The explicit RNG: a torch.Generator as given, or a new one seeded with an int (never global state)."""
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        g = torch.Generator(device=device)
        g.manual_seed(int(generator))
        return g
    raise DLTheoryError("generator must be a torch.Generator or an int seed (no global RNG state is used)")


class EnsembleSetup(NamedTuple):
    """Checked arguments of an ensemble sampler (see :func:`ensemble_setup`)."""

    depth: int
    widths: tuple[int, ...]
    n_networks: int
    cb: np.ndarray
    cw: np.ndarray
    dtype: torch.dtype
    x: Tensor
    generator: torch.Generator
    activation: TorchActivation


def ensemble_setup(x: object, depth: int, width: int | Sequence[int],
                   activation: str | TorchActivation | TensorFn, cb: float | Sequence[float],
                   cw: float | Sequence[float], n_networks: int, generator: torch.Generator | int,
                   dtype: torch.dtype | str, device: torch.device | str) -> EnsembleSetup:
    """Check and normalize the common arguments of the MLP ensemble samplers (§2).

    Parameters
    ----------
    x : array, shape (P, n0)
    depth : int
        L >= 1.
    width : int or sequence of L ints
    activation : str, TorchActivation or callable
    cb, cw : float or sequence of L floats
        C_b, C_W >= 0, broadcast to shape (L,) by :func:`dltheory.effective.kernels.per_layer`.
    n_networks : int
    generator : torch.Generator or int
    dtype : torch.float64 or torch.float32 (or their names)
    device : torch.device or str

    Returns
    -------
    EnsembleSetup
        ``x`` as a (P, n0) tensor of ``dtype`` on ``device``; ``cb``, ``cw`` of shape (L,).
    """
    depth = check_int(depth, "depth", 1)
    widths = check_widths(width, depth)
    n_networks = check_int(n_networks, "n_networks", 1)
    cbs = per_layer(cb, depth, "cb", positive=False)
    cws = per_layer(cw, depth, "cw", positive=False)
    dtype = check_dtype(dtype)
    xt = check_inputs(x, dtype, device)
    g = check_generator(generator, device)
    return EnsembleSetup(depth, widths, n_networks, cbs, cws, dtype, xt, g, resolve_torch_activation(activation))


def default_chunk_size(widths: Sequence[int], input_dim: int, n_networks: int,
                       extra_per_network: int = 0, itemsize: int = 8) -> int:
    """Networks per chunk so one layer's weights (+ ``extra_per_network`` numbers) fit in ~256 MB."""
    fan = (input_dim, *widths[:-1])
    per_net = max(w * f for w, f in zip(widths, fan, strict=True)) + extra_per_network
    return max(1, min(n_networks, CHUNK_BYTES // (itemsize * per_net)))


def draw_layer(chunk: int, n_out: int, n_in: int, g: torch.Generator, dtype: torch.dtype,
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


def forward_layer(z_prev: Tensor, w: Tensor, b: Tensor, cb: float, cw: float,
                  sigma: TensorFn | None) -> Tensor:
    """z' = √C_b b + √(C_W/n_{ℓ-1}) W σ(z) for standard-normal (W, b) (§2); z_prev is (chunk, n_in, P)."""
    s = z_prev if sigma is None else sigma(z_prev)
    return torch.baddbmm(b, w, s, beta=math.sqrt(cb), alpha=math.sqrt(cw / w.shape[-1]))


def layer_statistics(z: Tensor, full_four_point: bool) -> tuple[Tensor, ...]:
    """Per-network neuron averages of one layer (§3.1, §5.1, §10.1).

    Parameters
    ----------
    z : Tensor, shape (chunk, n, P)
    full_four_point : bool
        Also return the cross-neuron four-point products.

    Returns
    -------
    second : (chunk, P, P); fourth : (chunk, P); pair : (chunk, P) (NaN where n = 1);
    four : (chunk, P, P, P, P), only with ``full_four_point``
        As the fields of :class:`~dltheory.nets.random_mlp.EnsembleStatistics`.
    """
    n = z.shape[1]
    second = torch.bmm(z.transpose(1, 2), z) / n
    z2 = z * z
    s2 = z2.sum(1)
    s4 = (z2 * z2).sum(1)
    fourth = s4 / n
    denom = n * (n - 1)
    pair = (s2 * s2 - s4) / denom if n > 1 else torch.full_like(s4, float("nan"))
    out: tuple[Tensor, ...] = (second, fourth, pair)
    if full_four_point:
        prod = z[:, :, :, None] * z[:, :, None, :]  # (chunk, n, P, P)
        same = torch.einsum("kipq,kirs->kpqrs", prod, prod)
        sab = second * n
        ss = sab[:, :, :, None, None] * sab[:, None, None, :, :]
        four = (ss - same) / denom if n > 1 else torch.full_like(same, float("nan"))
        out = (*out, four)
    return out
