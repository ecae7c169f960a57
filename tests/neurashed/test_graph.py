"""Graph generator, user graphs and their validation (neurashed.md §3)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.neurashed import examples_from_masks, graph_from_adjacency, make_task, semantic_tree


def test_default_semantic_tree_sizes_and_owner_rule():
    g = semantic_tree(rng=np.random.default_rng(0))
    assert g.level_sizes == (8, 12, 24) and g.n_classes == 4 and g.n_features == 44
    for l in range(2):
        e = g.edges[l]
        for f in range(e.shape[0]):
            for h in range(e.shape[1]):
                subset = not (g.owners[l + 1][h] & ~g.owners[l][f]).any()
                assert e[f, h] == float(subset)
    assert np.array_equal(g.readout, g.owners[-1].astype(float))
    assert np.all(g.p_cross[0] == 0) and np.all((g.p_active[1] >= 0.3) & (g.p_active[1] <= 0.9))
    assert list(g.superclass_of()) == [0, 0, 1, 1]


def test_q_edge_keeps_a_parent_for_every_node():
    g = semantic_tree(q_edge=0.05, rng=np.random.default_rng(1))
    for e in g.edges:
        assert (e.sum(axis=0) >= 1).all()


def test_idiosyncratic_features_wiring():
    rng = np.random.default_rng(2)
    task = make_task(semantic_tree(rng=rng), n_train_per_class=5, r=3, kappa=0.05, label_noise=0.5, rng=rng)
    g, tr = task.graph, task.train
    assert g.level_sizes[-1] == 24 + 3 * 20
    idio = np.flatnonzero(g.idio_example >= 0)
    for f in idio:
        i = g.idio_example[f]
        assert g.readout[f].argmax() == tr.observed_label[i] and g.readout[f].sum() == 1
        parents = g.edges[-1][:, f].astype(bool)
        assert np.array_equal(parents, g.owners[-2][:, tr.true_label[i]])
        assert tr.masks[-1][i, f] and tr.masks[-1][:, f].sum() == 1
        assert not task.test.masks[-1][:, f].any()
    assert np.allclose(g.init_scale[g.is_idiosyncratic], 0.05)
    assert tr.is_noisy.any() and np.all(tr.is_noisy == (tr.true_label != tr.observed_label))


def test_masks_have_an_owned_active_feature_at_every_level():
    rng = np.random.default_rng(3)
    task = make_task(semantic_tree(p_range=(0.05, 0.1), pi_max=0.0, rng=rng), n_train_per_class=20, r=0, rng=rng)
    for l, m in enumerate(task.train.masks):
        owned = task.graph.owners[l][:, task.train.true_label].T
        assert (m & owned).any(axis=1).all()
        assert not (m & ~owned).any()  # pi_max = 0: no cross-activation


def _chain():
    # 2 level-1, 2 level-2, 2 level-3 features, K = 2
    adj = np.zeros((6, 6))
    adj[0, 2] = adj[1, 3] = adj[2, 4] = adj[3, 5] = adj[0, 3] = 1
    levels = np.array([1, 1, 2, 2, 3, 3])
    owners = np.array([[1, 1], [1, 1], [1, 0], [0, 1], [1, 0], [0, 1]], bool)
    readout = np.zeros((6, 2))
    readout[4, 0] = readout[5, 1] = 1
    return adj, levels, owners, readout


def test_graph_from_adjacency_roundtrip():
    g = graph_from_adjacency(*_chain())
    assert g.level_sizes == (2, 2, 2)
    assert np.array_equal(g.edges[0], [[1, 1], [0, 1]])
    gs = graph_from_adjacency(*_chain(), sparse=True)
    assert gs.is_sparse and np.array_equal(gs.edges[0].toarray(), g.edges[0])


def test_cyclic_graph_rejected():
    adj, levels, owners, readout = _chain()
    adj[4, 0] = 1  # level 3 -> level 1 closes a cycle 0 -> 2 -> 4 -> 0
    with pytest.raises(DLTheoryError, match="cycle"):
        graph_from_adjacency(adj, levels, owners, readout)


def test_level_inconsistent_graph_rejected():
    adj, levels, owners, readout = _chain()
    adj[0, 4] = 1  # skips a level
    with pytest.raises(DLTheoryError, match="level l to level l\\+1"):
        graph_from_adjacency(adj, levels, owners, readout)
    adj, levels, owners, readout = _chain()
    readout[2, 0] = 1
    with pytest.raises(DLTheoryError, match="top-level"):
        graph_from_adjacency(adj, levels, owners, readout)


@pytest.mark.parametrize("kwargs, match", [
    (dict(p_range=(0.5, 1.5)), "p_range"),
    (dict(pi_max=-0.1), "pi_max"),
    (dict(q_edge=0.0), "q_edge"),
    (dict(features_per_group=(1, 2)), "features_per_group"),
    (dict(partitions=(((0, 1),), ((0,), (2,)))), "partition"),
])
def test_semantic_tree_bad_input(kwargs, match):
    with pytest.raises(DLTheoryError, match=match):
        semantic_tree(rng=np.random.default_rng(0), **kwargs)


def test_bad_probabilities_and_noise_rejected():
    adj, levels, owners, readout = _chain()
    with pytest.raises(DLTheoryError, match="p_active"):
        graph_from_adjacency(adj, levels, owners, readout, p_active=np.full(6, 1.2))
    rng = np.random.default_rng(0)
    with pytest.raises(DLTheoryError, match="rho"):
        make_task(semantic_tree(rng=rng), label_noise=1.5, rng=rng)


def test_example_without_active_feature_rejected():
    g = graph_from_adjacency(*_chain())
    masks = [np.array([[1, 0]]), np.array([[0, 0]]), np.array([[1, 0]])]
    with pytest.raises(DLTheoryError, match="no active feature at level 2"):
        examples_from_masks(g, masks, [0])
    ok = examples_from_masks(g, [np.array([[1, 0]]), np.array([[1, 0]]), np.array([[1, 0]])], [0])
    assert len(ok) == 1 and not ok.is_noisy.any()


def test_q_edge_keeps_each_edge_with_probability_q():
    q = 0.2
    g = semantic_tree(features_per_group=(50, 50, 50), q_edge=q, rng=np.random.default_rng(4))
    allowed = 50 * 100  # level 1 -> 2: every generic feature may feed every superclass feature
    se = np.sqrt(allowed * q * (1 - q))
    assert abs(g.edges[0].sum() - q * allowed) <= 4.5 * se


def test_sparse_and_dense_generators_agree():
    a = semantic_tree(q_edge=0.5, rng=np.random.default_rng(5))
    b = semantic_tree(q_edge=0.5, sparse=True, rng=np.random.default_rng(5))
    assert b.is_sparse and all(np.array_equal(x, y.toarray()) for x, y in zip(a.edges, b.edges))
