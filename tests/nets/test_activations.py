"""Torch activations: values, derivatives and name parity with the NumPy registry (§3, §9.4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import erf, expit, ndtr

from dltheory.errors import DLTheoryError
from dltheory.nets import TORCH_ACTIVATION_NAMES, resolve_torch_activation, torch_activation

Z = torch.linspace(-4.0, 4.0, 81, dtype=torch.float64)
ZN = Z.numpy()
REFERENCE = {
    "linear": ZN,
    "relu": np.maximum(ZN, 0.0),
    "leaky_relu": np.where(ZN >= 0, ZN, 0.01 * ZN),
    "leaky_relu:0.2": np.where(ZN >= 0, ZN, 0.2 * ZN),
    "erf": erf(ZN),
    "sin": np.sin(ZN),
    "tanh": np.tanh(ZN),
    "gelu": ZN * ndtr(ZN),
    "swish": ZN * expit(ZN),
    "silu": ZN * expit(ZN),
    "softplus": np.log1p(np.exp(ZN)),
    "sigmoid": expit(ZN),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_and_derivatives(name):
    act = resolve_torch_activation(name)
    np.testing.assert_allclose(torch_activation(name)(Z).numpy(), REFERENCE[name], rtol=1e-13, atol=1e-14)
    zz = Z[Z != 0].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(act.fn(zz).sum(), zz)
    np.testing.assert_allclose(act.derivative(zz.detach()).numpy(), auto.numpy(), rtol=1e-12, atol=1e-14)


def test_names_match_numpy_registry():
    from dltheory.effective.activations import ACTIVATION_NAMES

    assert set(ACTIVATION_NAMES) == set(TORCH_ACTIVATION_NAMES)


def test_callable_gets_autograd_derivative_and_unknown_name_raises():
    act = resolve_torch_activation(lambda z: z**3)
    np.testing.assert_allclose(act.derivative(Z).numpy(), 3 * ZN**2, rtol=1e-13)
    with pytest.raises(DLTheoryError, match="accepted"):
        torch_activation("relu6")
    with pytest.raises(DLTheoryError):
        torch_activation("leaky_relu:abc")
    with pytest.raises(DLTheoryError):
        torch_activation(3.0)
