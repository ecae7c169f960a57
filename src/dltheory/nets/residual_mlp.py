"""Monte Carlo ensembles of random residual MLPs at initialization (effective-theory.md §8).

z^{(1)} = b + W x (W ~ N(0, C_W^{(1)}/n_0)); for ℓ ≥ 1: z^{(ℓ+1)} = γ z^{(ℓ)} + b + W σ(z^{(ℓ)}), W ~ N(0, C_W/n),
b ~ N(0, C_b), every hidden layer of the same width n (the residual sum needs matching widths).
Batched over networks like :func:`dltheory.nets.random_mlp.sample_random_mlps` and returning the same
:class:`~dltheory.nets.random_mlp.EnsembleStatistics`, so the estimators of
:mod:`dltheory.nets.estimators` apply unchanged.

``method="gram"`` (default) samples W σ(z) without drawing W: given layer ℓ the rows of W S (S = σ(z), n × P)
are i.i.d. N(0, (C_W/n) SᵀS), so one draws n_{ℓ+1} × P normals and multiplies by a square root of the
P × P Gram matrix — exact in distribution because each layer's W is fresh [DER], and n/P times fewer
random numbers than ``method="weights"`` (which draws W, b in the same order as the plain sampler, so
γ = 0 reproduces :func:`~dltheory.nets.random_mlp.sample_random_mlps` draw for draw).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from dltheory.activations import TensorFn, TorchActivation, resolve_torch_activation
from dltheory.errors import DLTheoryError
from dltheory.activations import TensorFn, TorchActivation, resolve_torch_activation
from dltheory.nets._engine import (check_dtype, check_generator, check_inputs, check_int, default_chunk_size,
                                   draw_layer, forward_layer, layer_statistics)
from dltheory.nets.random_mlp import EnsembleStatistics

__all__ = ["sample_residual_mlps"]


def _gram_layer(s: torch.Tensor, n_out: int, cb: float, cw: float, g: torch.Generator) -> torch.Tensor:
    """b + W s for fresh W ~ N(0, C_W/n_in), b ~ N(0, C_b), drawn in Gram space; s is (chunk, n_in, P)."""
    c, n_in, p = s.shape
    if p == 1:  # one input: the row variance is a scalar per network
        scale = (cb + (cw / n_in) * (s * s).sum(1, keepdim=True)).sqrt()  # (c, 1, 1)
        return torch.randn(c, n_out, 1, generator=g, dtype=s.dtype) * scale
    gram = cb + (cw / n_in) * torch.bmm(s.transpose(1, 2), s)  # (c, P, P): covariance of each output row
    vals, vecs = torch.linalg.eigh(gram)
    root = vecs * vals.clamp_min(0.0).sqrt()[:, None, :]  # root rootᵀ = gram
    u = torch.randn(c, n_out, p, generator=g, dtype=s.dtype)
    return torch.bmm(u, root.transpose(1, 2))


def sample_residual_mlps(
    x: np.ndarray,
    depth: int,
    width: int | Sequence[int],
    gamma: float,
    activation: str | TorchActivation | TensorFn = "relu",
    cb: float = 0.0,
    cw: float = 1.0,
    n_networks: int = 1000,
    *,
    first_cb: float | None = None,
    first_cw: float | None = None,
    generator: torch.Generator | int,
    chunk_size: int | None = None,
    dtype: torch.dtype | str = torch.float64,
    method: str = "gram",
) -> EnsembleStatistics:
    """Sample ``n_networks`` random residual MLPs and return per-network preactivation statistics (§8).

    Parameters
    ----------
    x : array, shape (P, n0)
    depth : int
        L ≥ 1 layers (layer 1 is the plain input map, layers 2..L are residual blocks).
    width : int or sequence of L equal ints
        Hidden width n (a sequence must have equal entries: mismatched widths are an error).
    gamma : float
        Residual strength in [0, 1).
    activation : str, TorchActivation or callable
    cb, cw : float
        C_b ≥ 0, C_W > 0 of the residual blocks.
    n_networks : int
    first_cb, first_cw : float, optional
        First-layer (C_b, C_W); default the block values.
    generator : torch.Generator or int
    chunk_size : int, optional
    dtype : torch.float64 (default) or torch.float32
    method : {"gram", "weights"}
        Gram-space sampling of W σ(z) (exact, n/P× fewer normals) or explicit weight matrices.

    Returns
    -------
    EnsembleStatistics
    """
    from dltheory.effective.residual import check_gamma

    gamma = check_gamma(gamma)
    depth = check_int(depth, "depth", 1)
    if isinstance(width, (int, np.integer)) and not isinstance(width, bool):
        n = check_int(width, "width", 1)
    else:
        ws = [check_int(w, "width", 1) for w in width]
        if len(ws) != depth or len(set(ws)) != 1:
            raise DLTheoryError(f"width={tuple(width)!r}: a residual MLP needs {depth} equal widths "
                                "(z' = γz + ... adds layers)")
        n = ws[0]
    n_networks = check_int(n_networks, "n_networks", 1)
    if not (np.isfinite(cb) and cb >= 0 and np.isfinite(cw) and cw > 0):
        raise DLTheoryError(f"cb={cb!r}, cw={cw!r}: need C_b >= 0 and C_W > 0")
    if method not in ("gram", "weights"):
        raise DLTheoryError(f"method={method!r}: accepted 'gram' or 'weights'")
    cb0 = cb if first_cb is None else float(first_cb)
    cw0 = cw if first_cw is None else float(first_cw)
    dtype = check_dtype(dtype)
    xt = check_inputs(x, dtype, "cpu")
    g = check_generator(generator, "cpu")
    act = resolve_torch_activation(activation)
    n0, p = xt.shape[1], xt.shape[0]
    widths = (n,) * depth
    if chunk_size is None:
        chunk_size = default_chunk_size(widths, n0, n_networks, itemsize=xt.element_size())
    outs = [np.empty((n_networks, depth, p, p)), np.empty((n_networks, depth, p)), np.empty((n_networks, depth, p))]
    x_in = xt.T.contiguous()
    with torch.no_grad():
        for start in range(0, n_networks, chunk_size):
            c = min(chunk_size, n_networks - start)
            z = x_in.expand(c, n0, p)
            for layer in range(depth):
                if method == "gram":
                    src = z if layer == 0 else act.fn(z)
                    c_w, c_b = (cw0, cb0) if layer == 0 else (cw, cb)
                    new = _gram_layer(src, n, c_b, c_w, g)
                    z = new if layer == 0 else gamma * z + new
                    for out, stat in zip(outs, layer_statistics(z, False)):
                        out[start:start + c, layer] = stat.cpu().numpy()
                    continue
                w, b = draw_layer(c, n, z.shape[1], g, dtype, "cpu")
                if layer == 0:
                    z = forward_layer(z, w, b, cb0, cw0, None)
                else:
                    z = gamma * z + forward_layer(z, w, b, cb, cw, act.fn)
                for out, stat in zip(outs, layer_statistics(z, False)):
                    out[start:start + c, layer] = stat.cpu().numpy()
    return EnsembleStatistics(
        second_moment=outs[0], fourth_moment=outs[1], pair_fourth=outs[2], pair_four_point=None,
        input_dim=n0, widths=widths, activation=act.name, cb=np.array([cb0] + [cb] * (depth - 1)),
        cw=np.array([cw0] + [cw] * (depth - 1)),
    )
