"""Offline tasks for the richness experiments (spec richness.md §12.1): one-hot MSE on real data."""

from __future__ import annotations

import numpy as np

from dltheory.data.datasets import load_digits, load_mnist1d, one_hot
from dltheory.errors import require

__all__ = ["classification_task"]


def classification_task(name: str, n_train: int, n_test: int = 0, *, seed: int = 0,
                        centered_targets: bool = False) -> dict[str, np.ndarray]:
    """Standardized inputs with one-hot targets from ``"mnist1d"`` (40 features) or ``"digits"`` (64).

    Returns a dict with ``x_train`` (n_train, d), ``y_train`` (n_train, 10) one-hot,
    ``labels_train`` (n_train,), and the same for ``test`` (first ``n_test`` test examples).
    """
    require(name in ("mnist1d", "digits"), f"task must be 'mnist1d' or 'digits'; got {name!r}")
    if name == "mnist1d":  # 80/20 split: generate only what is needed (generation is slow)
        ds = load_mnist1d(n_samples=max(100, int(np.ceil(max(n_train / 0.8, n_test / 0.2))) + 10), seed=seed)
    else:
        ds = load_digits(seed=seed)
    require(1 <= n_train <= len(ds.x_train), f"n_train must be in [1, {len(ds.x_train)}]; got {n_train}")
    require(0 <= n_test <= len(ds.x_test), f"n_test must be in [0, {len(ds.x_test)}]; got {n_test}")
    out = {"x_train": ds.x_train[:n_train], "labels_train": ds.y_train[:n_train],
           "x_test": ds.x_test[:n_test], "labels_test": ds.y_test[:n_test]}
    out["y_train"] = one_hot(out["labels_train"], 10, centered=centered_targets)
    out["y_test"] = one_hot(out["labels_test"], 10, centered=centered_targets)
    return out
