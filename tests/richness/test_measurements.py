"""Measurements (§10): NTK against autograd, CKA/alignment identities, fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dltheory.errors import DLTheoryError
from dltheory.richness import (cka, coordinate_size, kernel_alignment,
                               kernel_target_alignment, lr_multipliers, mlp, mlp_ntk, mlp_preactivations,
                               relative_ntk_change, relative_weight_change, representation_change, richness,
                               scaled_layers, update_alignment)


def test_mlp_ntk_matches_autograd():
    """Jacobian-free LR-weighted NTK equals sum_p eta_p df/dp df/dp (traced over outputs), float64."""
    model = mlp((5, 16, 16, 3), richness(0.25, gauge="mup"), generator=torch.Generator().manual_seed(0),
                dtype=torch.float64)
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    lrs = lr_multipliers(model)
    params = dict(model.named_parameters())
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(model, p, (x,)))(params)
    theta = sum(lrs[k] * torch.einsum("akp,bkp->ab", j.reshape(6, 3, -1), j.reshape(6, 3, -1)) for k, j in jac.items())
    weights = [(m.weight * m.multiplier).detach().numpy() for _, m in scaled_layers(model)]
    eff = [float(m.lr_factor) * float(m.multiplier) ** 2 for _, m in scaled_layers(model)]
    ours = mlp_ntk(weights, eff, x.numpy())
    np.testing.assert_allclose(ours, theta.detach().numpy(), rtol=1e-12, atol=1e-14)
    out = mlp_preactivations(weights, x.numpy())[-1]
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_alignment_and_cka_identities(rng):
    x = rng.standard_normal((20, 7))
    q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    assert cka(x, 3.0 * x @ q) == pytest.approx(1.0)
    y = rng.standard_normal((20, 5))
    assert 0 <= cka(x, y) < 1
    k = x @ x.T
    assert kernel_alignment(k, 2 * k) == pytest.approx(1.0)
    assert relative_ntk_change(k, k) == 0.0
    labels = np.eye(3)[rng.integers(0, 3, 20)]
    assert kernel_target_alignment(labels @ labels.T, labels) == pytest.approx(1.0)
    assert coordinate_size(np.array([[1.0, -3.0]])) == 2.0 and coordinate_size(np.array([[3.0, 4.0]]), "rms") == \
        pytest.approx(np.sqrt(12.5))
    with pytest.raises(DLTheoryError):
        coordinate_size(x, "l3")


def test_weight_changes_and_update_alignment(rng):
    w0 = rng.standard_normal((30, 20))
    a = rng.standard_normal((1, 20))
    g = rng.standard_normal((30, 1))
    dw = g @ a  # one-example SGD update: rank one, aligned with the input
    assert update_alignment(dw, a) == pytest.approx(1.0)
    probe = rng.standard_normal((1, 20))
    assert update_alignment(dw, probe) < 1.0
    assert relative_weight_change(w0, w0 + dw, "spectral") == pytest.approx(np.linalg.norm(dw, 2) / np.linalg.norm(w0, 2))
    assert relative_weight_change(w0, w0 + dw) == pytest.approx(np.linalg.norm(dw) / np.linalg.norm(w0))
    assert representation_change(np.zeros((4, 3)), np.ones((4, 3))) == pytest.approx(np.sqrt(3))
