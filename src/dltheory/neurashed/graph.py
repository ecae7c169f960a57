"""The neurashed feature graph: levels of features with owner sets, edges, readout (neurashed.md §3).

Features live in levels ℓ = 1..L (1 = lowest). Feature f has an owner set C(f) ⊆ {0..K−1}, an
activation probability p_f in examples of owner classes and a cross-activation probability π_f in
examples of other classes. Edges E_ℓ ⊆ F_ℓ × F_{ℓ+1} say which lower feature a higher feature is
built from; the readout R ⊆ F_L × classes sends top features to class logits.

Parameters θ are stored as one flat vector, level after level (see :attr:`FeatureGraph.offsets`).
Edges are dense float64 arrays for small graphs and ``scipy.sparse`` CSR matrices when
``sparse=True`` (large graphs, §3 "Storage").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from dltheory.errors import DLTheoryError, require

__all__ = ["FeatureGraph", "semantic_tree", "graph_from_adjacency", "add_idiosyncratic", "DEFAULT_PARTITIONS"]

#: Default class hierarchy of §3: {0,1,2,3} → {0,1},{2,3} → {0},{1},{2},{3}.
DEFAULT_PARTITIONS = (((0, 1, 2, 3),), ((0, 1), (2, 3)), ((0,), (1,), (2,), (3,)))


@dataclass(frozen=True)
class FeatureGraph:
    """A levelled feature graph (neurashed.md §3).

    Attributes
    ----------
    owners : tuple of ndarray, level ℓ has shape (F_ℓ, K) bool
        ``owners[ℓ][f, c]`` is True iff class c ∈ C(f).
    edges : tuple of (F_ℓ, F_{ℓ+1}) arrays, L−1 of them
        0/1 float64, dense ``ndarray`` or ``scipy.sparse`` CSR.
    readout : (F_L, K) array
        0/1 float64 readout R (dense or CSR like ``edges``).
    p_active, p_cross : tuple of ndarray, level ℓ has shape (F_ℓ,)
        Activation probability in owner-class examples and cross-activation probability.
    partitions : tuple or None
        Class hierarchy (L nested partitions, coarsest first) when the graph is a semantic tree.
    idio_example : (F_L,) int ndarray
        Training-example index owning each idiosyncratic feature, −1 for shared features.
    init_scale : (F,) float ndarray
        κ_f of §5 (κ for idiosyncratic features, 1 otherwise).
    """

    owners: tuple[np.ndarray, ...]
    edges: tuple[Any, ...]
    readout: Any
    p_active: tuple[np.ndarray, ...]
    p_cross: tuple[np.ndarray, ...]
    partitions: tuple | None = None
    idio_example: np.ndarray = field(default=None)  # type: ignore[assignment]
    init_scale: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.idio_example is None:
            object.__setattr__(self, "idio_example", np.full(int(self.owners[-1].shape[0]), -1, dtype=np.int64))
        if self.init_scale is None:
            object.__setattr__(self, "init_scale", np.ones(int(sum(o.shape[0] for o in self.owners))))
        edges_t = tuple(e.T.tocsr() if sp.issparse(e) else np.ascontiguousarray(e.T) for e in self.edges)
        object.__setattr__(self, "_edges_t", edges_t)
        sizes = tuple(int(o.shape[0]) for o in self.owners)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        object.__setattr__(self, "_sizes", sizes)
        object.__setattr__(self, "_offsets", offsets)
        object.__setattr__(self, "_slices", tuple(slice(int(offsets[l]), int(offsets[l + 1])) for l in range(len(sizes))))

    # --- sizes and indexing -------------------------------------------------------------------
    @property
    def n_levels(self) -> int:
        return len(self.owners)

    @property
    def n_classes(self) -> int:
        return int(self.owners[0].shape[1])

    @property
    def level_sizes(self) -> tuple[int, ...]:
        return self._sizes  # type: ignore[attr-defined]

    @property
    def offsets(self) -> np.ndarray:
        """Start of each level in the flat θ vector, shape (L+1,)."""
        return self._offsets.copy()  # type: ignore[attr-defined]

    @property
    def n_features(self) -> int:
        return int(sum(self.level_sizes))

    @property
    def is_sparse(self) -> bool:
        return any(sp.issparse(e) for e in self.edges)

    @property
    def edges_t(self) -> tuple[Any, ...]:
        """Transposed edge matrices, cached (CSR when sparse)."""
        return self._edges_t  # type: ignore[attr-defined]

    def level_slice(self, level: int) -> slice:
        """Slice of level ``level`` (0-based) in the flat θ vector."""
        return self._slices[level]  # type: ignore[attr-defined]

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        """Views of θ per level; ``theta`` has shape (..., F)."""
        return [theta[..., self.level_slice(l)] for l in range(self.n_levels)]

    @property
    def is_idiosyncratic(self) -> np.ndarray:
        """(F,) bool: which features of the flat vector are idiosyncratic."""
        out = np.zeros(self.n_features, dtype=bool)
        out[self.level_slice(self.n_levels - 1)] = self.idio_example >= 0
        return out

    def superclass_of(self) -> np.ndarray:
        """(K,) int: group index of each class at level L−1 of the hierarchy (0 if unknown)."""
        out = np.zeros(self.n_classes, dtype=np.int64)
        if self.partitions is not None and len(self.partitions) >= 2:
            for g, group in enumerate(self.partitions[-2]):
                out[list(group)] = g
        return out

    def readout_dense(self) -> np.ndarray:
        return self.readout.toarray() if sp.issparse(self.readout) else np.asarray(self.readout)


def _check_partitions(partitions, n_levels_hint=None) -> tuple:
    require(isinstance(partitions, (list, tuple)) and len(partitions) >= 1,
            "partitions must be a non-empty sequence of partitions of the classes")
    parts = tuple(tuple(tuple(int(c) for c in g) for g in level) for level in partitions)
    classes = sorted(c for g in parts[0] for c in g)
    k = len(classes)
    require(classes == list(range(k)), f"partitions[0] must cover classes 0..K-1 exactly once; got {parts[0]}")
    for l, level in enumerate(parts):
        flat = sorted(c for g in level for c in g)
        require(flat == classes, f"partitions[{l}] must be a partition of classes 0..{k - 1}; got {level}")
        if l > 0:
            for g in level:
                require(any(set(g) <= set(h) for h in parts[l - 1]),
                        f"partitions must be nested: group {g} of level {l} is not inside a group of level {l - 1}")
    return parts


def semantic_tree(partitions=DEFAULT_PARTITIONS, features_per_group=(8, 6, 6), *,
                  p_range=(0.3, 0.9), pi_max: float = 0.5, q_edge: float = 1.0, sparse: bool = False,
                  rng: np.random.Generator) -> FeatureGraph:
    """The semantic-tree generator of neurashed.md §3 *(project choice)*.

    Parameters
    ----------
    partitions : sequence of L partitions of the classes, coarsest first
        Default {0,1,2,3} → {0,1},{2,3} → singletons (K = 4, L = 3).
    features_per_group : sequence of L ints
        m_ℓ features per group of level ℓ (default (8, 6, 6): 8 + 12 + 24 features).
    p_range : (p_lo, p_hi)
        p_f ~ U(p_lo, p_hi). The pure tree is (0.5, 0.5) with ``pi_max = 0``.
    pi_max : float
        Cross-activation π_f ~ U(0, π_max) for levels ℓ ≥ 2 (0 at level 1).
    q_edge : float in (0, 1]
        Keep each allowed edge with this probability; a node left without parents gets one back.
    sparse : bool
        Store edges and readout as CSR matrices.
    rng : numpy.random.Generator
    """
    parts = _check_partitions(partitions)
    L = len(parts)
    m = tuple(int(v) for v in features_per_group)
    require(len(m) == L and all(v >= 1 for v in m),
            f"features_per_group must have one positive int per level ({L}); got {features_per_group}")
    p_lo, p_hi = (float(v) for v in p_range)
    require(0.0 < p_lo <= p_hi <= 1.0, f"p_range must satisfy 0 < p_lo <= p_hi <= 1; got {p_range}")
    require(0.0 <= pi_max <= 1.0, f"pi_max must be a probability in [0, 1]; got {pi_max}")
    require(0.0 < q_edge <= 1.0, f"q_edge must be in (0, 1]; got {q_edge}")
    k = sum(len(g) for g in parts[0])
    owners, p_active, p_cross = [], [], []
    for l, level in enumerate(parts):
        o = np.zeros((m[l] * len(level), k), dtype=bool)
        for gi, g in enumerate(level):
            o[gi * m[l]:(gi + 1) * m[l], list(g)] = True
        owners.append(o)
        p_active.append(rng.uniform(p_lo, p_hi, size=len(o)))
        p_cross.append(np.zeros(len(o)) if l == 0 else rng.uniform(0.0, pi_max, size=len(o)))
    edges = [_tree_edges(parts, m, l, q_edge, sparse, rng) for l in range(L - 1)]
    readout = owners[-1].astype(np.float64)
    return FeatureGraph(tuple(owners), tuple(edges), sp.csr_matrix(readout) if sparse else readout,
                        tuple(p_active), tuple(p_cross), parts)


def graph_from_adjacency(adjacency, levels, owners, readout, *, p_active=None, p_cross=None,
                         sparse: bool = False) -> FeatureGraph:
    """A user-defined graph from a feature adjacency matrix, validated (neurashed.md §3).

    Parameters
    ----------
    adjacency : (F, F) array_like of 0/1
        ``adjacency[f, g] = 1`` when higher feature g is built from f.
    levels : (F,) int array_like
        Level of each feature, 1..L, every level non-empty.
    owners : (F, K) bool array_like
        Owner sets C(f).
    readout : (F, K) array_like of 0/1
        Readout edges; only top-level features may have them.
    p_active, p_cross : (F,) array_like, optional
        Activation probabilities (default 0.5 and 0).

    Raises
    ------
    DLTheoryError
        On a cycle, an edge that does not go from level ℓ to ℓ+1, a feature above level 1 without a
        parent, readout from below the top level, or probabilities outside [0, 1].
    """
    a = np.asarray(sp.csr_matrix(adjacency).toarray() if sp.issparse(adjacency) else adjacency, dtype=np.float64)
    levels = np.asarray(levels)
    n = len(levels)
    require(a.shape == (n, n), f"adjacency must have shape (F, F) = ({n}, {n}); got {a.shape}")
    require(bool(np.isin(a, (0.0, 1.0)).all()), "adjacency must contain only 0 and 1")
    require(np.issubdtype(levels.dtype, np.integer) and levels.min() >= 1,
            "levels must be integers >= 1 (1 = lowest level)")
    # Cycle check (Kahn's algorithm) before the level check, so a cycle is reported as such.
    indeg = a.sum(axis=0).astype(np.int64)
    queue = list(np.flatnonzero(indeg == 0))
    seen = 0
    while queue:
        f = queue.pop()
        seen += 1
        for g in np.flatnonzero(a[f]):
            indeg[g] -= 1
            if indeg[g] == 0:
                queue.append(g)
    require(seen == n, "adjacency contains a cycle; a feature graph must be acyclic")
    L = int(levels.max())
    require(set(levels.tolist()) == set(range(1, L + 1)), f"levels must use every value 1..{L}; got {sorted(set(levels.tolist()))}")
    src, dst = np.nonzero(a)
    bad = levels[dst] != levels[src] + 1
    if bad.any():
        raise DLTheoryError(f"every edge must go from level l to level l+1; edge {int(src[bad][0])}->"
                            f"{int(dst[bad][0])} goes from level {levels[src[bad][0]]} to {levels[dst[bad][0]]}")
    orphan = (levels > 1) & (a.sum(axis=0) == 0)
    if orphan.any():
        raise DLTheoryError(f"feature {int(np.flatnonzero(orphan)[0])} above level 1 has no parent")
    own = np.asarray(owners, dtype=bool)
    require(own.ndim == 2 and own.shape[0] == n, f"owners must have shape (F, K) with F = {n}; got {own.shape}")
    r = np.asarray(readout, dtype=np.float64)
    require(r.shape == own.shape, f"readout must have shape {own.shape}; got {r.shape}")
    require(not r[levels < L].any(), "readout edges must start at top-level features only")
    p_active = np.full(n, 0.5) if p_active is None else np.asarray(p_active, dtype=np.float64)
    p_cross = np.zeros(n) if p_cross is None else np.asarray(p_cross, dtype=np.float64)
    for name, p in (("p_active", p_active), ("p_cross", p_cross)):
        require(p.shape == (n,) and bool(np.all((p >= 0) & (p <= 1))),
                f"{name} must be probabilities in [0, 1] of shape ({n},)")
    order = np.argsort(levels, kind="stable")
    idx = [order[levels[order] == l] for l in range(1, L + 1)]
    conv = (lambda m: sp.csr_matrix(m)) if sparse else (lambda m: m)
    edges = tuple(conv(a[np.ix_(idx[l], idx[l + 1])]) for l in range(L - 1))
    return FeatureGraph(tuple(own[i] for i in idx), edges, conv(r[idx[-1]]),
                        tuple(p_active[i] for i in idx), tuple(p_cross[i] for i in idx))


def add_idiosyncratic(graph: FeatureGraph, true_label, observed_label, r: int, kappa: float) -> FeatureGraph:
    """Append r idiosyncratic top-level features per training example (neurashed.md §3).

    Parents: every level-(L−1) feature whose owner set contains the example's *true* class.
    Readout: one edge to the *observed* label. Initial amount scaled by κ (§5). Feature j·r + s
    belongs to training example j.
    """
    require(isinstance(r, (int, np.integer)) and r >= 0, f"r (idiosyncratic features per example) must be an int >= 0; got {r}")
    require(kappa > 0, f"kappa must be > 0; got {kappa}")
    require(graph.n_levels >= 2, "idiosyncratic features need a graph with at least 2 levels")
    true_label, observed_label = np.asarray(true_label), np.asarray(observed_label)
    if r == 0:
        return graph
    n, k = len(true_label), graph.n_classes
    ex = np.repeat(np.arange(n), r)
    own_new = np.zeros((n * r, k), dtype=bool)
    own_new[np.arange(n * r), true_label[ex]] = True
    parent_owner = graph.owners[-2]  # (F_{L-1}, K)
    e_new = parent_owner[:, true_label[ex]].astype(np.float64)  # (F_{L-1}, n r)
    r_new = np.zeros((n * r, k))
    r_new[np.arange(n * r), observed_label[ex]] = 1.0
    if graph.is_sparse:
        edges_last = sp.hstack([sp.csr_matrix(graph.edges[-1]), sp.csr_matrix(e_new)], format="csr")
        readout = sp.vstack([sp.csr_matrix(graph.readout), sp.csr_matrix(r_new)], format="csr")
    else:
        edges_last = np.hstack([graph.edges[-1], e_new])
        readout = np.vstack([graph.readout, r_new])
    scale = np.concatenate([graph.init_scale, np.full(n * r, float(kappa))])
    return replace(graph,
                   owners=graph.owners[:-1] + (np.vstack([graph.owners[-1], own_new]),),
                   edges=graph.edges[:-1] + (edges_last,), readout=readout,
                   p_active=graph.p_active[:-1] + (np.concatenate([graph.p_active[-1], np.zeros(n * r)]),),
                   p_cross=graph.p_cross[:-1] + (np.concatenate([graph.p_cross[-1], np.zeros(n * r)]),),
                   idio_example=np.concatenate([graph.idio_example, ex]), init_scale=scale)


def _bernoulli_positions(size: int, q: float, rng: np.random.Generator) -> np.ndarray:
    """Indices in [0, size) kept independently with probability q (geometric gaps; O(q·size) memory)."""
    if q >= 1.0:
        return np.arange(size)
    pos = np.empty(0, dtype=np.int64)
    last = -1
    while True:
        n = int(size * q + 10 * np.sqrt(size * q) + 10)
        new = last + np.cumsum(rng.geometric(q, size=n))
        pos = np.concatenate([pos, new[new < size]])
        if new[-1] >= size:
            return pos
        last = int(new[-1])


def _tree_edges(parts, m, l: int, q_edge: float, sparse: bool, rng: np.random.Generator):
    """E_ℓ of the semantic tree: (f, g) allowed iff C(g) ⊆ C(f), i.e. g's group lies inside f's group.

    Each allowed edge is kept with probability ``q_edge``; a child left without parents gets one
    uniformly chosen allowed parent back (§3). Built block-wise, so 10⁵-feature graphs stay sparse.
    """
    rows, cols = [], []
    n_rows, n_cols = m[l] * len(parts[l]), m[l + 1] * len(parts[l + 1])
    parent_block = np.empty(len(parts[l + 1]), dtype=np.int64)
    for gi, grp in enumerate(parts[l]):
        for hi, sub in enumerate(parts[l + 1]):
            if not set(sub) <= set(grp):
                continue
            parent_block[hi] = gi
            idx = _bernoulli_positions(m[l] * m[l + 1], q_edge, rng)
            rows.append(gi * m[l] + idx // m[l + 1])
            cols.append(hi * m[l + 1] + idx % m[l + 1])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    orphans = np.setdiff1d(np.arange(n_cols), cols)
    if len(orphans):
        blocks = parent_block[orphans // m[l + 1]]
        rows = np.concatenate([rows, blocks * m[l] + rng.integers(0, m[l], size=len(orphans))])
        cols = np.concatenate([cols, orphans])
    mat = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    return mat if sparse else mat.toarray()
