"""Torch activation functions by name (effective-theory.md §2, §3.2-3.3, §9.4).

The names match the NumPy registry :data:`dltheory.effective.activations.ACTIVATION_NAMES`:
``linear, relu, leaky_relu, erf, sin, tanh, gelu, swish, softplus, sigmoid`` plus the alias
``silu`` (= swish) and ``"leaky_relu:<slope>"`` (negative slope, default 0.01). GELU is the exact
form z Φ(z). Derivatives σ' (needed by the NTK forward equation, §6.1) are closed forms for the
built-ins and ``torch.autograd`` for user callables. At the kink of ReLU-like σ the derivative
takes the negative-side slope (σ'(0) = a_-), as in the NumPy registry and torch autograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dltheory.effective.activations import parse_activation_name
from dltheory.errors import DLTheoryError

__all__ = [
    "TORCH_ACTIVATION_NAMES",
    "TorchActivation",
    "ActivationLayer",
    "torch_activation",
    "resolve_torch_activation",
]

TensorFn = Callable[[Tensor], Tensor]
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True)
class TorchActivation:
    """An elementwise torch activation σ with its derivative σ'.

    Attributes
    ----------
    name : str
        Registry name (``"leaky_relu:0.2"`` style for non-default slopes) or the callable's name.
    fn, derivative : callable
        ``Tensor -> Tensor``, elementwise, any shape.
    """

    name: str
    fn: TensorFn
    derivative: TensorFn

    def __call__(self, z: Tensor) -> Tensor:
        return self.fn(z)


def _scale_invariant(name: str, a_plus: float, a_minus: float) -> TorchActivation:
    if a_plus == a_minus:
        return TorchActivation(name, lambda z: a_plus * z, lambda z: torch.full_like(z, a_plus))

    def fn(z: Tensor) -> Tensor:
        return torch.where(z >= 0, a_plus * z, a_minus * z)

    def der(z: Tensor) -> Tensor:
        return torch.where(z > 0, torch.full_like(z, a_plus), torch.full_like(z, a_minus))

    if a_minus == 0.0:
        return TorchActivation(name, torch.relu, der)
    return TorchActivation(name, fn, der)


def _gelu(z: Tensor) -> Tensor:
    return 0.5 * z * (1.0 + torch.erf(z * _INV_SQRT2))


def _gelu_der(z: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.erf(z * _INV_SQRT2)) + z * torch.exp(-0.5 * z * z) * _INV_SQRT_2PI


def _swish_der(z: Tensor) -> Tensor:
    s = torch.sigmoid(z)
    return s + z * s * (1.0 - s)


def _sigmoid_der(z: Tensor) -> Tensor:
    s = torch.sigmoid(z)
    return s * (1.0 - s)


def _tanh_der(z: Tensor) -> Tensor:
    t = torch.tanh(z)
    return 1.0 - t * t


_BUILTINS: dict[str, TorchActivation] = {
    "linear": _scale_invariant("linear", 1.0, 1.0),
    "relu": _scale_invariant("relu", 1.0, 0.0),
    "leaky_relu": _scale_invariant("leaky_relu", 1.0, 0.01),
    "erf": TorchActivation("erf", torch.erf, lambda z: _TWO_OVER_SQRT_PI * torch.exp(-z * z)),
    "sin": TorchActivation("sin", torch.sin, torch.cos),
    "tanh": TorchActivation("tanh", torch.tanh, _tanh_der),
    "gelu": TorchActivation("gelu", _gelu, _gelu_der),
    "swish": TorchActivation("swish", lambda z: z * torch.sigmoid(z), _swish_der),
    "softplus": TorchActivation("softplus", torch.nn.functional.softplus, torch.sigmoid),
    "sigmoid": TorchActivation("sigmoid", torch.sigmoid, _sigmoid_der),
}
#: Names accepted by :func:`torch_activation` (plus ``"leaky_relu:<slope>"``); aliases as in the NumPy registry.
TORCH_ACTIVATION_NAMES: tuple[str, ...] = tuple(_BUILTINS) + ("silu",)


def _accepted() -> str:
    return ", ".join(TORCH_ACTIVATION_NAMES) + ", 'leaky_relu:<slope>' or a torch callable"


def _autograd_derivative(fn: TensorFn) -> TensorFn:
    def der(z: Tensor) -> Tensor:
        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(fn(zz).sum(), zz)
        return g

    return der


def resolve_torch_activation(activation: str | TorchActivation | TensorFn) -> TorchActivation:
    """Resolve a name, a :class:`TorchActivation` or a torch callable into a :class:`TorchActivation`.

    Parameters
    ----------
    activation : str, TorchActivation or callable
        A name from :data:`TORCH_ACTIVATION_NAMES` (case-insensitive; ``"leaky_relu:0.2"`` sets
        the negative slope), an object with a registry ``name`` (e.g. a NumPy
        ``dltheory.effective.activations.Activation``, resolved by its name), or an elementwise
        torch callable (derivative by autograd).

    Returns
    -------
    TorchActivation

    Raises
    ------
    DLTheoryError
        Unknown name, malformed leaky slope or a non-callable object.
    """
    if isinstance(activation, TorchActivation):
        return activation
    if not isinstance(activation, str) and isinstance(getattr(activation, "name", None), str) \
            and hasattr(activation, "derivative"):
        activation = activation.name  # a NumPy registry Activation: use its torch twin
    if isinstance(activation, str):
        key, slope = parse_activation_name(activation)
        if key in _BUILTINS:
            return _BUILTINS[key]
        if slope is not None:
            return _scale_invariant(key, 1.0, slope)
        raise DLTheoryError(f"activation={activation!r} is unknown; accepted: {_accepted()}")
    if callable(activation):
        return TorchActivation(getattr(activation, "__name__", "custom"), activation,
                               _autograd_derivative(activation))
    raise DLTheoryError(f"activation={activation!r} is not a name or a callable; accepted: {_accepted()}")


def torch_activation(activation: str | TorchActivation | TensorFn) -> TensorFn:
    """The elementwise torch function σ for ``activation`` (see :func:`resolve_torch_activation`)."""
    return resolve_torch_activation(activation).fn


class ActivationLayer(nn.Module):
    """``nn.Module`` wrapper of a named activation, for ``nn.Sequential`` MLPs (§2)."""

    def __init__(self, activation: str | TorchActivation | TensorFn) -> None:
        super().__init__()
        self.activation = resolve_torch_activation(activation)

    def forward(self, z: Tensor) -> Tensor:
        return self.activation.fn(z)

    def extra_repr(self) -> str:
        return self.activation.name
