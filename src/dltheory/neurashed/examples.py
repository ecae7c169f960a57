"""Examples as feature masks per level, label noise, and train/test tasks (neurashed.md §4).

An example of true class c activates feature f independently with probability p_f if c ∈ C(f)
and π_f otherwise, redrawn until at least one *owned* feature is active at every level. Training
example i also activates its own r idiosyncratic features; test examples have none. With
probability ρ the observed training label is drawn uniformly from the other K − 1 classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import DLTheoryError, require
from dltheory.neurashed.graph import FeatureGraph, add_idiosyncratic

__all__ = ["Examples", "Task", "draw_masks", "examples_from_masks", "make_task", "noisy_labels"]


@dataclass(frozen=True)
class Examples:
    """A set of examples.

    Attributes
    ----------
    masks : tuple of ndarray, level ℓ has shape (n, F_ℓ) bool
        Active features a_ℓ(x).
    true_label, observed_label : (n,) int ndarray
    is_noisy : (n,) bool ndarray
    """

    masks: tuple[np.ndarray, ...]
    true_label: np.ndarray
    observed_label: np.ndarray
    is_noisy: np.ndarray

    def __len__(self) -> int:
        return int(len(self.true_label))

    def batch(self, idx) -> list[np.ndarray]:
        """Float64 masks of the examples ``idx``, one (|idx|, F_ℓ) array per level."""
        return [m[idx].astype(np.float64) for m in self.masks]


@dataclass(frozen=True)
class Task:
    """A graph (with the idiosyncratic features of ``train``) and train/test examples."""

    graph: FeatureGraph
    train: Examples
    test: Examples


def noisy_labels(true_label, n_classes: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Observed labels: with probability ρ uniform over the other K − 1 classes (§4)."""
    require(0.0 <= rho <= 1.0, f"label noise rho must be a probability in [0, 1]; got {rho}")
    true_label = np.asarray(true_label)
    flip = rng.random(len(true_label)) < rho
    shift = rng.integers(1, n_classes, size=len(true_label)) if n_classes > 1 else np.zeros(len(true_label), int)
    return np.where(flip, (true_label + shift) % n_classes, true_label).astype(np.int64)


def draw_masks(graph: FeatureGraph, labels, rng: np.random.Generator, max_redraws: int = 10_000) -> list[np.ndarray]:
    """Masks of shared features for examples of true classes ``labels`` (§4), one (n, F_ℓ) bool per level.

    Idiosyncratic features (``graph.idio_example >= 0``) are left inactive.
    """
    labels = np.asarray(labels, dtype=np.int64)
    shared = graph.idio_example < 0
    for l, own in enumerate(graph.owners):
        cols = own if l < graph.n_levels - 1 else own[shared]
        missing = ~cols.any(axis=0)
        bad = np.unique(labels)[missing[np.unique(labels)]]
        require(len(bad) == 0, f"class {bad[0] if len(bad) else ''} owns no feature at level {l + 1}; cannot draw its examples")
    masks = [np.zeros((len(labels), s), dtype=bool) for s in graph.level_sizes]
    todo = np.arange(len(labels))
    for _ in range(max_redraws):
        if len(todo) == 0:
            return masks
        ok = np.ones(len(todo), dtype=bool)
        for l, own in enumerate(graph.owners):
            owned = own[:, labels[todo]].T  # (n, F_ℓ)
            prob = np.where(owned, graph.p_active[l], graph.p_cross[l])
            if l == graph.n_levels - 1:
                prob = prob * shared
            m = rng.random(prob.shape) < prob
            masks[l][todo] = m
            ok &= (m & owned).any(axis=1)
        todo = todo[~ok]
    raise RuntimeError(f"could not draw masks with an owned feature at every level in {max_redraws} tries")


def examples_from_masks(graph: FeatureGraph, masks, true_label, observed_label=None) -> Examples:
    """Validated :class:`Examples` from user masks (one (n, F_ℓ) 0/1 array per level).

    Raises :class:`~dltheory.errors.DLTheoryError` when a mask has the wrong shape or an example
    has no active feature at some level.
    """
    require(len(masks) == graph.n_levels, f"masks must have one array per level ({graph.n_levels}); got {len(masks)}")
    true_label = np.asarray(true_label, dtype=np.int64)
    n = len(true_label)
    require(bool(np.all((true_label >= 0) & (true_label < graph.n_classes))),
            f"labels must lie in [0, {graph.n_classes})")
    out = []
    for l, m in enumerate(masks):
        m = np.asarray(m)
        require(m.shape == (n, graph.level_sizes[l]), f"masks[{l}] must have shape ({n}, {graph.level_sizes[l]}); got {m.shape}")
        require(bool(np.isin(m, (0, 1)).all()), f"masks[{l}] must contain only 0/1")
        m = m.astype(bool)
        empty = ~m.any(axis=1)
        if empty.any():
            raise DLTheoryError(f"example {int(np.flatnonzero(empty)[0])} has no active feature at level {l + 1}; "
                                "every example needs at least one active feature per level")
        out.append(m)
    obs = true_label if observed_label is None else np.asarray(observed_label, dtype=np.int64)
    require(obs.shape == true_label.shape, "observed_label must have the same shape as true_label")
    return Examples(tuple(out), true_label, obs, obs != true_label)


def make_task(graph: FeatureGraph, *, n_train_per_class: int = 100, n_test_per_class: int = 100, r: int = 2,
              kappa: float = 1.0, label_noise: float = 0.0, rng: np.random.Generator) -> Task:
    """Draw training and test sets from ``graph`` (neurashed.md §4) and add idiosyncratic features.

    Parameters
    ----------
    graph : FeatureGraph
        Without idiosyncratic features.
    n_train_per_class, n_test_per_class : int
    r : int
        Idiosyncratic features per training example (0: none).
    kappa : float
        Initial-amount scale κ of idiosyncratic features.
    label_noise : float
        ρ, probability that a training label is replaced by another class.
    rng : numpy.random.Generator
    """
    require(not (graph.idio_example >= 0).any(), "graph already has idiosyncratic features")
    for name, v in (("n_train_per_class", n_train_per_class), ("n_test_per_class", n_test_per_class)):
        require(isinstance(v, (int, np.integer)) and v >= 1, f"{name} must be a positive int; got {v}")
    k = graph.n_classes
    y_tr = np.repeat(np.arange(k), n_train_per_class)
    y_te = np.repeat(np.arange(k), n_test_per_class)
    obs = noisy_labels(y_tr, k, label_noise, rng)
    m_tr = draw_masks(graph, y_tr, rng)
    m_te = draw_masks(graph, y_te, rng)
    full = add_idiosyncratic(graph, y_tr, obs, r, kappa)
    n_idio = full.level_sizes[-1] - graph.level_sizes[-1]
    idio_tr = np.zeros((len(y_tr), n_idio), dtype=bool)
    if n_idio:
        idio_tr[full.idio_example[graph.level_sizes[-1]:], np.arange(n_idio)] = True
    m_tr[-1] = np.hstack([m_tr[-1], idio_tr])
    m_te[-1] = np.hstack([m_te[-1], np.zeros((len(y_te), n_idio), dtype=bool)])
    train = Examples(tuple(m_tr), y_tr, obs, obs != y_tr)
    test = Examples(tuple(m_te), y_te, y_te.copy(), np.zeros(len(y_te), dtype=bool))
    return Task(full, train, test)
