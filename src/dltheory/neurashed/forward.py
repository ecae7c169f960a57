"""State, forward pass and closed-form backward pass (neurashed.md §5–6).

Parameters are θ_f = log n_f (one flat vector, level after level). The *path model* (default):

    u_1 = a_1 ⊙ n_1,   u_{ℓ+1} = a_{ℓ+1} ⊙ n_{ℓ+1} ⊙ (E_ℓᵀ u_ℓ),   z = Rᵀ u_L

so z_c is the sum over active paths f_1 → … → f_L → c of the product of amounts. The *flat*
variant sums a_f n_f over all features owned by (or, at level L, read out to) c. The optional
*normalized readout* uses z̄ = z / Σ_c z_c and p = softmax(β_n z̄), β_n = 5 (§6).

All functions take a batch of masks ``a`` (list of (B, F_ℓ) float arrays) and return per-example
quantities. Non-finite values or θ > θ_max = 600 raise :class:`OverflowGuardError` — never a silent NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dltheory.errors import DLTheoryError, require
from dltheory.neurashed.graph import FeatureGraph

__all__ = ["OverflowGuardError", "Forward", "init_theta", "forward", "backward", "loss_and_grad",
           "logit_gradient", "THETA_MAX", "READOUTS"]

THETA_MAX = 600.0
READOUTS = ("path", "flat")


class OverflowGuardError(DLTheoryError):
    """The state left the range where amounts and logits are finite (θ > 600 or a non-finite value)."""


@dataclass
class Forward:
    """Result of :func:`forward` for a batch of B examples.

    Attributes
    ----------
    flows : list of (B, F_ℓ) arrays
        u_ℓ(x) (path model) or a_ℓ ⊙ n_ℓ (flat).
    logits : (B, K) array
        z(x) (un-normalized, also when ``normalized``).
    probs : (B, K) array
        softmax(β z) or softmax(β_n z̄).
    """

    flows: list[np.ndarray]
    logits: np.ndarray
    probs: np.ndarray
    readout: str
    normalized: bool
    beta: float


def init_theta(graph: FeatureGraph, *, n0: float = 0.5, sigma0: float = 0.1, rng: np.random.Generator) -> np.ndarray:
    """θ(0) = log(n_0 κ_f) + σ_0 ξ_f, ξ ~ N(0, 1), shape (F,) (§5)."""
    require(n0 > 0, f"n0 must be > 0; got {n0}")
    require(sigma0 >= 0, f"sigma0 must be >= 0; got {sigma0}")
    return np.log(n0 * graph.init_scale) + sigma0 * rng.standard_normal(graph.n_features)


def check_theta(theta: np.ndarray) -> None:
    """Raise :class:`OverflowGuardError` if θ is non-finite or exceeds θ_max = 600 (§6)."""
    if not np.all(np.isfinite(theta)):
        raise OverflowGuardError(f"non-finite parameter: {int((~np.isfinite(theta)).sum())} of θ are NaN/inf")
    top = float(theta.max(initial=-np.inf))
    if top > THETA_MAX:
        raise OverflowGuardError(f"θ reached {top:.1f} > θ_max = {THETA_MAX:g}: amounts overflow; "
                                 "use the gradient rule or the guarded activity rule")


def _times(u: np.ndarray, mat) -> np.ndarray:
    """u @ mat for dense or sparse ``mat`` (result dense)."""
    if sp.issparse(mat):
        return np.asarray((mat.T @ u.T).T)
    return u @ mat


def _readout_mats(graph: FeatureGraph, readout: str) -> list:
    if readout == "path":
        return []
    mats = [o.astype(np.float64) for o in graph.owners[:-1]]
    return mats + [graph.readout]


def forward(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], *, readout: str = "path",
            normalized: bool = False, beta: float | None = None) -> Forward:
    """Forward pass for a batch of masks ``a`` (list of (B, F_ℓ)), §6.

    ``beta`` defaults to 1 (plain softmax) or 5 (normalized readout).
    """
    require(readout in READOUTS, f"readout must be one of {READOUTS}; got {readout!r}")
    check_theta(theta)
    beta = (5.0 if normalized else 1.0) if beta is None else float(beta)
    n = [np.exp(t) for t in graph.split(theta)]
    if readout == "path":
        flows = [a[0] * n[0]]
        for l in range(graph.n_levels - 1):
            flows.append(a[l + 1] * n[l + 1] * _times(flows[l], graph.edges[l]))
        z = _times(flows[-1], graph.readout)
    else:
        flows = [a[l] * n[l] for l in range(graph.n_levels)]
        mats = _readout_mats(graph, readout)
        z = sum(_times(flows[l], mats[l]) for l in range(graph.n_levels))
    if not np.all(np.isfinite(z)):
        raise OverflowGuardError("logits overflowed (non-finite z): amounts too large for float64")
    zz = z / np.maximum(z.sum(axis=1, keepdims=True), 1e-300) if normalized else z
    s = beta * zz
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    return Forward(flows, z, p, readout, normalized, beta)


def _dz_from_dloss_dscaled(fwd: Forward, g: np.ndarray) -> np.ndarray:
    """Chain rule through the normalized readout: g = ∂ℓ/∂(β z̄) ↦ ∂ℓ/∂z."""
    if not fwd.normalized:
        return fwd.beta * g
    s = np.maximum(fwd.logits.sum(axis=1, keepdims=True), 1e-300)
    zbar = fwd.logits / s
    return fwd.beta * (g - (g * zbar).sum(axis=1, keepdims=True)) / s


def backward(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], fwd: Forward, dz: np.ndarray) -> np.ndarray:
    """Per-example ∂(dz · z)/∂θ, shape (B, F) (§6 backward pass).

    ``dz`` (B, K) is ∂ℓ/∂z per example; returns u_{ℓ,f} b_{ℓ,f} with b_L = R dz and
    b_{ℓ−1} = E_{ℓ−1}(b_ℓ ⊙ a_ℓ ⊙ n_ℓ) for the path model, a_f n_f (O dz)_f for the flat one.
    """
    L = graph.n_levels
    out = np.empty((dz.shape[0], graph.n_features))
    if fwd.readout == "path":
        n = [np.exp(t) for t in graph.split(theta)]
        b = _times(dz, graph.readout.T)  # b_L = R dz
        for l in range(L - 1, -1, -1):
            out[:, graph.level_slice(l)] = fwd.flows[l] * b
            if l > 0:
                b = _times(b * a[l] * n[l], graph.edges_t[l - 1])
    else:
        mats = _readout_mats(graph, fwd.readout)
        for l in range(L):
            mt = mats[l].T
            out[:, graph.level_slice(l)] = fwd.flows[l] * _times(dz, mt)
    return out


def loss_and_grad(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels, *, readout: str = "path",
                  normalized: bool = False, beta: float | None = None, per_example: bool = False):
    """Cross-entropy loss −log p_y and its θ-gradient (§6).

    Returns
    -------
    loss : float (batch mean) or (B,) array if ``per_example``
    grad : (F,) batch-mean gradient, or (B, F) if ``per_example``
    fwd : Forward
    """
    labels = np.asarray(labels, dtype=np.int64)
    fwd = forward(graph, theta, a, readout=readout, normalized=normalized, beta=beta)
    onehot = np.zeros_like(fwd.probs)
    onehot[np.arange(len(labels)), labels] = 1.0
    loss = -np.log(np.maximum(fwd.probs[np.arange(len(labels)), labels], 1e-320))
    dz = _dz_from_dloss_dscaled(fwd, fwd.probs - onehot)
    g = backward(graph, theta, a, fwd, dz)
    if per_example:
        return loss, g, fwd
    return float(loss.mean()), g.mean(axis=0), fwd


def logit_gradient(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], directions: np.ndarray, *,
                   readout: str = "path") -> np.ndarray:
    """Per-example ∂(v_x · z(x))/∂θ for direction vectors ``directions`` (B, K): rows of J(x)ᵀ v_x (§9)."""
    fwd = forward(graph, theta, a, readout=readout)
    return backward(graph, theta, a, fwd, np.asarray(directions, dtype=np.float64))
