"""Offline datasets: shapes, determinism, no global RNG side effects, user arrays, bad input."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dltheory.data import from_arrays, load_digits, load_mnist1d, make_teacher_regression, one_hot
from dltheory.errors import DLTheoryError


def test_digits_split_and_standardisation():
    d = load_digits(seed=1)
    assert d.x_train.shape[1] == 64 and len(d.x_train) + len(d.x_test) == 1797 and d.n_classes == 10
    assert np.allclose(d.x_train.mean(0), 0, atol=1e-12)
    assert np.array_equal(load_digits(seed=1).y_test, d.y_test)
    assert not np.array_equal(load_digits(seed=2).y_test, d.y_test)


def test_mnist1d_is_generated_locally_and_leaves_global_rng_alone():
    np.random.seed(7)
    random.seed(7)
    before_np, before_py = np.random.random(), random.random()
    np.random.seed(7)
    random.seed(7)
    d = load_mnist1d(n_samples=500, seed=3)
    assert (np.random.random(), random.random()) == (before_np, before_py)
    assert d.x_train.shape == (400, 40) and d.x_test.shape == (100, 40)
    assert set(np.unique(d.y_train)) <= set(range(10))
    assert np.array_equal(load_mnist1d(n_samples=500, seed=3).x_train, d.x_train)


def test_subset_relabels_classes():
    d = load_digits().subset(classes=[5, 8])
    assert d.n_classes == 2 and set(np.unique(d.y_train)) == {0, 1}


def test_user_arrays_and_one_hot(rng):
    x = rng.standard_normal((50, 2, 3))
    y = rng.integers(0, 3, 50)
    d = from_arrays(x, y, test_fraction=0.2)
    assert d.x_train.shape == (40, 6) and d.n_classes == 3
    t = one_hot(np.array([0, 2]), 3, centered=True)
    assert np.allclose(t.sum(1), 0) and t[1, 2] == pytest.approx(2 / 3)
    r = make_teacher_regression(10, 5, 4, seed=0)
    assert r.y_train.shape == (10, 1) and np.allclose(np.linalg.norm(r.x_train, axis=1), 2.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: from_arrays(np.ones((3, 2)), np.ones(4)), "same length"),
        (lambda: from_arrays(np.full((3, 2), np.nan), np.zeros(3, int)), "non-finite"),
        (lambda: from_arrays(np.ones((3, 2)), np.zeros(3, int), test_fraction=1.5), "test_fraction"),
        (lambda: load_digits().subset(classes=[11]), "classes"),
        (lambda: load_mnist1d(n_samples=3), "n_samples"),
        (lambda: one_hot(np.array([3]), 3), r"\[0, 3\)"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(DLTheoryError, match=match):
        call()
