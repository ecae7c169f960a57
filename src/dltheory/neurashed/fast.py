"""Fast path of R-grad for single-example steps on the path model (neurashed.md §6, §7.1).

With |B| = 1 only the features active in the sampled example carry flow, so the forward and
backward passes of §6 can run on the example's active sub-graph: per training example we cache
the flat indices of its active features per level and the dense sub-matrices E_ℓ[A_ℓ, A_{ℓ+1}]
and R[A_L]. A step then costs O(|A|² ) instead of O(F + nnz(E)). The arithmetic is the same
closed form as :func:`~dltheory.neurashed.forward.backward`; ``tests/neurashed`` checks the two
against each other.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from dltheory.neurashed.examples import Examples
from dltheory.neurashed.forward import THETA_MAX, OverflowGuardError, check_theta
from dltheory.neurashed.graph import FeatureGraph

__all__ = ["ActiveCache", "build_cache", "grad_steps"]

#: Largest total number of cached sub-matrix entries (40 MB of float64); above it the general path is used.
MAX_CACHE_ENTRIES = 5_000_000


class ActiveCache:
    """Per-example active index sets and sub-matrices (see module docstring)."""

    def __init__(self, idx, edges, readout):
        self.idx = idx          # list over examples of list over levels of (|A_ℓ|,) flat indices
        self.edges = edges      # list over examples of list of (|A_ℓ|, |A_{ℓ+1}|) dense arrays
        self.readout = readout  # list over examples of (|A_L|, K) dense arrays
        self.idx_all = [np.concatenate(ix) for ix in idx]  # all active indices of an example
        self.slices = []        # position of each level inside idx_all
        for ix in idx:
            ends = np.cumsum([0] + [len(j) for j in ix])
            self.slices.append([slice(int(ends[l]), int(ends[l + 1])) for l in range(len(ix))])


def _sub(mat, rows, cols) -> np.ndarray:
    if sp.issparse(mat):
        return np.asarray(mat[rows][:, cols].toarray())
    return np.ascontiguousarray(mat[np.ix_(rows, cols)])


def build_cache(graph: FeatureGraph, examples: Examples) -> ActiveCache | None:
    """Cache of active sub-graphs for every example, or ``None`` when it would be too large."""
    offs = graph.offsets
    sizes = [m.sum(axis=1) for m in examples.masks]
    total = sum(int((sizes[l] * sizes[l + 1]).sum()) for l in range(graph.n_levels - 1))
    if total > MAX_CACHE_ENTRIES:
        return None
    idx, edges, readout = [], [], []
    for i in range(len(examples)):
        loc = [np.flatnonzero(m[i]) for m in examples.masks]
        idx.append([loc[l] + offs[l] for l in range(graph.n_levels)])
        edges.append([_sub(graph.edges[l], loc[l], loc[l + 1]) for l in range(graph.n_levels - 1)])
        readout.append(_sub(graph.readout, loc[-1], np.arange(graph.n_classes)))
    return ActiveCache(idx, edges, readout)


def grad_steps(cache: ActiveCache, theta: np.ndarray, labels: np.ndarray, order: np.ndarray, *,
               eta: float, lam: float) -> np.ndarray:
    """Apply R-grad (θ ← θ − η ∂ℓ/∂θ + log(1 − ηλ)) for the examples ``order`` in turn, in place.

    Raises :class:`OverflowGuardError` on non-finite logits or θ > θ_max (checked after the steps).
    """
    decay = math.log1p(-eta * lam)
    L = len(cache.idx[0])
    for i in order:
        ix, sl, es, rd = cache.idx_all[i], cache.slices[i], cache.edges[i], cache.readout[i]
        n_all = np.exp(theta[ix])
        n = [n_all[s] for s in sl]
        u = [n[0]]
        for l in range(L - 1):
            u.append(n[l + 1] * (u[l] @ es[l]))
        z = u[-1] @ rd
        zmax = z.max()
        if not math.isfinite(zmax):
            raise OverflowGuardError("logits overflowed (non-finite z): amounts too large for float64")
        p = np.exp(z - zmax)
        p /= p.sum()
        p[labels[i]] -= 1.0
        grad = np.empty(len(ix))
        b = rd @ p
        for l in range(L - 1, -1, -1):
            grad[sl[l]] = u[l] * b
            if l > 0:
                b = es[l - 1] @ (b * n[l])
        theta[ix] -= eta * grad
        theta += decay
    if theta.max() > THETA_MAX or not np.isfinite(theta).all():
        check_theta(theta)
    return theta
