"""Forward pass, closed-form gradients and the identities I1–I3 (neurashed.md §6, §13 A1–A6)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dltheory.neurashed import (GradRule, backward, forward, init_theta, logit_gradient, loss_and_grad, train)
from dltheory.neurashed.diagnostics import flow_shares

from .conftest import small_task


def _state(task, seed=0, spread=0.5):
    rng = np.random.default_rng(seed)
    return init_theta(task.graph, rng=rng) + spread * rng.standard_normal(task.graph.n_features)


def test_path_forward_matches_brute_force_path_enumeration(task):
    g, theta = task.graph, _state(task)
    a = task.train.batch(np.arange(6))
    n = [np.exp(t) for t in g.split(theta)]
    z = forward(g, theta, a).logits
    brute = np.zeros_like(z)
    for x in range(6):
        for path in itertools.product(*[range(s) for s in g.level_sizes]):
            if not all(g.edges[l][path[l], path[l + 1]] for l in range(g.n_levels - 1)):
                continue
            prod = np.prod([a[l][x, f] * n[l][f] for l, f in enumerate(path)])
            brute[x] += prod * g.readout[path[-1]]
    assert np.allclose(z, brute, rtol=1e-12, atol=0)


def test_flat_forward_matches_definition(task):
    g, theta = task.graph, _state(task)
    a = task.train.batch(np.arange(5))
    z = forward(g, theta, a, readout="flat").logits
    want = np.zeros_like(z)
    for l, (t, own) in enumerate(zip(g.split(theta), g.owners)):
        read = g.readout if l == g.n_levels - 1 else own.astype(float)
        want += (a[l] * np.exp(t)) @ read
    assert np.allclose(z, want, rtol=1e-13)


@pytest.mark.parametrize("readout, normalized", [("path", False), ("flat", False), ("path", True), ("flat", True)])
def test_gradient_matches_central_finite_differences(readout, normalized):
    task = small_task(seed=1, n=3)
    g, theta = task.graph, _state(task, seed=1, spread=0.2)
    idx = np.array([0, 4, 9])
    a, y = task.train.batch(idx), task.train.observed_label[idx]
    _, grad, _ = loss_and_grad(g, theta, a, y, readout=readout, normalized=normalized)
    h = 1e-6
    fd = np.empty_like(theta)
    for f in range(len(theta)):
        e = np.zeros_like(theta)
        e[f] = h
        lp = loss_and_grad(g, theta + e, a, y, readout=readout, normalized=normalized)[0]
        lm = loss_and_grad(g, theta - e, a, y, readout=readout, normalized=normalized)[0]
        fd[f] = (lp - lm) / (2 * h)
    assert np.max(np.abs(fd - grad)) <= 1e-6


def test_euler_identity_every_level(task):
    g = task.graph
    for seed in range(3):
        theta = _state(task, seed=seed)
        a, y = task.train.batch(np.arange(8)), task.train.observed_label[:8]
        loss, grads, fwd = loss_and_grad(g, theta, a, y, per_example=True)
        onehot = np.eye(g.n_classes)[y]
        gz = (fwd.probs - onehot) * fwd.beta
        target = (gz * fwd.logits).sum(axis=1)
        for l in range(g.n_levels):
            lv = grads[:, g.level_slice(l)].sum(axis=1)
            assert np.allclose(lv, target, rtol=1e-10, atol=1e-14)


def test_level_gauge_leaves_logits_and_gradients_unchanged(task):
    g, theta = task.graph, _state(task)
    a, y = task.train.batch(np.arange(8)), task.train.observed_label[:8]
    moved = theta.copy()
    moved[g.level_slice(0)] += 0.7
    moved[g.level_slice(1)] -= 0.7
    _, g0, f0 = loss_and_grad(g, theta, a, y)
    _, g1, f1 = loss_and_grad(g, moved, a, y)
    assert np.allclose(f1.logits, f0.logits, rtol=1e-12, atol=0)
    assert np.allclose(g1, g0, rtol=1e-12, atol=1e-15)


def test_flow_shares_invariant_under_level_rescaling(task):
    g, theta = task.graph, _state(task)
    a = task.train.batch(np.arange(8))
    f0 = forward(g, theta, a)
    scaled = theta.copy()
    scaled[g.level_slice(1)] += 2.3
    f1 = forward(g, scaled, a)
    for l in range(g.n_levels):
        assert np.allclose(flow_shares(f1.flows[l]), flow_shares(f0.flows[l]), rtol=1e-12, atol=1e-15)


def test_one_step_logit_change_matches_ntk():
    """A6: Δz(x′) ≈ −η Θ(x′, x) ∂ℓ/∂z(x) with error O(η²)."""
    task = small_task(seed=2, n=4)
    g, theta = task.graph, _state(task, seed=2, spread=0.2)
    x = np.array([1])
    others = np.array([0, 3, 6, 12])
    a_x, y = task.train.batch(x), task.train.observed_label[x]
    a_o = task.train.batch(others)
    _, grad, fwd = loss_and_grad(g, theta, a_x, y)
    dz = fwd.probs - np.eye(g.n_classes)[y]
    k = g.n_classes
    jx = np.stack([logit_gradient(g, theta, a_x, np.eye(k)[[c]])[0] for c in range(k)])  # (K, F)
    jo = np.stack([logit_gradient(g, theta, a_o, np.tile(np.eye(k)[c], (len(others), 1))) for c in range(k)], axis=1)
    pred_per_eta = -(jo @ jx.T @ dz[0])  # (n_o, K): Θ(x', x) ∂ℓ/∂z(x)
    z0 = forward(g, theta, a_o).logits

    def rel_err(eta):
        change = forward(g, theta - eta * grad, a_o).logits - z0
        return np.max(np.abs(change - eta * pred_per_eta)) / np.max(np.abs(eta * pred_per_eta))

    ratio = rel_err(1e-3) / rel_err(5e-4)
    assert 1.8 <= ratio <= 2.2
    assert rel_err(1e-5) <= 1e-4


def test_conservation_of_level_differences_under_grad_rule():
    """A3: D_ℓ(t) = Σ_{F_ℓ} θ − Σ_{F_1} θ − t(|F_ℓ| − |F_1|) log(1 − ηλ) is constant over 10⁴ steps."""
    task = small_task(seed=3)
    rule = GradRule(eta=0.05, lam=1e-3)
    log = train(task, rule, steps=10_000, checkpoint_every=2_500, rng=np.random.default_rng(3))
    sizes = np.array(task.graph.level_sizes)
    d = (log["level_logsum"] - log["level_logsum"][:, :1]
         - np.outer(log.steps, sizes - sizes[0]) * np.log1p(-rule.eta * rule.lam))
    assert np.max(np.abs(d - d[0])) <= 1e-6


def test_backward_per_example_rows_sum_to_batch_gradient(task):
    g, theta = task.graph, _state(task)
    a, y = task.train.batch(np.arange(5)), task.train.observed_label[:5]
    _, per, fwd = loss_and_grad(g, theta, a, y, per_example=True)
    _, mean, _ = loss_and_grad(g, theta, a, y)
    assert np.allclose(per.mean(axis=0), mean, rtol=1e-13)
    assert backward(g, theta, a, fwd, np.zeros_like(fwd.logits)).sum() == 0


@pytest.mark.parametrize("readout", ["path", "flat"])
def test_sparse_storage_gives_the_same_logits_and_gradients(readout):
    dense, sparse = small_task(seed=4), small_task(seed=4, sparse=True)
    assert sparse.graph.is_sparse and not dense.graph.is_sparse
    theta = _state(dense, seed=4)
    a, y = dense.train.batch(np.arange(7)), dense.train.observed_label[:7]
    l0, g0, f0 = loss_and_grad(dense.graph, theta, a, y, readout=readout)
    l1, g1, f1 = loss_and_grad(sparse.graph, theta, a, y, readout=readout)
    assert np.allclose(f1.logits, f0.logits, rtol=1e-13) and np.allclose(g1, g0, rtol=1e-12, atol=1e-15)
