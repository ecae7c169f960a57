"""Inputs for binary-synapse networks: PCA to D components, centring, training-set size P.

Implements weight-space.md §2. Raw data come from :mod:`dltheory.data` (offline loaders); this
module only reduces, centres and subsamples them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dltheory.data import Dataset, load_digits, load_mnist1d
from dltheory.errors import DLTheoryError, require

__all__ = ["PCAData", "load_dataset", "pca_reduce", "stratified_prefix", "regime_ratio"]


@dataclass(frozen=True)
class PCAData:
    """PCA-reduced classification data (weight-space.md §2).

    Attributes
    ----------
    x_train : ndarray, shape (P, D), float64
    y_train : ndarray, shape (P,), int64
    x_test : ndarray, shape (n_test, D), float64
    y_test : ndarray, shape (n_test,), int64
    n_classes : int
    meta : dict
        Name, preprocessing choices (centre, scale, standardize), explained variance.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    meta: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def subset_train(self, n_train: int, seed: int = 0) -> PCAData:
        """The first ``n_train`` examples of a seeded stratified permutation of the training split."""
        idx = stratified_prefix(self.y_train, n_train, seed)
        meta = dict(self.meta, n_train=int(n_train), subset_seed=int(seed))
        return PCAData(self.x_train[idx], self.y_train[idx], self.x_test, self.y_test, self.n_classes, meta)


def stratified_prefix(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of the first ``n`` entries of a seeded permutation in which every prefix is stratified.

    Each class is shuffled; its k-th member gets the key (k + u)/n_c with u ~ U(0, 1); sorting by
    the key interleaves the classes in proportion to their sizes.
    """
    y = np.asarray(y)
    require(isinstance(n, (int, np.integer)) and 1 <= n <= len(y), f"n_train must be in [1, {len(y)}]; got {n}")
    rng = np.random.default_rng(seed)
    keys = np.empty(len(y))
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        keys[members] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
    return np.argsort(keys, kind="stable")[:n]


def pca_reduce(ds: Dataset, n_components: int = 20, center: str = "train", scale: float = 1.0,
               standardize: bool = False) -> PCAData:
    """PCA with ``n_components`` fitted on the training split, no whitening (§2).

    Parameters
    ----------
    ds : Dataset
        Classification data (integer labels).
    center : {"train", "per_split"}
        Subtract the training mean from both splits, or each split's own mean.
    scale : float
        Scalar multiplying the reduced inputs (the LR-net is not scale invariant).
    standardize : bool
        Divide every component by its training standard deviation (project option; the spec's
        default is no whitening).
    """
    from sklearn.decomposition import PCA

    require(ds.n_classes is not None, "weight-space data must be a classification dataset (integer labels)")
    require(center in ("train", "per_split"), f"center must be 'train' or 'per_split'; got {center!r}")
    require(isinstance(n_components, (int, np.integer)) and 1 <= n_components <= ds.n_features,
            f"n_components must be in [1, {ds.n_features}]; got {n_components}")
    require(np.isfinite(scale) and scale > 0, f"scale must be a positive number; got {scale}")
    pca = PCA(n_components=int(n_components), svd_solver="full").fit(ds.x_train)
    mu_tr = ds.x_train.mean(axis=0)
    mu_te = mu_tr if center == "train" else ds.x_test.mean(axis=0)
    xtr = (ds.x_train - mu_tr) @ pca.components_.T
    xte = (ds.x_test - mu_te) @ pca.components_.T
    if standardize:
        sd = xtr.std(axis=0)
        xtr, xte = xtr / sd, xte / sd
    meta = {"name": ds.name, "n_components": int(n_components), "center": center, "scale": float(scale),
            "standardize": bool(standardize),
            "explained_variance_ratio": float(pca.explained_variance_ratio_.sum())}
    return PCAData(scale * xtr, ds.y_train.astype(np.int64), scale * xte, ds.y_test.astype(np.int64),
                   int(ds.n_classes), meta)


def load_dataset(name: str = "digits", n_components: int = 20, center: str = "train", scale: float = 1.0,
                 seed: int = 0, standardize: bool = False, mnist1d_samples: int = 25000) -> PCAData:
    """Offline data for weight-space experiments (§2): ``"digits"`` (pixels ÷ 16, 80/20 split) or ``"mnist1d"``.

    For any other data, build a :class:`dltheory.data.Dataset` with :func:`dltheory.data.from_arrays`
    (``standardize=False`` keeps pixels as given) and pass it to :func:`pca_reduce`.
    """
    if name == "digits":
        ds = load_digits(test_fraction=0.2, seed=seed, standardize=False)
        ds = Dataset(ds.x_train / 16.0, ds.y_train, ds.x_test / 16.0, ds.y_test, "digits", ds.n_classes)
    elif name == "mnist1d":
        ds = load_mnist1d(n_samples=mnist1d_samples, seed=seed, standardize=False)
    else:
        raise DLTheoryError(f"name must be 'digits' or 'mnist1d'; got {name!r} (use from_arrays + pca_reduce)")
    return pca_reduce(ds, n_components, center, scale, standardize)


def regime_ratio(layer_sizes: tuple[int, ...], n_train: int) -> float:
    """α = M/P, the number of weights over the number of training examples (§2; > 1: over-parameterized)."""
    sizes = tuple(int(s) for s in layer_sizes)
    require(len(sizes) >= 2 and min(sizes) >= 1, f"layer_sizes must have >= 2 positive entries; got {layer_sizes}")
    require(n_train >= 1, f"n_train must be >= 1; got {n_train}")
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) / n_train
