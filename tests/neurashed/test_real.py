"""Real-network layer: closed-form kernel against autograd, one-step link, memorization record (§11, A11)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dltheory.errors import DLTheoryError
from dltheory.neurashed.real import (autograd_kernel, he_su_digits, init_two_layer, train_memorization,
                                     two_layer_forward, two_layer_kernel)


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_closed_form_kernel_matches_autograd(activation):
    gen = torch.Generator().manual_seed(0)
    p = init_two_layer(6, 32, gen, dtype=torch.float64)
    x = np.random.default_rng(0).uniform(-1, 1, (7, 6))
    k1, k2 = two_layer_kernel(p, x, activation), autograd_kernel(p, x, activation)
    assert np.max(np.abs(k1 - k2) / np.abs(k2).max()) <= 1e-8


def test_one_step_change_matches_kernel():
    """Δf(x′) / (−η ℓ′(f(x))) → S_ker(x, x′) for the MSE loss ℓ = (f − y)², ℓ′ = 2(f − y)."""
    gen = torch.Generator().manual_seed(1)
    p = init_two_layer(5, 64, gen, dtype=torch.float64)
    x = torch.as_tensor(np.random.default_rng(1).uniform(-1, 1, (6, 5)))
    y = 1.0
    k = two_layer_kernel(p, x.numpy())
    ps = [t.clone().requires_grad_(True) for t in p.tensors()]
    f0 = two_layer_forward(type(p)(*ps), x)
    loss = (f0[0] - y) ** 2
    grads = torch.autograd.grad(loss, ps)
    eta = 1e-6
    p1 = type(p)(*(a.detach() - eta * g for a, g in zip(ps, grads)))
    df = (two_layer_forward(p1, x) - f0.detach()).numpy()
    est = df / (-eta * 2 * (f0[0].item() - y))
    assert np.max(np.abs(est - k[0]) / np.abs(k[0])) <= 1e-3


def test_he_su_digits_scaling_and_targets():
    x, t, digit = he_su_digits()
    assert x.min() >= -1 and x.max() <= 1 and set(np.unique(digit)) == {3, 5, 8, 9}
    assert np.array_equal(t == 1, np.isin(digit, (5, 8)))
    with pytest.raises(DLTheoryError, match="disjoint"):
        he_su_digits((5, 8), (8, 9))


def test_memorization_record_shapes_and_first_fit():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] > 0).astype(int)
    rec = train_memorization(x, y, x[:20], y[:20], width=32, n_classes=2, max_epochs=30, patience=3,
                             generator=torch.Generator().manual_seed(2))
    e = len(rec.acc_test)
    assert rec.fitted.shape == (e, 60) and rec.first_fit_epoch.shape == (60,)
    fin = np.isfinite(rec.first_fit_epoch)
    assert np.all(rec.fitted[rec.first_fit_epoch[fin].astype(int), np.flatnonzero(fin)])


def test_relative_similarity_by_definition():
    from dltheory.neurashed.real import two_layer_relative_similarity

    gen = torch.Generator().manual_seed(3)
    p = init_two_layer(4, 16, gen, dtype=torch.float64)
    x = np.random.default_rng(3).uniform(-1, 1, (5, 4))
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    s, undefined = two_layer_relative_similarity(p, x, y)
    assert undefined == 0 and np.allclose(np.diag(s), 1.0) and np.all(s >= 0)
    # small steps: S_rel(x_i, x_j) ≈ |S_ker(x_i, x_j)| / S_ker(x_i, x_i)
    k = two_layer_kernel(p, x)
    assert np.allclose(s, np.abs(k) / np.diag(k)[:, None], rtol=1e-3)
    # a perfectly fitted example (f(x) = y) has zero gradient: NaN row, counted
    y_fit = np.array([two_layer_forward(p, torch.as_tensor(x[i:i + 1]))[0].item() for i in range(5)])
    s2, und2 = two_layer_relative_similarity(p, x, y_fit)
    assert und2 == 5 and np.isnan(s2).all()
