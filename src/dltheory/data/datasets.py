"""Offline datasets: scikit-learn's digits, locally generated MNIST-1D, synthetic tasks, user arrays.

Nothing here touches the network. Every loader takes an explicit seed and returns a
:class:`Dataset` with a fixed train/test split.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from dltheory.errors import DLTheoryError, require

__all__ = ["Dataset", "from_arrays", "load_digits", "load_mnist1d", "make_teacher_regression", "one_hot"]


@dataclass(frozen=True)
class Dataset:
    """A supervised dataset split into train and test.

    Attributes
    ----------
    x_train : ndarray, shape (n_train, d), float64
    y_train : ndarray, shape (n_train,) int labels, or (n_train, k) float targets
    x_test, y_test : ndarray
    name : str
    n_classes : int or None
        Number of classes for classification data, ``None`` for regression.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int | None = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def subset(self, n_train: int | None = None, n_test: int | None = None, classes=None) -> Dataset:
        """First ``n_train``/``n_test`` examples, optionally restricted to ``classes`` (relabelled 0..k-1)."""
        xtr, ytr, xte, yte = self.x_train, self.y_train, self.x_test, self.y_test
        n_classes = self.n_classes
        if classes is not None:
            require(self.n_classes is not None, "classes= needs a classification dataset")
            classes = list(classes)
            require(len(classes) >= 1 and all(0 <= c < self.n_classes for c in classes),
                    f"classes must be labels in [0, {self.n_classes}); got {classes}")
            remap = {c: i for i, c in enumerate(classes)}
            mtr, mte = np.isin(ytr, classes), np.isin(yte, classes)
            xtr, xte = xtr[mtr], xte[mte]
            ytr = np.array([remap[v] for v in ytr[mtr]], dtype=np.int64)
            yte = np.array([remap[v] for v in yte[mte]], dtype=np.int64)
            n_classes = len(classes)
        for name, n, avail in (("n_train", n_train, len(xtr)), ("n_test", n_test, len(xte))):
            require(n is None or 1 <= n <= avail, f"{name} must be in [1, {avail}]; got {n}")
        return Dataset(xtr[:n_train], ytr[:n_train], xte[:n_test], yte[:n_test], self.name, n_classes)


def one_hot(labels: np.ndarray, n_classes: int, centered: bool = False) -> np.ndarray:
    """One-hot targets, shape (n, n_classes); ``centered`` subtracts 1/n_classes (zero-mean rows)."""
    labels = np.asarray(labels)
    require(labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer), "labels must be a 1-D integer array")
    require(labels.size == 0 or (labels.min() >= 0 and labels.max() < n_classes),
            f"labels must lie in [0, {n_classes})")
    out = np.eye(n_classes)[labels]
    return out - 1.0 / n_classes if centered else out


def _split(x, y, test_fraction, rng) -> tuple[np.ndarray, ...]:
    require(0.0 < test_fraction < 1.0, f"test_fraction must be in (0, 1); got {test_fraction}")
    perm = rng.permutation(len(x))
    n_test = max(1, int(round(test_fraction * len(x))))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def _standardize(x_train, x_test):
    mu = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (x_train - mu) / sd, (x_test - mu) / sd


def from_arrays(x, y, *, test_fraction: float = 0.2, seed: int = 0, standardize: bool = True,
                name: str = "user") -> Dataset:
    """Wrap arrays a user brings (e.g. MNIST from disk) as a :class:`Dataset`.

    Parameters
    ----------
    x : array_like, shape (n, ...)
        Inputs; trailing dimensions are flattened.
    y : array_like, shape (n,) integer labels or (n, k) real targets
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    require(x.ndim >= 2 and x.shape[0] >= 2, f"x must have shape (n, ...) with n >= 2; got {x.shape}")
    require(len(y) == len(x), f"x and y must have the same length; got {len(x)} and {len(y)}")
    require(bool(np.isfinite(x).all()), "x contains non-finite values")
    x = x.reshape(len(x), -1)
    n_classes = None
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        require(y.min() >= 0, "integer labels must be non-negative")
        n_classes = int(y.max()) + 1
    else:
        y = y.astype(np.float64)
        require(bool(np.isfinite(y).all()), "y contains non-finite values")
    rng = np.random.default_rng(seed)
    xtr, ytr, xte, yte = _split(x, y, test_fraction, rng)
    if standardize:
        xtr, xte = _standardize(xtr, xte)
    return Dataset(xtr, ytr, xte, yte, name, n_classes)


def load_digits(*, test_fraction: float = 0.25, seed: int = 0, standardize: bool = True) -> Dataset:
    """scikit-learn's bundled 8×8 digits: 1797 examples, 64 features, 10 classes."""
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    return from_arrays(bunch.data, bunch.target.astype(np.int64), test_fraction=test_fraction, seed=seed,
                       standardize=standardize, name="digits")


def load_mnist1d(*, n_samples: int = 5000, seed: int = 0, standardize: bool = True) -> Dataset:
    """MNIST-1D (Greydanus 2020) generated locally: length-40 signals, 10 classes, 80/20 split.

    Uses ``mnist1d.data.make_dataset`` with the package's default arguments and our ``seed``. That
    function reseeds NumPy's and Python's global RNGs; we save and restore both, so calling this
    leaves global random state untouched.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    require(isinstance(n_samples, (int, np.integer)) and n_samples >= 10, f"n_samples must be an integer >= 10; got {n_samples}")
    args = get_dataset_args()
    args.num_samples = int(n_samples)
    args.seed = int(seed)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    xtr, xte = np.asarray(d["x"], np.float64), np.asarray(d["x_test"], np.float64)
    if standardize:
        xtr, xte = _standardize(xtr, xte)
    return Dataset(xtr, np.asarray(d["y"], np.int64), xte, np.asarray(d["y_test"], np.int64), "mnist1d", 10)


def make_teacher_regression(n_train: int = 200, n_test: int = 200, dim: int = 16, *, noise: float = 0.0,
                            seed: int = 0) -> Dataset:
    """Gaussian inputs on the sphere of radius sqrt(dim), target from a random tanh teacher.

    ``y = tanh(x·w/sqrt(dim)) + noise·ε`` with ``w ~ N(0, I)``; shapes (n, dim) and (n, 1).
    """
    for name, v in (("n_train", n_train), ("n_test", n_test), ("dim", dim)):
        require(isinstance(v, (int, np.integer)) and v >= 1, f"{name} must be a positive integer; got {v}")
    require(noise >= 0, f"noise must be >= 0; got {noise}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_train + n_test, dim))
    x *= np.sqrt(dim) / np.linalg.norm(x, axis=1, keepdims=True)
    w = rng.standard_normal(dim)
    y = np.tanh(x @ w / np.sqrt(dim))[:, None] + noise * rng.standard_normal((n_train + n_test, 1))
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], "teacher", None)
