"""Input validation and output checks shared by the effective-theory recursions (issue 13).

Inputs
    :func:`real_array` and :func:`real_scalar` accept real numbers only: complex values (whose
    imaginary part NumPy would silently drop), booleans, strings, bytes, objects and structured
    arrays are a one-line :class:`~dltheory.errors.DLTheoryError`. :func:`check_kernel_matrix`
    requires a kernel (a covariance matrix) to be finite, square, symmetric to within
    ``SYMMETRY_RTOL`` · max|K| and positive semi-definite up to entrywise errors of
    ``PSD_RTOL`` · max_a K_aa: every eigenvalue λ ≥ −P · ``PSD_RTOL`` · max_a K_aa (a
    perturbation with entries ≤ ε has spectral norm ≤ Pε), tested by a Cholesky factorization of
    K + P · PSD_RTOL · max_a K_aa · I. The tolerance absorbs the quadrature error of kernels that
    the recursions themselves computed (~5e-7 for tanh at 80 nodes) and nothing a user would call
    a covariance matrix. The factorization costs O(P³), more than a layer of the recursion for
    large P, so above ``PSD_FULL_MAX`` = 256 inputs only the O(P²) necessary conditions are
    checked: every 2×2 principal minor is PSD (|K_ab| ≤ √(K_aa K_bb)), which is what each pairwise
    Gaussian expectation needs to be defined.

Outputs
    :class:`LayerCheck` is used by every recursion (kernels, NTK, four-point vertex, NLO metric,
    NTK statistics, residual networks): after each layer it checks every quantity the recursion
    returns and names the first layer at which one stops being finite
    (``"NTK Θ overflows at layer 2226 (erf, C_b = 0, C_W = 3)"``), instead of returning ``inf``
    or NaN or letting a raw ``OverflowError`` escape. Inside ``with check:`` NumPy's overflow
    and invalid-operation warnings are silenced, since the check reports them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dltheory.errors import DLTheoryError

__all__ = ["LayerCheck", "PSD_FULL_MAX", "PSD_RTOL", "SYMMETRY_RTOL", "check_kernel_matrix", "first_nonfinite_layer",
           "real_array", "real_scalar"]

SYMMETRY_RTOL = 1e-9
PSD_RTOL = 1e-6
PSD_FULL_MAX = 256

_KINDS = {"c": "complex", "b": "boolean", "U": "string", "S": "bytes", "O": "non-numeric (object)",
          "V": "structured", "M": "datetime", "m": "timedelta"}


def _show(value: Any, limit: int = 50) -> str:
    try:
        text = " ".join(repr(value).split())
    except Exception:  # noqa: BLE001 - a broken __repr__ is still named
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def real_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float64 array if it holds real numbers (ints or floats) only.

    Parameters
    ----------
    value : array_like
    name : str
        The parameter's name in the error message.

    Returns
    -------
    ndarray of float64, the shape of ``value``
        Not checked for finiteness (callers state what they accept).
    """
    if isinstance(value, (str, bytes)):
        raise DLTheoryError(f"{name}: expected real numbers; got a string {_show(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DLTheoryError(f"{name}: expected a real number or an array of them; got {_show(value)} "
                            f"({' '.join(str(exc).split())[:80]})") from None
    if arr.dtype.kind not in "iuf":
        kind = _KINDS.get(arr.dtype.kind, str(arr.dtype))
        raise DLTheoryError(f"{name}: expected real numbers; got {kind} values (dtype {arr.dtype})")
    try:
        return arr.astype(np.float64, copy=False)
    except (ValueError, TypeError, OverflowError):  # pragma: no cover - every int/float dtype converts
        raise DLTheoryError(f"{name}: cannot convert to float64 (dtype {arr.dtype})") from None


def real_scalar(value: Any, name: str, *, finite: bool = True) -> float:
    """``value`` as a Python float if it is one real number (``finite``: and finite).

    Booleans, complex numbers, strings and arrays of more than one element are rejected.
    """
    if isinstance(value, (bool, np.bool_)):
        raise DLTheoryError(f"{name}: expected a real number; got {value!r}")
    arr = real_array(value, name)
    if arr.size != 1 or arr.ndim > 1:
        raise DLTheoryError(f"{name}: expected one real number; got shape {arr.shape}")
    out = float(arr.reshape(()))
    if finite and not math.isfinite(out):
        raise DLTheoryError(f"{name}={out!r}: must be finite")
    return out


