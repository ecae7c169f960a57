"""Small neurashed tasks shared by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.neurashed import make_task, semantic_tree


def small_task(seed: int = 0, r: int = 2, rho: float = 0.2, kappa: float = 0.05, n: int = 10, sparse: bool = False):
    rng = np.random.default_rng(seed)
    g = semantic_tree(features_per_group=(3, 2, 2), rng=rng, sparse=sparse)
    return make_task(g, n_train_per_class=n, n_test_per_class=n, r=r, kappa=kappa, label_noise=rho, rng=rng)


@pytest.fixture
def task():
    return small_task()
