"""The one activation registry: NumPy and torch forms agree for every name (issue 10; §3, §9.4)."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from scipy.special import erf, expit, ndtr

from dltheory.activations import (
    ACTIVATION_NAMES,
    Activation,
    TorchActivation,
    get_activation,
    resolve_torch_activation,
    torch_activation,
)
from dltheory.errors import DLTheoryError

Z = torch.linspace(-4.0, 4.0, 81, dtype=torch.float64)
ZN = Z.numpy()
#: Every built-in name plus examples of the two parametrised forms.
ALL_NAMES = tuple(ACTIVATION_NAMES) + ("leaky_relu:0.2", "leaky_relu:-0.5", "relu*sqrt2", "tanh*2",
                                       "gelu*0.5", "leaky_relu:0.1*sqrt3", "erf*-1.5", "abrelu:-1,1",
                                       "abrelu:0.3,2", "relu^2", "relu^3", "monomial:2", "monomial:3",
                                       "cos*2", "step*0.5")
#: Independent reference values (SciPy / NumPy), not the registry's own code.
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
    "relu*sqrt2": math.sqrt(2.0) * np.maximum(ZN, 0.0),
    "tanh*2": 2.0 * np.tanh(ZN),
    "cos": np.cos(ZN),
    "gaussian": np.exp(-0.5 * ZN**2),
    "step": (ZN > 0).astype(float),
    "sign": np.sign(ZN),
    "abrelu:-1,1": np.abs(ZN),
    "relu^3": np.maximum(ZN, 0.0) ** 3,
    "monomial:3": ZN**3,
}


def test_reference_covers_every_builtin():
    assert set(ACTIVATION_NAMES) <= set(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_match_reference(name):
    act = get_activation(name)
    np.testing.assert_allclose(act.fn(ZN), REFERENCE[name], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(torch_activation(name)(Z).numpy(), REFERENCE[name], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_numpy_and_torch_forms_agree(name):
    """Values and derivatives of the two forms agree, and σ' is the derivative of σ (autograd)."""
    act = get_activation(name)
    tact = resolve_torch_activation(name)
    assert tact is act.torch and tact.name == act.name
    np.testing.assert_allclose(tact.fn(Z).numpy(), act.fn(ZN), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(tact.derivative(Z).numpy(), act.derivative(ZN), rtol=1e-14, atol=1e-15)
    zz = Z[Z != 0].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(tact.fn(zz).sum(), zz)
    np.testing.assert_allclose(act.derivative(zz.detach().numpy()), auto.numpy(), rtol=1e-12, atol=1e-14)
    assert act.universality in ("scale-invariant", "K*=0", "half-stable", "none", None)
    assert act.kernel is not None or act.taylor is not None  # kinked σ need closed forms (§3.3)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_taylor_and_slopes_match_the_function(name):
    act = get_activation(name)
    if act.slopes is not None:
        ap, am = act.slopes
        np.testing.assert_allclose(act.fn(ZN), np.where(ZN >= 0, ap * ZN, am * ZN), rtol=1e-15, atol=0)
    if act.taylor is not None:
        h = 1e-3
        z = np.array([-h, h])
        series = sum(c * z**k / math.factorial(k) for k, c in enumerate(act.taylor))
        np.testing.assert_allclose(act.fn(z), series, rtol=0, atol=abs(act.gain) * 2 * h**4)


def test_gains_are_explicit_names():
    relu, scaled = get_activation("relu"), get_activation("relu*sqrt2")
    assert relu.gain == 1.0 and scaled.gain == math.sqrt(2.0) and scaled.name == "relu*sqrt2"
    assert scaled.slopes == (math.sqrt(2.0), 0.0) and scaled.a2 == pytest.approx(1.0, rel=1e-15)
    assert get_activation("RELU * sqrt(2)") .name == "relu*sqrt2"
    assert get_activation("silu*2").name == "swish*2" and get_activation("silu*2").taylor == (0.0, 1.0, 1.0, 0.0)
    assert get_activation("leaky_relu:0.2").name == "leaky_relu:0.2"
    assert get_activation("relu") is get_activation("relu")
    assert get_activation("relu^1") is get_activation("relu") and get_activation("monomial:1").name == "linear"
    assert get_activation("abrelu:-1,1").slopes == (1.0, -1.0)


def test_registry_objects_pickle_by_name():
    for name in ("relu*sqrt2", "leaky_relu:0.3", "gelu"):
        act = get_activation(name)
        assert pickle.loads(pickle.dumps(act)).name == act.name
        tact = pickle.loads(pickle.dumps(act.torch))
        assert isinstance(tact, TorchActivation) and torch.equal(tact.fn(Z), act.torch.fn(Z))
        assert copy.deepcopy(act.torch).name == act.name


def test_user_callables():
    act = get_activation(lambda z: z**3, name="cube")
    assert isinstance(act, Activation) and act.universality is None
    np.testing.assert_allclose(act.derivative(ZN), 3 * ZN**2, rtol=1e-6, atol=1e-8)
    with pytest.raises(DLTheoryError, match="torch"):
        _ = act.torch
    tact = resolve_torch_activation(lambda z: z**3)
    np.testing.assert_allclose(tact.derivative(Z).numpy(), 3 * ZN**2, rtol=1e-13)


@pytest.mark.parametrize("bad", ["relu6", "leaky_relu:abc", "leaky_relu:inf", "relu*0", "relu*abc", "relu*sqrt-2",
                                 "tanh*", "abrelu:1", "abrelu:a,b", "relu^0", "relu^1.5", "monomial:x",
                                 "monomial:99"])
def test_bad_names_raise(bad):
    with pytest.raises(DLTheoryError, match="activation"):
        get_activation(bad)
    with pytest.raises(DLTheoryError, match="activation"):
        torch_activation(bad)


def test_non_callables_raise():
    with pytest.raises(DLTheoryError, match="accepted"):
        get_activation(42)
    with pytest.raises(DLTheoryError, match="accepted"):
        torch_activation(3.0)


def test_effective_package_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys; import dltheory.activations, dltheory.effective; "
            "dltheory.activations.get_activation('relu*sqrt2').fn(1.0); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
