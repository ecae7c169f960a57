"""The vmapped ensemble trainer against the sequential torch.optim baseline (float64, exact)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from dltheory.errors import DLTheoryError
from dltheory.nets.training import ensemble_forward, stack_models, train_ensemble, train_sequential, unstack


def _models(n=3, dtype=torch.float64):
    out = []
    for s in range(n):
        g = torch.Generator().manual_seed(s)
        m = nn.Sequential(nn.Linear(6, 16, dtype=dtype), nn.Tanh(), nn.Linear(16, 3, dtype=dtype))
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=dtype) * 0.5)
        out.append(m)
    return out


def _data(labels=False):
    g = torch.Generator().manual_seed(42)
    x = torch.randn(20, 6, dtype=torch.float64, generator=g)
    y = torch.randint(0, 3, (20,), generator=g) if labels else torch.randn(20, 3, dtype=torch.float64, generator=g)
    return x, y


@pytest.mark.parametrize("optimizer,momentum,loss,batch", [("sgd", 0.0, "mse", None), ("sgd", 0.9, "mse", 8),
                                                           ("adam", 0.0, "cross_entropy", 8),
                                                           ("sgd", 0.5, "cross_entropy", None)])
def test_ensemble_equals_sequential(optimizer, momentum, loss, batch):
    models = _models()
    seq = [copy.deepcopy(m) for m in models]
    x, y = _data(labels=loss == "cross_entropy")
    mults = {"0.weight": 2.0, "2.bias": 0.5}
    template, params, buffers = stack_models(models)
    res = train_ensemble(template, params, x, y, steps=7, lr=0.05, lr_multipliers=mults, optimizer=optimizer,
                         momentum=momentum, weight_decay=0.01, loss=loss, batch_size=batch, buffers=buffers,
                         generator=torch.Generator().manual_seed(3))
    losses = train_sequential(seq, x, y, steps=7, lr=0.05, lr_multipliers=mults, optimizer=optimizer,
                              momentum=momentum, weight_decay=0.01, loss=loss, batch_size=batch, generator_seed=3)
    assert res.losses.shape == (7, 3)
    torch.testing.assert_close(res.losses, losses, rtol=1e-12, atol=1e-13)
    for e, m in enumerate(seq):
        for k, p in m.named_parameters():
            torch.testing.assert_close(unstack(res.params, e)[k], p.detach(), rtol=1e-12, atol=1e-13)
    assert res.losses[-1].mean() < res.losses[0].mean()


def test_per_member_learning_rates_and_callback():
    models = _models(2)
    x, y = _data()
    template, params, buffers = stack_models(models)
    seen = []
    res = train_ensemble(template, params, x, y, steps=3, lr=torch.tensor([0.0, 0.1], dtype=torch.float64),
                         buffers=buffers, callback=lambda t, p: seen.append(t))
    assert seen == [0, 1, 2, 3]
    torch.testing.assert_close(res.params["0.weight"][0], params["0.weight"][0])  # lr 0: unchanged
    assert not torch.equal(res.params["0.weight"][1], params["0.weight"][1])
    assert res.losses[0, 0] == res.losses[-1, 0]


def test_centred_training_starts_at_zero_output():
    models = _models(2)
    x, y = _data()
    template, params, buffers = stack_models(models)
    res = train_ensemble(template, params, x, y, steps=1, lr=0.0, buffers=buffers, center=True)
    torch.testing.assert_close(res.losses[0], 0.5 * (y ** 2).sum(1).mean().expand(2))
    out = ensemble_forward(template, params, buffers, x)
    assert out.shape == (2, 20, 3)


def test_bad_input():
    models = _models(2)
    x, y = _data()
    template, params, buffers = stack_models(models)
    with pytest.raises(DLTheoryError, match="optimizer"):
        train_ensemble(template, params, x, y, steps=1, optimizer="lbfgs")
    with pytest.raises(DLTheoryError, match="loss"):
        train_ensemble(template, params, x, y, steps=1, loss="hinge")
    with pytest.raises(DLTheoryError, match="generator"):
        train_ensemble(template, params, x, y, steps=1, batch_size=4)
    with pytest.raises(DLTheoryError, match="unknown parameters"):
        train_ensemble(template, params, x, y, steps=1, lr_multipliers={"nope": 1.0})
    with pytest.raises(DLTheoryError, match="shape"):
        train_ensemble(template, params, x, y, steps=1, lr=torch.ones(5))
    with pytest.raises(DLTheoryError, match="batch_size"):
        train_ensemble(template, params, x, y, steps=1, batch_size=0)
    with pytest.raises(DLTheoryError, match="same parameter names"):
        stack_models([models[0], nn.Linear(6, 3)])
