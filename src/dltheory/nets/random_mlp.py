"""Monte Carlo ensembles of finite-width random MLPs at initialization (effective-theory.md §2, §9.3).

Many networks are sampled at once: preactivations are kept as ``(chunk, n_l, P)`` tensors and each
layer is one ``torch.baddbmm`` over the leading network axis, chunked over networks to bound
memory. Only per-network, neuron-averaged statistics are kept (replicate = one network,
§10.1); preactivations of earlier layers are discarded as soon as the next layer is computed.
Estimates with standard errors are in :mod:`dltheory.nets.estimators`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dltheory.activations import TensorFn, TorchActivation
from dltheory.nets._engine import (check_int, default_chunk_size, draw_layer, ensemble_setup, forward_layer,
                                   layer_statistics)

__all__ = ["EnsembleStatistics", "sample_random_mlps"]

CHUNK_BYTES = 256 * 2**20


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
    depth, widths, n_networks, cbs, cws, dtype, xt, g, act = ensemble_setup(
        x, depth, width, activation, cb, cw, n_networks, generator, dtype, device)
    n0 = xt.shape[1]
    p = xt.shape[0]
    if chunk_size is None:
        chunk_size = default_chunk_size(widths, n0, n_networks, itemsize=xt.element_size())
    chunk_size = check_int(chunk_size, "chunk_size", 1)

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
                w, b = draw_layer(c, widths[layer], z.shape[1], g, dtype, device)
                z = forward_layer(z, w, b, cbs[layer], cws[layer], None if layer == 0 else act.fn)
                del w
                for out, stat in zip(outs, layer_statistics(z, full_four_point)):
                    out[start:start + c, layer] = stat.cpu().numpy()
    return EnsembleStatistics(
        second_moment=outs[0], fourth_moment=outs[1], pair_fourth=outs[2],
        pair_four_point=outs[3] if full_four_point else None,
        input_dim=n0, widths=widths, activation=act.name, cb=cbs, cw=cws,
    )
