"""Similarity measures against their definitions (neurashed.md §9, A9)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.neurashed import (bootstrap_pair_gaps, forward, init_theta, kernel_kmeans, kernel_similarity,
                                logit_gradient, neurashed_margin_gradients, neurashed_relative_similarity,
                                normalized_similarity, pair_type_means, two_cluster_accuracy)

from .conftest import small_task


def test_kernel_similarity_equals_centered_ntk_form(task):
    g = task.graph
    theta = init_theta(g, rng=np.random.default_rng(0))
    idx = np.arange(6)
    a, y = task.train.batch(idx), task.train.true_label[idx]
    grads = neurashed_margin_gradients(g, theta, a, y)
    s = kernel_similarity(grads)
    k = g.n_classes
    jac = np.stack([logit_gradient(g, theta, a, np.tile(np.eye(k)[c], (6, 1))) for c in range(k)], axis=1)  # (n,K,F)
    u = np.eye(k)[y] - 1.0 / k
    for i in range(6):
        for j in range(6):
            ntk = jac[i] @ jac[j].T
            assert s[i, j] == pytest.approx(u[i] @ ntk @ u[j], rel=1e-10, abs=1e-14)
    sh = normalized_similarity(s)
    assert np.allclose(np.diag(sh), 1.0) and np.all(np.abs(sh) <= 1 + 1e-12)


def test_pair_type_means_by_hand():
    labels = np.array([0, 0, 1, 2])
    sup = np.array([0, 0, 1])
    s = np.array([[1, .9, .5, .1], [.9, 1, .3, .2], [.5, .3, 1, .0], [.1, .2, .0, 1]])
    d = pair_type_means(s, labels, sup)
    assert d["same_class"] == pytest.approx(0.9)
    assert d["same_superclass"] == pytest.approx(np.mean([.5, .3, .5, .3]))
    assert d["other_superclass"] == pytest.approx(np.mean([.1, .2, .0] * 2))
    assert pair_type_means(s, labels, sup, include_diagonal=True)["same_class"] == pytest.approx(np.mean([1, .9, .9, 1, 1, 1]))


def test_bootstrap_gap_intervals_contain_point_estimate():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2, 3], 8)
    sup = np.array([0, 0, 1, 1])
    base = np.where(labels[:, None] == labels[None, :], 0.8,
                    np.where(sup[labels][:, None] == sup[labels][None, :], 0.4, 0.1))
    s = base + 0.02 * rng.standard_normal(base.shape)
    s = (s + s.T) / 2
    iv = bootstrap_pair_gaps(s, labels, sup, n_boot=200, rng=rng)
    assert iv["same_minus_superclass"][0] > 0.3 and iv["superclass_minus_other"][0] > 0.2


def test_kernel_kmeans_and_accuracy():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(-3, 1, (20, 2)), rng.normal(3, 1, (20, 2))])
    truth = np.repeat([0, 1], 20)
    lab = kernel_kmeans(x @ x.T + 1.0, rng=rng)
    assert two_cluster_accuracy(lab, truth) == 1.0
    assert two_cluster_accuracy(1 - truth, truth) == 1.0 and two_cluster_accuracy(np.zeros(40, int), truth) == 0.5


def test_relative_similarity_definition_and_nan_on_fitted():
    """S_rel by its definition; A9: a saturated (fitted) example gives a NaN row and is counted."""
    task = small_task(seed=2, n=3)
    g = task.graph
    theta = init_theta(g, rng=np.random.default_rng(2))
    idx = np.arange(5)
    a, y = task.train.batch(idx), task.train.true_label[idx]
    s_rel, undefined = neurashed_relative_similarity(g, theta, a, y)
    assert undefined == 0 and np.allclose(np.diag(s_rel), 1.0)
    assert np.all(s_rel >= 0)
    # saturate: huge amounts on the class-0 top features make class-0 examples fitted exactly (p_y = 1)
    sat = theta.copy()
    top = g.level_slice(2)
    sat[top] = np.where(g.owners[2][:, 0] & (g.idio_example < 0), 300.0, theta[top])
    probs = forward(g, sat, a).probs
    fitted = probs[np.arange(5), y] == 1.0
    assert fitted.any()
    s_sat, und = neurashed_relative_similarity(g, sat, a, y)
    assert und == int(fitted.sum())
    assert np.all(np.isnan(s_sat[fitted])) and not np.isnan(s_sat[~fitted]).all()
