"""The one activation registry of dltheory (effective-theory.md §3.2-3.3, §4.2-4.3, §9.4).

Every pillar resolves activations here. A name maps to one :class:`Activation` carrying

* the NumPy forms σ and σ' (float64, vectorised) used by the effective theory;
* the torch forms σ and σ' (:attr:`Activation.torch`, built on first use — torch is imported only
  inside those builders, so :mod:`dltheory.effective` can use this module without torch);
* the Taylor coefficients σ_0..σ_3 at 0 (σ(z) = Σ σ_k z^k / k!, §4.3) and the slopes (a_+, a_-)
  of the scale-invariant class (§3.2);
* the universality class the §4.1 solver is expected to find (§4.2; metadata, tested against the
  solver in ``tests/effective/test_criticality.py``);
* the closed-form kernel hooks used by :mod:`dltheory.effective.gaussian`: the ``closed_form`` tag
  (``"scale_invariant"`` for linear/ReLU/leaky ReLU, ``"erf"``, ``"sin"``: §3.2 [MC]), and for
  GELU the Gaussian smoothing ``smoothed(m, v) = (E σ(x), E σ'(x))``, x ~ N(m, v) [DER], with the
  reflection constant c of σ(z) − σ(−z) = c z.

Names (case-insensitive; see :data:`ACTIVATION_NAMES`)
------------------------------------------------------
``linear, relu, leaky_relu, erf, sin, tanh, gelu, swish, softplus, sigmoid`` and the alias
``silu`` (= ``swish``). GELU is the exact z Φ(z). Two parametrised forms:

* ``"leaky_relu:<slope>"`` — negative-side slope a_- (``"leaky_relu"`` alone: 0.01);
* ``"<name>*<gain>"`` — the gain-scaled activation g·σ(z), with ``<gain>`` a finite non-zero
  number or ``sqrt<x>`` for √x. **Gains are always explicit**: ``"relu"`` is the plain ReLU
  everywhere, and ``"relu*sqrt2"`` is √2·ReLU (E[σ(h)²] = E[h²] for h ~ N(0, v), the ``mupify``
  convention used by the richness pillar). A gain multiplies σ, σ', the Taylor coefficients and
  the slopes by g and keeps the universality class (critical C_W divides by g²).

At the kink of ReLU-like σ the derivative takes the negative-side slope (σ'(0) = a_-), in both
forms, as torch autograd does.

User callables (NumPy-vectorised, float64 in/out) are accepted by :func:`get_activation`; their
derivative is a fourth-order central difference unless supplied, and they have no torch form.
Torch callables are accepted by :func:`resolve_torch_activation` (derivative by autograd).
Registry objects pickle by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from scipy.special import erf, expit, log_expit, ndtr

from dltheory.errors import DLTheoryError

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "TorchActivation",
    "get_activation",
    "resolve_torch_activation",
    "torch_activation",
]

ArrayFn = Callable[[np.ndarray], np.ndarray]
TensorFn = Callable[[Any], Any]  # torch.Tensor -> torch.Tensor (torch is not imported here)
TorchBuilder = Callable[[], tuple[TensorFn, TensorFn]]
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / _SQRT_2PI
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True)
class TorchActivation:
    """An elementwise torch activation σ with its derivative σ'.

    Attributes
    ----------
    name : str
        Registry name, or the torch callable's ``__name__``.
    fn, derivative : callable
        ``Tensor -> Tensor``, elementwise, any shape.
    registered : bool
        True for registry objects (they pickle by name).
    """

    name: str
    fn: TensorFn
    derivative: TensorFn
    registered: bool = field(default=False, compare=False, repr=False)

    def __call__(self, z):
        return self.fn(z)

    def __reduce_ex__(self, protocol):
        if self.registered:
            return (resolve_torch_activation, (self.name,))
        return super().__reduce_ex__(protocol)


@dataclass(frozen=True)
class Activation:
    """An activation function with everything the pillars need (see the module docstring).

    Attributes
    ----------
    name : str
        Canonical registry name (or the user callable's name).
    fn, derivative : callable
        NumPy σ and σ', vectorised over arrays of any shape (float64).
    taylor : tuple of 4 float or None
        (σ_0, σ_1, σ_2, σ_3), the Taylor coefficients at 0 (§4.3); ``None`` for kinked σ.
    slopes : tuple (a_plus, a_minus) or None
        Slopes of a scale-invariant σ (§3.2); ``None`` otherwise.
    closed_form : str or None
        Tag of the §3.2 closed form of the pair expectations (``"scale_invariant"``, ``"erf"``,
        ``"sin"``), read by :mod:`dltheory.effective.gaussian`.
    smoothed : callable or None
        ``smoothed(m, v) -> (E σ(x), E σ'(x))`` for x ~ N(m, v), elementwise (GELU and its gains).
    reflection : float or None
        c with σ(z) − σ(−z) = c z for all z (GELU, SWISH: 1); lets the smoothed rule use half the nodes.
    universality : str or None
        Universality class the §4.1 solver finds (§4.2: ``"scale-invariant"``, ``"K*=0"``,
        ``"half-stable"``, ``"none"``); ``None`` when not declared (user callables).
    gain : float
        g of a ``"<name>*<gain>"`` form (1 otherwise).
    registered : bool
        True for registry objects (they pickle by name and have a torch form).
    """

    name: str
    fn: ArrayFn
    derivative: ArrayFn
    taylor: tuple[float, float, float, float] | None = None
    slopes: tuple[float, float] | None = None
    closed_form: str | None = None
    smoothed: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    reflection: float | None = None
    universality: str | None = None
    gain: float = 1.0
    registered: bool = field(default=False, compare=False, repr=False)
    torch_builder: TorchBuilder | None = field(default=None, compare=False, repr=False)

    @property
    def is_scale_invariant(self) -> bool:
        """True for σ(z) = a_+ z (z ≥ 0), a_- z (z < 0) (§3.2)."""
        return self.slopes is not None

    @property
    def a2(self) -> float:
        """A_2 = (a_+² + a_-²)/2 of a scale-invariant σ (§3.2)."""
        self._require_scale_invariant("a2")
        ap, am = self.slopes  # type: ignore[misc]
        return 0.5 * (ap * ap + am * am)

    @property
    def a4(self) -> float:
        """A_4 = (a_+⁴ + a_-⁴)/2 of a scale-invariant σ (§3.2)."""
        self._require_scale_invariant("a4")
        ap, am = self.slopes  # type: ignore[misc]
        return 0.5 * (ap**4 + am**4)

    @cached_property
    def torch(self) -> TorchActivation:
        """The torch twin (σ, σ' on tensors), built on first access.

        Raises
        ------
        DLTheoryError
            A NumPy user callable (it has no torch form; pass a torch callable to
            :func:`resolve_torch_activation` instead).
        """
        if self.torch_builder is None:
            raise DLTheoryError(f"activation={self.name!r} is a NumPy callable without a torch form; "
                                "pass a registry name or a torch callable")
        fn, der = self.torch_builder()
        return TorchActivation(self.name, fn, der, registered=self.registered)

    def _require_scale_invariant(self, what: str) -> None:
        if self.slopes is None:
            raise DLTheoryError(f"{what} is defined only for scale-invariant activations; got {self.name!r}")

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.fn(z)

    def __reduce_ex__(self, protocol):
        if self.registered:
            return (get_activation, (self.name,))
        return super().__reduce_ex__(protocol)


# ---------------------------------------------------------------- built-ins: NumPy and torch forms


def _scale_invariant(name: str, a_plus: float, a_minus: float) -> Activation:
    if a_plus == 1.0 and a_minus == 0.0:  # ReLU: the cheapest exact form
        def fn(z: np.ndarray) -> np.ndarray:
            return np.maximum(np.asarray(z, dtype=float), 0.0)
    else:
        def fn(z: np.ndarray) -> np.ndarray:
            z = np.asarray(z, dtype=float)
            return np.where(z >= 0, a_plus * z, a_minus * z)

    def der(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.where(z > 0, a_plus, a_minus) + 0.0 * z

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        import torch

        def tder(z):
            return torch.where(z > 0, torch.full_like(z, a_plus), torch.full_like(z, a_minus))

        if a_plus == a_minus:
            return (lambda z: a_plus * z), (lambda z: torch.full_like(z, a_plus))
        if a_plus == 1.0 and a_minus == 0.0:
            return torch.relu, tder
        if a_plus == 1.0:
            return (lambda z: torch.nn.functional.leaky_relu(z, a_minus)), tder
        return (lambda z: torch.where(z >= 0, a_plus * z, a_minus * z)), tder

    taylor = (0.0, a_plus, 0.0, 0.0) if a_plus == a_minus else None
    return Activation(name, fn, der, taylor=taylor, slopes=(a_plus, a_minus), closed_form="scale_invariant",
                      universality="scale-invariant", registered=True, torch_builder=torch_forms)


def _gelu(z: np.ndarray) -> np.ndarray:
    return z * ndtr(z)


def _gelu_der(z: np.ndarray) -> np.ndarray:
    return ndtr(z) + z * np.exp(-0.5 * z * z) / _SQRT_2PI


def _gelu_smoothed(m: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[xΦ(x)], E[Φ(x) + xφ(x)] for x ~ N(m, v) [DER: Gaussian convolution identities]."""
    inv_s = 1.0 / np.sqrt(1.0 + v)  # v is typically (c, 1): cheap per-pair factors
    t = m * inv_s
    phi_t = np.exp(-0.5 * t * t) * (1.0 / _SQRT_2PI)
    cdf_t = ndtr(t)
    mean_fn = m * cdf_t + phi_t * (v * inv_s)
    mean_der = cdf_t + phi_t * t * (inv_s * inv_s)
    return mean_fn, mean_der


def _swish(z: np.ndarray) -> np.ndarray:
    return z * expit(z)


def _swish_der(z: np.ndarray) -> np.ndarray:
    s = expit(z)
    return s + z * s * (1.0 - s)


def _softplus(z: np.ndarray) -> np.ndarray:
    return -log_expit(-np.asarray(z, dtype=float))


def _sigmoid_der(z: np.ndarray) -> np.ndarray:
    s = expit(z)
    return s * (1.0 - s)


def _tanh_der(z: np.ndarray) -> np.ndarray:
    t = np.tanh(z)
    return 1.0 - t * t


def _erf_der(z: np.ndarray) -> np.ndarray:
    return _TWO_OVER_SQRT_PI * np.exp(-np.asarray(z, dtype=float) ** 2)


def _torch_erf() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.erf, lambda z: _TWO_OVER_SQRT_PI * torch.exp(-z * z)


def _torch_sin() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.sin, torch.cos


def _torch_tanh() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        t = torch.tanh(z)
        return 1.0 - t * t

    return torch.tanh, der


def _torch_gelu() -> tuple[TensorFn, TensorFn]:
    import torch

    def fn(z):
        return 0.5 * z * (1.0 + torch.erf(z * _INV_SQRT2))

    def der(z):
        return 0.5 * (1.0 + torch.erf(z * _INV_SQRT2)) + z * torch.exp(-0.5 * z * z) * _INV_SQRT_2PI

    return fn, der


def _torch_swish() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        s = torch.sigmoid(z)
        return s + z * s * (1.0 - s)

    return (lambda z: z * torch.sigmoid(z)), der


def _torch_softplus() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.nn.functional.softplus, torch.sigmoid


def _torch_sigmoid() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        s = torch.sigmoid(z)
        return s * (1.0 - s)

    return torch.sigmoid, der


def _builtin(name: str, fn: ArrayFn, der: ArrayFn, torch_builder: TorchBuilder, **kw) -> Activation:
    return Activation(name, fn, der, registered=True, torch_builder=torch_builder, **kw)


_BUILTINS: dict[str, Activation] = {
    "linear": _scale_invariant("linear", 1.0, 1.0),
    "relu": _scale_invariant("relu", 1.0, 0.0),
    "leaky_relu": _scale_invariant("leaky_relu", 1.0, 0.01),
    "erf": _builtin("erf", erf, _erf_der, _torch_erf, taylor=(0.0, _TWO_OVER_SQRT_PI, 0.0, -2.0 * _TWO_OVER_SQRT_PI),
                    closed_form="erf", universality="K*=0"),
    "sin": _builtin("sin", np.sin, np.cos, _torch_sin, taylor=(0.0, 1.0, 0.0, -1.0), closed_form="sin",
                    universality="K*=0"),
    "tanh": _builtin("tanh", np.tanh, _tanh_der, _torch_tanh, taylor=(0.0, 1.0, 0.0, -2.0), universality="K*=0"),
    "gelu": _builtin("gelu", _gelu, _gelu_der, _torch_gelu, taylor=(0.0, 0.5, 2.0 / _SQRT_2PI, 0.0),
                     smoothed=_gelu_smoothed, reflection=1.0, universality="half-stable"),
    "swish": _builtin("swish", _swish, _swish_der, _torch_swish, taylor=(0.0, 0.5, 0.5, 0.0), reflection=1.0,
                      universality="half-stable"),
    "softplus": _builtin("softplus", _softplus, expit, _torch_softplus, taylor=(math.log(2.0), 0.5, 0.25, 0.0),
                         universality="none"),
    "sigmoid": _builtin("sigmoid", expit, _sigmoid_der, _torch_sigmoid, taylor=(0.5, 0.25, 0.0, -0.125),
                        universality="none"),
}
_ALIASES = {"silu": "swish"}

#: Built-in names accepted by :func:`get_activation` and :func:`resolve_torch_activation` (plus the
#: parametrised forms ``"leaky_relu:<slope>"`` and ``"<name>*<gain>"``, e.g. ``"relu*sqrt2"``).
ACTIVATION_NAMES: tuple[str, ...] = tuple(_BUILTINS) + tuple(_ALIASES)


# ---------------------------------------------------------------- names: parsing and gains


def _format_number(x: float) -> str:
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def _parse_number(text: str, what: str, original: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DLTheoryError(f"activation={original!r}: {what} must be a number") from None
    if not math.isfinite(value):
        raise DLTheoryError(f"activation={original!r}: {what} must be finite")
    return value


def _parse_gain(text: str, original: str) -> tuple[float, str]:
    """Gain token → (g, canonical token); ``sqrt<x>`` means √x."""
    token = text.strip()
    if token.startswith("sqrt"):
        inner = token[4:].strip("()")
        x = _parse_number(inner, "the number after 'sqrt' in the gain", original)
        if x <= 0:
            raise DLTheoryError(f"activation={original!r}: sqrt<x> gain needs x > 0")
        return math.sqrt(x), f"sqrt{_format_number(x)}"
    g = _parse_number(token, "gain after '*'", original)
    if g == 0:
        raise DLTheoryError(f"activation={original!r}: gain after '*' must be non-zero")
    return g, _format_number(g)


def _scaled(base: Activation, gain: float, name: str) -> Activation:
    """g·σ: σ, σ', Taylor data, slopes and the smoothing scale by g; the class is unchanged."""
    g = gain
    fn, der = base.fn, base.derivative

    def sfn(z: np.ndarray) -> np.ndarray:
        return g * fn(z)

    def sder(z: np.ndarray) -> np.ndarray:
        return g * der(z)

    smoothed = None
    if base.smoothed is not None:
        inner = base.smoothed

        def smoothed(m: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            a, b = inner(m, v)
            return g * a, g * b

    builder = base.torch_builder

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        tfn, tder = builder()  # type: ignore[misc]
        return (lambda z: g * tfn(z)), (lambda z: g * tder(z))

    slopes = None if base.slopes is None else (g * base.slopes[0], g * base.slopes[1])
    return Activation(
        name, sfn, sder,
        taylor=None if base.taylor is None else tuple(g * t for t in base.taylor),  # type: ignore[arg-type]
        slopes=slopes,
        closed_form="scale_invariant" if slopes is not None else None,
        smoothed=smoothed,
        reflection=None if base.reflection is None else g * base.reflection,
        universality=base.universality,
        gain=g,
        registered=True,
        torch_builder=torch_forms if builder is not None else None,
    )


def _accepted() -> str:
    return (", ".join(ACTIVATION_NAMES) + ", 'leaky_relu:<slope>', '<name>*<gain>' (e.g. 'relu*sqrt2'), "
            "an Activation or a callable")


def _from_name(name: str) -> Activation:
    """The registry object of a name (one cached object per spelling after lower-casing)."""
    return _build(name.strip().lower().replace(" ", ""), name)


@lru_cache(maxsize=256)
def _build(text: str, name: str) -> Activation:
    base_text, star, gain_text = text.partition("*")
    base_text = _ALIASES.get(base_text, base_text)
    if base_text in _BUILTINS:
        base = _BUILTINS[base_text]
    elif base_text.startswith("leaky_relu:"):
        slope = _parse_number(base_text.split(":", 1)[1], "slope after 'leaky_relu:'", name)
        base = _scale_invariant(f"leaky_relu:{_format_number(slope)}", 1.0, slope)
    else:
        raise DLTheoryError(f"activation={name!r} is unknown; accepted: {_accepted()}")
    if not star:
        return base
    gain, token = _parse_gain(gain_text, name)
    return _scaled(base, gain, f"{base.name}*{token}")


# ---------------------------------------------------------------- user callables


def _numerical_derivative(fn: ArrayFn, h: float = 1e-3) -> ArrayFn:
    """Fourth-order central difference (truncation ~h⁴, round-off ~ε/h)."""

    def der(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return (8.0 * (fn(z + h) - fn(z - h)) - (fn(z + 2 * h) - fn(z - 2 * h))) / (12.0 * h)

    return der


def _numerical_taylor(fn: ArrayFn, h: float = 1e-2) -> tuple[float, float, float, float]:
    """σ_0..σ_3 at 0 by fourth-order central-difference stencils."""
    f = {k: float(np.asarray(fn(np.array(k * h)), dtype=float)) for k in range(-3, 4)}
    s0 = f[0]
    s1 = (8.0 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12.0 * h)
    s2 = (-f[2] + 16.0 * f[1] - 30.0 * f[0] + 16.0 * f[-1] - f[-2]) / (12.0 * h * h)
    s3 = (-f[3] + 8.0 * f[2] - 13.0 * f[1] + 13.0 * f[-1] - 8.0 * f[-2] + f[-3]) / (8.0 * h**3)
    return (s0, s1, s2, s3)


# ---------------------------------------------------------------- resolution


def get_activation(
    activation: str | Activation | ArrayFn,
    derivative: ArrayFn | None = None,
    name: str | None = None,
) -> Activation:
    """Resolve a name, an :class:`Activation` or a NumPy callable into an :class:`Activation`.

    Parameters
    ----------
    activation : str, Activation or callable
        A name from :data:`ACTIVATION_NAMES` (case-insensitive), ``"leaky_relu:<slope>"``,
        ``"<name>*<gain>"`` (e.g. ``"relu*sqrt2"``), an existing :class:`Activation` (returned
        unchanged) or a vectorised NumPy callable σ(z) (evaluated only through quadrature, §3.3).
    derivative : callable, optional
        σ' for a user callable; default: fourth-order central difference.
    name : str, optional
        Name for a user callable; default: its ``__name__``.

    Returns
    -------
    Activation
        Registry objects are cached: the same name returns the same object.

    Raises
    ------
    DLTheoryError
        Unknown name, malformed slope or gain, or a non-callable object.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        return _from_name(activation)
    if callable(activation):
        fn = activation
        der = derivative if derivative is not None else _numerical_derivative(fn)
        label = name or getattr(activation, "__name__", "custom")
        return Activation(label, fn, der, taylor=_numerical_taylor(fn))
    raise DLTheoryError(f"activation={activation!r} is not accepted; accepted: {_accepted()}")


def _autograd_derivative(fn: TensorFn) -> TensorFn:
    def der(z):
        import torch

        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(fn(zz).sum(), zz)
        return g

    return der


def resolve_torch_activation(activation: str | Activation | TorchActivation | TensorFn) -> TorchActivation:
    """Resolve a name, a registry object or a torch callable into a :class:`TorchActivation`.

    Parameters
    ----------
    activation : str, Activation, TorchActivation or callable
        A registry name (as for :func:`get_activation`), an :class:`Activation` (its torch twin),
        a :class:`TorchActivation` (returned unchanged) or an elementwise torch callable
        (derivative by autograd).

    Returns
    -------
    TorchActivation

    Raises
    ------
    DLTheoryError
        Unknown name, malformed slope or gain, a NumPy user callable without a torch form, or a
        non-callable object.
    """
    if isinstance(activation, TorchActivation):
        return activation
    if isinstance(activation, str):
        return _from_name(activation).torch
    if isinstance(activation, Activation):
        return activation.torch
    if callable(activation):
        return TorchActivation(getattr(activation, "__name__", "custom"), activation,
                               _autograd_derivative(activation))
    raise DLTheoryError(f"activation={activation!r} is not a name or a callable; accepted: {_accepted()}")


def torch_activation(activation: str | Activation | TorchActivation | TensorFn) -> TensorFn:
    """The elementwise torch function σ for ``activation`` (see :func:`resolve_torch_activation`)."""
    return resolve_torch_activation(activation).fn
