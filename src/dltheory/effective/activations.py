"""Activation registry for the effective theory (effective-theory.md §3.2, §4.2-4.3, §9.4).

Each :class:`Activation` bundles the function σ, its derivative σ', the Taylor coefficients
σ_0..σ_3 at 0 (σ(z) = Σ σ_k z^k / k!, §4.3), the slopes (a_+, a_-) of the scale-invariant class
(§3.2) and an optional closed-form tag used by :mod:`dltheory.effective.gaussian`:

* ``"scale_invariant"``: linear, ReLU, leaky ReLU — §3.2 arc-cosine forms [MC];
* ``"erf"`` and ``"sin"``: §3.2 closed forms [MC];
* ``"gelu"``: semi-analytic Gaussian smoothing E[σ(m + s u)] (derived here, [DER]) so that
  two-input expectations need only a 1-D quadrature.

Built-in names: see :data:`ACTIVATION_NAMES`. ``"leaky_relu:0.2"`` sets the negative slope.
User callables (NumPy-vectorised, float64 in/out) are accepted; their derivative is taken by a
fourth-order central difference unless supplied.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf, expit, log_expit, ndtr

from dltheory.errors import DLTheoryError

__all__ = ["Activation", "ACTIVATION_NAMES", "get_activation"]

ArrayFn = Callable[[np.ndarray], np.ndarray]
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """An activation function with the data the effective theory needs.

    Attributes
    ----------
    name : str
        Registry name (or the user callable's ``__name__``).
    fn, derivative : callable
        σ and σ', vectorised over arrays of any shape.
    taylor : tuple of 4 float or None
        (σ_0, σ_1, σ_2, σ_3), the Taylor coefficients at 0 (§4.3); ``None`` for kinked σ.
    slopes : tuple (a_plus, a_minus) or None
        Slopes of a scale-invariant σ (§3.2); ``None`` otherwise.
    closed_form : str or None
        Tag of the closed form used for Gaussian expectations (see module docstring).
    smoothed : callable or None
        ``smoothed(m, v) -> (E σ(x), E σ'(x))`` for x ~ N(m, v), elementwise (GELU only).
    reflection : float or None
        c with σ(z) − σ(−z) = c z for all z (GELU, SWISH: 1); lets the smoothed rule use half the nodes.
    """

    name: str
    fn: ArrayFn
    derivative: ArrayFn
    taylor: tuple[float, float, float, float] | None = None
    slopes: tuple[float, float] | None = None
    closed_form: str | None = None
    smoothed: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    reflection: float | None = None

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

    def _require_scale_invariant(self, what: str) -> None:
        if self.slopes is None:
            raise DLTheoryError(f"{what} is defined only for scale-invariant activations; got {self.name!r}")

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.fn(z)


# ---------------------------------------------------------------- built-ins


def _scale_invariant(name: str, a_plus: float, a_minus: float) -> Activation:
    def fn(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.where(z >= 0, a_plus * z, a_minus * z)

    def der(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.where(z > 0, a_plus, a_minus) + 0.0 * z

    taylor = (0.0, a_plus, 0.0, 0.0) if a_plus == a_minus else None
    return Activation(name, fn, der, taylor=taylor, slopes=(a_plus, a_minus), closed_form="scale_invariant")


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
    return (2.0 / math.sqrt(math.pi)) * np.exp(-np.asarray(z, dtype=float) ** 2)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_BUILTINS: dict[str, Activation] = {
    "linear": _scale_invariant("linear", 1.0, 1.0),
    "relu": _scale_invariant("relu", 1.0, 0.0),
    "leaky_relu": _scale_invariant("leaky_relu", 1.0, 0.01),
    "erf": Activation("erf", erf, _erf_der, taylor=(0.0, _TWO_OVER_SQRT_PI, 0.0, -2.0 * _TWO_OVER_SQRT_PI),
                      closed_form="erf"),
    "sin": Activation("sin", np.sin, np.cos, taylor=(0.0, 1.0, 0.0, -1.0), closed_form="sin"),
    "tanh": Activation("tanh", np.tanh, _tanh_der, taylor=(0.0, 1.0, 0.0, -2.0)),
    "gelu": Activation("gelu", _gelu, _gelu_der, taylor=(0.0, 0.5, 2.0 / _SQRT_2PI, 0.0), smoothed=_gelu_smoothed,
                       reflection=1.0),
    "swish": Activation("swish", _swish, _swish_der, taylor=(0.0, 0.5, 0.5, 0.0), reflection=1.0),
    "softplus": Activation("softplus", _softplus, expit, taylor=(math.log(2.0), 0.5, 0.25, 0.0)),
    "sigmoid": Activation("sigmoid", expit, _sigmoid_der, taylor=(0.5, 0.25, 0.0, -0.125)),
}
_ALIASES = {"silu": "swish"}

#: Names accepted by :func:`get_activation` (plus ``"leaky_relu:<slope>"``).
ACTIVATION_NAMES: tuple[str, ...] = tuple(_BUILTINS) + tuple(_ALIASES)


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


def _accepted() -> str:
    return ", ".join(ACTIVATION_NAMES) + ", 'leaky_relu:<slope>', an Activation or a callable"


def parse_activation_name(name: str) -> tuple[str, float | None]:
    """Canonical registry key of an activation name, and the leaky slope if it names one.

    Lower-cases, resolves aliases (``"silu"`` → ``"swish"``) and parses ``"leaky_relu:<slope>"``
    into ``("leaky_relu:<slope:g>", slope)``. Shared by the NumPy and torch registries so that both
    accept exactly the same names. Unknown names are returned as they are (slope ``None``).

    Raises
    ------
    DLTheoryError
        A ``leaky_relu:`` slope that is not a finite number.
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if not key.startswith("leaky_relu:"):
        return key, None
    try:
        slope = float(key.split(":", 1)[1])
    except ValueError:
        raise DLTheoryError(f"activation={name!r}: slope after 'leaky_relu:' must be a number") from None
    if not math.isfinite(slope):
        raise DLTheoryError(f"activation={name!r}: leaky slope must be finite")
    return f"leaky_relu:{slope:g}", slope


def get_activation(
    activation: str | Activation | ArrayFn,
    derivative: ArrayFn | None = None,
    name: str | None = None,
) -> Activation:
    """Resolve a name, an :class:`Activation` or a callable into an :class:`Activation`.

    Parameters
    ----------
    activation : str, Activation or callable
        A name from :data:`ACTIVATION_NAMES` (case-insensitive; ``"leaky_relu:0.2"`` sets the
        negative slope a), an existing :class:`Activation` (returned unchanged) or a vectorised
        NumPy callable σ(z) (evaluated only through quadrature, §3.3).
    derivative : callable, optional
        σ' for a user callable; default: fourth-order central difference.
    name : str, optional
        Name for a user callable; default: its ``__name__``.

    Returns
    -------
    Activation

    Raises
    ------
    DLTheoryError
        Unknown name, malformed leaky slope, or a non-callable object.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key, slope = parse_activation_name(activation)
        if key in _BUILTINS:
            return _BUILTINS[key]
        if slope is not None:
            return _scale_invariant(key, 1.0, slope)
        raise DLTheoryError(f"activation={activation!r} is unknown; accepted: {_accepted()}")
    if callable(activation):
        fn = activation
        der = derivative if derivative is not None else _numerical_derivative(fn)
        label = name or getattr(activation, "__name__", "custom")
        return Activation(label, fn, der, taylor=_numerical_taylor(fn))
    raise DLTheoryError(f"activation={activation!r} is not accepted; accepted: {_accepted()}")
