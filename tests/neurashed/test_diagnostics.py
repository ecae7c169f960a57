"""Information-plane quantities, N_eff, idiosyncratic share and fit times (neurashed.md §8, §10.2, A5)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.neurashed import (effective_number, entropy, first_fit_step, fit_time, forward, idio_share,
                                information_plane, init_theta, snapshot)


def test_information_plane_extremes():
    n, k = 12, 3
    labels = np.repeat(np.arange(k), n // k)
    ident = np.eye(n)  # T = example identity
    i_xt, i_ty = information_plane(ident, labels)
    assert i_xt == pytest.approx(np.log(n), abs=1e-12)
    assert i_ty == pytest.approx(np.log(k), abs=1e-12)
    indep = np.tile(np.array([0.2, 0.3, 0.5]), (n, 1))  # T independent of x
    i_xt, i_ty = information_plane(indep, labels)
    assert abs(i_xt) <= 1e-12 and abs(i_ty) <= 1e-12


def test_information_plane_against_direct_joint_computation():
    rng = np.random.default_rng(0)
    n, f, k = 9, 5, 3
    shares = rng.dirichlet(np.ones(f), size=n)
    labels = rng.integers(0, k, size=n)
    # direct: joint p(x, t) = P(t|x)/n; I = Σ p log p(x,t)/(p(x)p(t))
    pxt = shares / n
    pt = pxt.sum(axis=0)
    i_xt = np.sum(pxt * np.log(pxt / (np.full((n, 1), 1 / n) * pt)))
    pyt = np.stack([pxt[labels == y].sum(axis=0) for y in range(k)])
    py = pyt.sum(axis=1, keepdims=True)
    nz = pyt > 0
    i_ty = np.sum(pyt[nz] * np.log((pyt / (py * pt))[nz]))
    got = information_plane(shares, labels)
    assert got[0] == pytest.approx(i_xt, abs=1e-12) and got[1] == pytest.approx(i_ty, abs=1e-12)
    assert got[1] <= min(got[0], np.log(k)) + 1e-12 and got[0] <= np.log(n) + 1e-12


def test_information_plane_rejects_non_probabilities():
    with pytest.raises(DLTheoryError, match="probabilities"):
        information_plane(np.array([[0.5, 0.7], [0.5, 0.5]]), [0, 1])
    with pytest.raises(DLTheoryError, match="probabilities"):
        information_plane(np.array([[1.5, -0.5], [0.5, 0.5]]), [0, 1])


def test_effective_number_and_entropy():
    assert effective_number(np.zeros(7)) == pytest.approx(7.0, rel=1e-12)
    assert effective_number(np.array([0.0, -800.0])) == pytest.approx(1.0, rel=1e-12)
    assert entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(np.log(2), abs=1e-15)


def test_idio_share_by_definition(task):
    g = task.graph
    theta = init_theta(g, rng=np.random.default_rng(0))
    top = forward(g, theta, task.train.batch(np.arange(len(task.train)))).flows[-1]
    got = idio_share(g, top)
    for i in range(len(task.train)):
        cols = np.flatnonzero(g.idio_example == i)  # idio_example is indexed within level L
        assert got[i] == pytest.approx(top[i, cols].sum() / top[i].sum(), rel=1e-12)


def test_snapshot_is_consistent(task):
    g = task.graph
    s = snapshot(g, init_theta(g, rng=np.random.default_rng(1)), task.train, task.test)
    noisy = task.train.is_noisy
    assert s["mem"] == pytest.approx(s["fitted"][noisy].mean())
    assert s["acc_train"] == pytest.approx(s["fitted"].mean())
    assert np.all(s["i_ty"] <= s["i_xt"] + 1e-12) and np.all(s["i_xt"] <= np.log(len(task.train)) + 1e-12)


def test_fit_times():
    fitted = np.array([[0, 0, 0, 1], [1, 0, 0, 1], [1, 1, 0, 1], [1, 1, 1, 1]], bool)
    steps = np.array([0, 10, 20, 30])
    assert list(first_fit_step(fitted, steps)) == [10, 20, 30, 0]
    group = np.array([True, True, False, False])
    assert fit_time(fitted, steps, group, 0.5) == 10 and fit_time(fitted, steps, group, 1.0) == 20
    assert fit_time(fitted[:1], steps[:1], group, 0.5) == np.inf
