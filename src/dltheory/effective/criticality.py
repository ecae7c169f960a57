"""Susceptibilities, fixed points, criticality and universality classes (effective-theory.md §4).

χ_∥ = C_W g'(K), χ_⊥ = C_W ⟨σ'²⟩_K (§4.1 [BOOK]); criticality is χ_∥ = χ_⊥ = 1 at a fixed point
K* = C_b + C_W g(K*). The solver (§4.1 [DER]) finds K* > 0 where the C_W-free ratio
g'(K)/⟨σ'²⟩_K equals 1, then C_W = 1/⟨σ'²⟩_{K*}, C_b = K* − C_W g(K*). Classes (§4.2-4.3):

* "scale-invariant" (linear, ReLU, leaky): C_b = 0, C_W = 1/A_2, any K* (``k_star`` is NaN);
* "K*=0" (tanh, sin, erf): σ_0 = 0, a_1 < 0; C_b = 0, C_W = 1/σ_1², K* = 0, K^(ℓ) ≈ 1/((−a_1)ℓ);
* "half-stable" (GELU, SWISH): a root K* > 0 with C_b ≥ 0 and f''(K*) ≠ 0 [DER; NUM];
* "none" (sigmoid, softplus, z³): no root with C_b ≥ 0 [NUM].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from dltheory.activations import Activation, get_activation
from dltheory.effective.gaussian import DEFAULT_ORDER_1D, g_second, single_moments
from dltheory.effective.validation import real_array, real_scalar
from dltheory.errors import DLTheoryError

__all__ = [
    "CLASS_NAMES",
    "CriticalPoint",
    "UniversalityClass",
    "susceptibilities",
    "fixed_points",
    "critical_point",
    "universality_class",
]

CLASS_NAMES = ("scale-invariant", "K*=0", "half-stable", "none")
_SCAN = (1e-4, 100.0, 600)  # K range and grid size of the root scan (§4.2 roots lie in [3, 15])
_ORDER = 300
_MAX_REFINE_ORDER = 2400


@dataclass(frozen=True)
class CriticalPoint:
    """Critical initialization of an activation (§4.1-4.2).

    Attributes
    ----------
    activation : str
    cb, cw : float
        Critical (C_b, C_W); NaN when ``universality_class == "none"``.
    k_star : float
        Fixed point K*; NaN for the scale-invariant class (any K* is critical) and for "none";
        0.0 for the K*=0 class.
    chi_parallel, chi_perp : float
        χ_∥, χ_⊥ at K* (K → 0 limits for the K*=0 class; 1 for scale-invariant).
    universality_class : str
        One of :data:`CLASS_NAMES`.
    f_second : float
        f''(K*) = C_W g''(K*) (half-stable: < 0 stable from above, > 0 from below [DER]); NaN else.
    roots : tuple of float
        All K* > 0 with C_b ≥ 0 found by the scan (the chosen one is ``k_star``).
    """

    activation: str
    cb: float
    cw: float
    k_star: float
    chi_parallel: float
    chi_perp: float
    universality_class: str
    f_second: float = math.nan
    roots: tuple[float, ...] = field(default=())

    @property
    def stable_side(self) -> str | None:
        """"above" or "below" for a half-stable K* (§4.2 [DER]); None otherwise."""
        if self.universality_class != "half-stable":
            return None
        return "above" if self.f_second < 0 else "below"


@dataclass(frozen=True)
class UniversalityClass:
    """Universality class and small-K data of an activation (§4.2-4.3).

    Attributes
    ----------
    name : str
        One of :data:`CLASS_NAMES`.
    taylor : tuple (σ_0, σ_1, σ_2, σ_3) or None
        None for kinked σ.
    a1, b1 : float
        a_1 = σ_3/σ_1 + ¾(σ_2/σ_1)², b_1 = σ_3/σ_1 + (σ_2/σ_1)² (§4.3 [BOOK]); NaN if undefined.
    critical : CriticalPoint
    """

    name: str
    taylor: tuple[float, float, float, float] | None
    a1: float
    b1: float
    critical: CriticalPoint

    @property
    def p_perp(self) -> float:
        """p_⊥ = b_1/a_1 (§4.3)."""
        return self.b1 / self.a1

    def kernel_asymptote(self, ell: np.ndarray | float) -> np.ndarray:
        """Leading law K^(ℓ) ≈ 1/((−a_1) ℓ) of the K*=0 class (§4.3 [BOOK]).

        Parameters
        ----------
        ell : array_like, shape (...)
            Layer indices ≥ 1.

        Returns
        -------
        ndarray, shape (...)
        """
        if self.name != "K*=0":
            raise DLTheoryError(f"kernel_asymptote: only the 'K*=0' class has the 1/ℓ law; this is {self.name!r}")
        return 1.0 / ((-self.a1) * np.asarray(ell, dtype=float))


def _check_cw(cw) -> np.ndarray:
    cw = real_array(cw, "cw")
    if not np.all(np.isfinite(cw)) or np.any(cw <= 0):
        raise DLTheoryError("cw: weight variance C_W must be finite and > 0")
    return cw


def susceptibilities(
    activation: str | Activation | Callable, k: np.ndarray | float, cw: float, order: int = DEFAULT_ORDER_1D
) -> tuple[np.ndarray, np.ndarray]:
    """Parallel and perpendicular susceptibilities at kernel K (§4.1 [BOOK]).

    Parameters
    ----------
    activation : str, Activation or callable
    k : array_like, shape (...)
        Kernel values K ≥ 0.
    cw : float
        C_W > 0.
    order : int
        Gauss–Hermite nodes.

    Returns
    -------
    chi_parallel, chi_perp : ndarray, shape (...)
        χ_∥ = C_W ⟨σ²(z² − K)⟩/(2K²), χ_⊥ = C_W ⟨σ'²⟩.
    """
    cw = _check_cw(cw)
    k = real_array(k, "k")
    if not np.all(np.isfinite(k)) or np.any(k < 0):
        raise DLTheoryError("k: kernel values K must be finite and >= 0")
    m = single_moments(activation, k, order)
    with np.errstate(over="ignore", invalid="ignore"):
        chi_par, chi_perp = cw * m["g_prime"], cw * m["dsigma2"]
    if not (np.all(np.isfinite(chi_par)) and np.all(np.isfinite(chi_perp))):
        raise DLTheoryError(f"susceptibilities overflow float64 at these K and C_W (activation "
                            f"{get_activation(activation).name}); use smaller K or C_W")
    return chi_par, chi_perp


def fixed_points(
    activation: str | Activation | Callable,
    cb: float,
    cw: float,
    k_range: tuple[float, float] = (1e-8, 100.0),
    n_grid: int = 2000,
    order: int = _ORDER,
) -> np.ndarray:
    """Fixed points K = C_b + C_W g(K) found as sign changes of f(K) − K (§4.1).

    Tangent (double) roots such as a half-stable K* do not change sign and are not reported;
    :func:`critical_point` returns those. K = 0 is included when C_b = 0 and σ(0) = 0.

    Parameters
    ----------
    activation : str, Activation or callable
    cb, cw : float
        C_b ≥ 0, C_W > 0.
    k_range : (float, float)
        Scan interval (log-spaced grid).
    n_grid : int
    order : int

    Returns
    -------
    ndarray, shape (R,)
        Sorted fixed points.
    """
    act = get_activation(activation)
    cw = float(real_scalar(cw, "cw", finite=False))
    _check_cw(cw)
    cb = real_scalar(cb, "cb", finite=False)
    if not np.isfinite(cb) or cb < 0:
        raise DLTheoryError(f"cb={cb!r}: bias variance C_b must be finite and >= 0")
    bounds = real_array(k_range, "k_range")
    if bounds.shape != (2,) or not np.all(np.isfinite(bounds)) or not 0 < bounds[0] < bounds[1]:
        raise DLTheoryError(f"k_range={k_range!r}: need two finite numbers 0 < low < high")
    lo, hi = (float(b) for b in bounds)
    if isinstance(n_grid, bool) or not isinstance(n_grid, (int, np.integer)) or not 2 <= n_grid <= 1_000_000:
        raise DLTheoryError(f"n_grid={n_grid!r}: must be an integer in [2, 1_000_000]")

    def h(k):
        return cb + cw * single_moments(act, k, order)["sigma2"] - k

    grid = np.geomspace(lo, hi, n_grid)
    vals = h(grid)
    roots = [brentq(lambda t: float(h(t)), a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps)
             for a, b, va, vb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]) if va * vb < 0]
    if cb == 0 and float(np.asarray(act.fn(np.zeros(1)), dtype=float)[0]) == 0.0:
        roots.insert(0, 0.0)
    return np.array(sorted(roots))


def _ratio_minus_one(act: Activation, k, order: int):
    m = single_moments(act, k, order)
    return m["g_prime"] / m["dsigma2"] - 1.0


def _refine_root(act: Activation, a: float, b: float, order: int) -> tuple[float, int]:
    """Root of the ratio in [a, b], doubling the quadrature order until it moves < 1e-12 K [NUM].

    SWISH at K* ≈ 14.3 needs ~10³ nodes (poles of the logistic at z = ±iπ); GELU converges at 300.
    """
    def root(n: int) -> float:
        return brentq(lambda t: float(_ratio_minus_one(act, t, n)), a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps)

    k = root(order)
    while 2 * order <= _MAX_REFINE_ORDER:
        order *= 2
        k_new = root(order)
        converged = abs(k_new - k) <= 1e-12 * abs(k_new)
        k = k_new
        if converged:
            break
    return k, order


def _taylor_data(act: Activation) -> tuple[float, float]:
    if act.taylor is None or act.taylor[1] == 0:
        return math.nan, math.nan
    _, s1, s2, s3 = act.taylor
    return s3 / s1 + 0.75 * (s2 / s1) ** 2, s3 / s1 + (s2 / s1) ** 2


def _solve_critical_point(activation: str | Activation | Callable, order: int = _ORDER) -> CriticalPoint:
    """Critical (C_b, C_W, K*) of an activation by the §4.1 solver, classified per §4.2 (unchecked).

    Parameters
    ----------
    activation : str, Activation or callable
    order : int
        Gauss–Hermite nodes for the root search.

    Returns
    -------
    CriticalPoint
        For several admissible roots the one with the smallest K* is chosen (the §4.2 table has
        one root per built-in); all are listed in ``roots``.
    """
    act = get_activation(activation)
    if act.is_scale_invariant:
        return CriticalPoint(act.name, 0.0, 1.0 / act.a2, math.nan, 1.0, 1.0, "scale-invariant")
    if float(single_moments(act, 1.0, order)["dsigma2"]) == 0.0:
        raise DLTheoryError(f"activation={act.name!r}: σ' = 0 almost everywhere, so χ_⊥ = C_W⟨σ'²⟩ = 0 and "
                            "there is no critical point (§4.1)")
    a1, _ = _taylor_data(act)
    s0 = act.taylor[0] if act.taylor is not None else math.nan
    if act.taylor is not None and abs(s0) < 1e-12 and np.isfinite(a1) and a1 < 0:
        cw = 1.0 / act.taylor[1] ** 2
        chi_par, chi_perp = susceptibilities(act, 0.0, cw, order)
        return CriticalPoint(act.name, 0.0, cw, 0.0, float(chi_par), float(chi_perp), "K*=0")
    lo, hi, n = _SCAN
    grid = np.geomspace(lo, hi, n)
    vals = _ratio_minus_one(act, grid, order)
    admissible = []
    for a, b, va, vb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]):
        if va * vb >= 0:
            continue
        k, k_order = _refine_root(act, a, b, order)
        m = single_moments(act, k, k_order)
        cw = 1.0 / float(m["dsigma2"])
        cb = k - cw * float(m["sigma2"])
        if cb >= -1e-12:
            admissible.append((k, max(cb, 0.0), cw))
    if not admissible:
        nan = math.nan
        return CriticalPoint(act.name, nan, nan, nan, nan, nan, "none")
    k, cb, cw = admissible[0]
    k_order = _refine_root(act, k * (1 - 1e-3), k * (1 + 1e-3), order)[1]
    chi_par, chi_perp = susceptibilities(act, k, cw, k_order)
    f2 = cw * float(g_second(act, k, k_order))
    return CriticalPoint(act.name, cb, cw, k, float(chi_par), float(chi_perp), "half-stable", f2,
                         tuple(r[0] for r in admissible))


def critical_point(activation: str | Activation | Callable, order: int = _ORDER) -> CriticalPoint:
    """Critical (C_b, C_W, K*) of an activation by the §4.1 solver, classified per §4.2.

    Parameters
    ----------
    activation : str, Activation or callable
    order : int
        Gauss–Hermite nodes for the root search.

    Returns
    -------
    CriticalPoint
        For several admissible roots the one with the smallest K* is chosen (the §4.2 table has
        one root per built-in); all are listed in ``roots``. Unless the class is ``"none"``, C_b ≥ 0
        and C_W > 0 are finite: an activation whose moments overflow float64 (``leaky_relu:1e300``)
        is a one-line :class:`DLTheoryError`, never a critical point with C_W = 0.
    """
    act = get_activation(activation)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cp = _solve_critical_point(act, order)
    except (OverflowError, FloatingPointError, ZeroDivisionError):
        cp = None
    if cp is None or (cp.universality_class != "none" and not (
            math.isfinite(cp.cb) and cp.cb >= 0 and math.isfinite(cp.cw) and cp.cw > 0
            and math.isfinite(cp.chi_parallel) and math.isfinite(cp.chi_perp))):
        raise DLTheoryError(f"activation={act.name!r}: its Gaussian moments overflow float64, so no critical "
                            "(C_b, C_W) can be computed; use a smaller parameter")
    return cp


def universality_class(activation: str | Activation | Callable, order: int = _ORDER) -> UniversalityClass:
    """Universality class with Taylor data a_1, b_1 (§4.2-4.3).

    Parameters
    ----------
    activation : str, Activation or callable
    order : int

    Returns
    -------
    UniversalityClass
    """
    act = get_activation(activation)
    cp = critical_point(act, order)
    a1, b1 = _taylor_data(act)
    return UniversalityClass(cp.universality_class, act.taylor, a1, b1, cp)