def check_kernel_matrix(kernel: Any, name: str = "kernel") -> np.ndarray:
    """A kernel (covariance) matrix as float64, checked to be a valid one.

    Parameters
    ----------
    kernel : array_like, shape (P, P)
        Real, finite, symmetric (max|K − Kᵀ| ≤ ``SYMMETRY_RTOL`` · max|K|) and positive
        semi-definite (eigenvalues ≥ −P · ``PSD_RTOL`` · max_a K_aa; for P > ``PSD_FULL_MAX``
        every 2×2 principal minor).
    name : str
        The parameter's name in the error message.

    Returns
    -------
    ndarray, shape (P, P)
    """
    k = real_array(kernel, name)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] < 1:
        raise DLTheoryError(f"{name}: expected a square (P, P) matrix with P >= 1; got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise DLTheoryError(f"{name}: entries must be finite (found {int(np.sum(~np.isfinite(k)))} that are not)")
    diag = np.diag(k)
    if np.any(diag < 0):
        raise DLTheoryError(f"{name}: the diagonal (variances) must be >= 0; got min {diag.min():.4g}")
    scale = float(np.max(np.abs(k)))
    asym = float(np.max(np.abs(k - k.T)))
    if asym > SYMMETRY_RTOL * scale:
        raise DLTheoryError(f"{name}: must be symmetric; max|K - K^T| = {asym:.3g} > {SYMMETRY_RTOL:g}·max|K| "
                            f"= {SYMMETRY_RTOL * scale:.3g}")
    top = float(diag.max())
    tol = PSD_RTOL * top * k.shape[0]
    outer = np.sqrt(np.outer(diag, diag))
    if np.any(np.abs(k) > outer + tol) or (top == 0.0 and scale > 0):  # a 2x2 minor is already negative
        psd = False
    elif k.shape[0] <= 2 or top == 0.0 or k.shape[0] > PSD_FULL_MAX:
        psd = True
    else:
        try:
            np.linalg.cholesky(k + tol * np.eye(k.shape[0]))
            psd = True
        except np.linalg.LinAlgError:
            psd = False
    if not psd:
        lam = float(np.linalg.eigvalsh(0.5 * (k + k.T))[0])
        raise DLTheoryError(f"{name}: must be positive semi-definite; smallest eigenvalue {lam:.4g} < "
                            f"-P·{PSD_RTOL:g}·max K_aa = {-tol:.3g}")
    return k


def first_nonfinite_layer(values: np.ndarray) -> int | None:
    """The 1-based layer ℓ of the first non-finite entry of ``values`` (shape (L, ...)), or None."""
    bad = ~np.isfinite(np.asarray(values, dtype=float).reshape(len(values), -1)).all(axis=1)
    return int(np.argmax(bad)) + 1 if bad.any() else None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class LayerCheck:
    """Checks a recursion's outputs layer by layer and names the layer where one breaks.

    Parameters
    ----------
    activation : str
        The activation's name, shown in the message.
    **params : float or ndarray of shape (L,)
        Hyperparameters shown in the message (a per-layer array is shown at the failing layer),
        e.g. ``LayerCheck("erf", C_b=cb, C_W=cw)``.

    Use as a context manager around the loop over layers; set :attr:`layer` (1-based) as the loop
    advances, and call the instance with the layer's outputs::

        with LayerCheck(act.name, C_b=cb, C_W=cw) as check:
            for ell in range(1, depth):
                check.layer = ell + 1
                ...
                check(ell + 1, **{"kernel K": kern[ell], "NTK Θ": theta[ell]})

    An ``OverflowError``, ``FloatingPointError`` or ``ZeroDivisionError`` raised inside becomes
    the same one-line :class:`~dltheory.errors.DLTheoryError`, naming :attr:`layer`.
    """

    def __init__(self, activation: str, **params: Any) -> None:
        self.activation = activation
        self.params = params
        self.layer = 1
        self._errstate: Any = None

    def _context(self, ell: int) -> str:
        parts = [self.activation]
        for label, value in self.params.items():
            if value is None:
                continue
            arr = np.asarray(value, dtype=float)
            shown = arr.reshape(-1)[min(ell, arr.size) - 1] if arr.ndim else arr
            parts.append(f"{label} = {_fmt(float(shown))}")
        return ", ".join(parts)

    def error(self, what: str, ell: int, problem: str = "overflows") -> DLTheoryError:
        """The one-line error: ``"<what> <problem> at layer <ell> (<activation>, <params>)"``."""
        hint = ("float64 cannot represent it; use fewer layers, or hyperparameters nearer criticality"
                if problem == "overflows" else "the recursion is not defined beyond it")
        return DLTheoryError(f"{what} {problem} at layer {ell} ({self._context(ell)}): {hint}")

    def __call__(self, ell: int, **outputs: Any) -> None:
        """Raise naming layer ``ell`` if any of ``outputs`` (name → value) is not finite."""
        for what, value in outputs.items():
            if isinstance(value, float):  # the single-input recursions: no array overhead
                if math.isfinite(value):
                    continue
                arr = np.asarray(value)
            else:
                arr = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(arr)):
                problem = "overflows" if np.any(np.isinf(arr)) or not np.any(np.isnan(arr)) else "becomes NaN"
                raise self.error(what, ell, problem)

    def positive(self, ell: int, what: str, value: float) -> None:
        """Raise naming layer ``ell`` unless ``value`` > 0 (a kernel that underflowed to 0)."""
        if not value > 0:
            raise self.error(what, ell, "underflows to 0" if value == 0 else f"is {value:.4g} (not > 0)")

    def check_all(self, outputs: Mapping[str, np.ndarray]) -> None:
        """Check whole (L, ...) arrays at once and name the first layer at which any is not finite."""
        worst: tuple[int, str] | None = None
        for what, values in outputs.items():
            ell = first_nonfinite_layer(values)
            if ell is not None and (worst is None or ell < worst[0]):
                worst = (ell, what)
        if worst is not None:
            ell, what = worst
            self(ell, **{what: np.asarray(outputs[what])[ell - 1]})

    def __enter__(self) -> LayerCheck:
        self._errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        self._errstate.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self._errstate.__exit__(exc_type, exc, tb)
        if exc_type is not None and issubclass(exc_type, (OverflowError, FloatingPointError, ZeroDivisionError)):
            what = "the recursion"
            raise self.error(what, self.layer, "overflows") from None
        return False
