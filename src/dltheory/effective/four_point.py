"""One-input four-point vertex V, NLO metric G^{1} and the slope ν (effective-theory.md §5.1, §5.3, §5.4).

Conventions (§5.1, §9.2): V^{(ℓ)} and G^{1}^{(ℓ)} carry the book's 1/n_{ℓ-1}, so for one input

    E z² = K + G^{1}/n_{ℓ-1} + O(n^{-2}),   E z⁴ − 3(E z²)² = 3V/n_{ℓ-1},   Cov(z_i², z_j²)_{i≠j} = V/n_{ℓ-1},

and r_ℓ = n_ℓ/n_{ℓ-1} multiplies the transported tensors. Recursions (§5.3 [DER; MC]):

    V'    = C_W²[⟨σ⁴⟩ − ⟨σ²⟩²] + r_ℓ χ_∥² V,
    G1'   = r_ℓ [χ_∥ G1 + C_W ⟨σ² He_4⟩ V / (8K⁴)],   He_4 = z⁴ − 6Kz² + 3K².

Also: the exact finite-width fourth moment of scale-invariant networks with C_b = 0 (§5.4 [DER; MC])
and the slope ν of V/(nK²) against ℓ/n for each universality class (§5.4), computed from the
activation's moments, never typed in. Every layer's K, V and G^{1} are checked: a layer that
overflows float64 (or a kernel that underflows to 0) is a one-line
:class:`~dltheory.errors.DLTheoryError` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.criticality import critical_point
from dltheory.effective.gaussian import DEFAULT_ORDER_1D, gauss_hermite
from dltheory.effective.kernels import check_depth, per_layer
from dltheory.effective.validation import LayerCheck, real_array, real_scalar
from dltheory.errors import DLTheoryError

__all__ = [
    "FourPointSingle",
    "layer_moments",
    "width_ratios",
    "four_point_single",
    "exact_fourth_moment",
    "vertex_slope",
    "normalized_vertex",
    "clt_valid_layers",
]

ActivationLike = str | Activation | Callable


def layer_moments(activation: ActivationLike, k: float, order: int = DEFAULT_ORDER_1D) -> dict[str, float]:
    """One-input Gaussian moments at variance K > 0 used by the finite-width recursions (§3.2, §3.4, §6.4).

    Closed forms for scale-invariant σ (§3.2: ⟨σ²⟩ = A_2K, ⟨σ⁴⟩ = 3A_4K², ...); Gauss–Hermite in
    u = z/√K otherwise (He_4 and z² − K contractions done in u-space, §3.3-3.4).

    Parameters
    ----------
    activation : str, Activation or callable
    k : float
        K > 0.
    order : int
        Gauss–Hermite nodes.

    Returns
    -------
    dict of float
        ``sigma2`` ⟨σ²⟩, ``sigma4`` ⟨σ⁴⟩, ``dsigma2`` ⟨σ'²⟩, ``dsigma4`` ⟨σ'⁴⟩, ``sigma2_dsigma2``
        ⟨σ²σ'²⟩, ``z2_sigma2`` ⟨z²σ²⟩, ``g_prime`` g' = ⟨σ²(z²−K)⟩/(2K²), ``dsigma2_prime``
        d⟨σ'²⟩/dK = ⟨σ'²(z²−K)⟩/(2K²), ``sigma2_he4`` ⟨σ²He_4⟩/K⁴, ``dsigma2_he4`` ⟨σ'²He_4⟩/K⁴.
    """
    act = get_activation(activation)
    k = real_scalar(k, "k", finite=False)
    if not math.isfinite(k) or k <= 0:
        raise DLTheoryError(f"k={k!r}: the finite-width recursions need a kernel K > 0")
    if act.is_scale_invariant:
        a2, a4 = act.a2, act.a4
        return {"sigma2": a2 * k, "sigma4": 3 * a4 * k * k, "dsigma2": a2, "dsigma4": a4, "sigma2_dsigma2": a4 * k,
                "z2_sigma2": 3 * a2 * k * k, "g_prime": a2, "dsigma2_prime": 0.0, "sigma2_he4": 0.0,
                "dsigma2_he4": 0.0}
    u, w = gauss_hermite(order)
    z = math.sqrt(k) * u
    s2 = np.asarray(act.fn(z), dtype=float) ** 2
    d2 = np.asarray(act.derivative(z), dtype=float) ** 2
    u2m1 = u * u - 1.0
    he4 = u**4 - 6.0 * u * u + 3.0
    return {
        "sigma2": float(s2 @ w), "sigma4": float((s2 * s2) @ w), "dsigma2": float(d2 @ w),
        "dsigma4": float((d2 * d2) @ w), "sigma2_dsigma2": float((s2 * d2) @ w),
        "z2_sigma2": float((z * z * s2) @ w), "g_prime": float((s2 * u2m1) @ w) / (2 * k),
        "dsigma2_prime": float((d2 * u2m1) @ w) / (2 * k), "sigma2_he4": float((s2 * he4) @ w) / (k * k),
        "dsigma2_he4": float((d2 * he4) @ w) / (k * k),
    }


def width_ratios(widths: int | Sequence[int] | None, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Fan-in widths n_{ℓ-1} and ratios r_ℓ for layers ℓ = 1..depth (§9.2).

    Parameters
    ----------
    widths : int, sequence of depth−1 ints, or None
        Hidden widths n_1..n_{L-1} (an int: all equal; None: equal widths of unspecified size).
    depth : int

    Returns
    -------
    fan_in : ndarray, shape (depth,)
        n_{ℓ-1} (NaN for ℓ = 1, where V = G1 = 0 and n_0 plays no role; NaN everywhere for None).
    ratio : ndarray, shape (depth,)
        ratio[ℓ-1] = n_{ℓ-1}/n_{ℓ-2} multiplies the transport into layer ℓ (1 for equal widths).
    """
    if widths is None:
        return np.full(depth, np.nan), np.ones(depth)
    arr = real_array(widths, "widths")
    if arr.ndim == 0:
        arr = np.full(depth - 1, float(arr))
    if arr.shape != (depth - 1,):
        raise DLTheoryError(f"widths: expected an int or a sequence of depth-1={depth - 1} hidden widths, "
                            f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise DLTheoryError(f"widths={widths!r}: widths must be integers >= 1")
    fan = np.concatenate([[np.nan], arr])
    ratio = np.ones(depth)
    ratio[2:] = arr[1:] / arr[:-1]
    return fan, ratio


@dataclass(frozen=True)
class FourPointSingle:
    """One-input finite-width state per layer ℓ = 1..L (index ℓ−1), §5.3.

    Attributes
    ----------
    kernel, vertex, nlo_metric : ndarray, shape (L,)
        K^{(ℓ)}, V^{(ℓ)}, G^{1}^{(ℓ)} (the last two carry 1/n_{ℓ-1}).
    fan_in : ndarray, shape (L,)
        n_{ℓ-1} (NaN when widths were not given).
    """

    kernel: np.ndarray
    vertex: np.ndarray
    nlo_metric: np.ndarray
    fan_in: np.ndarray

    def normalized_vertex(self) -> np.ndarray:
        """V/(n_{ℓ-1} K²), shape (L,): the normalized four-point vertex (§5.4); NaN without widths."""
        return self.vertex / (self.fan_in * self.kernel**2)

    def excess_kurtosis(self) -> np.ndarray:
        """Predicted single-neuron excess kurtosis 3V/(n_{ℓ-1}K²), shape (L,) (§5.1)."""
        return 3.0 * self.normalized_vertex()

    def metric(self) -> np.ndarray:
        """E z² ≈ K + G^{1}/n_{ℓ-1}, shape (L,) (§5.1)."""
        return self.kernel + np.nan_to_num(self.nlo_metric / self.fan_in)


def four_point_single(
    k1: float,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    widths: int | Sequence[int] | None = None,
    order: int = DEFAULT_ORDER_1D,
) -> FourPointSingle:
    """K, V and G^{1} of one input through ``depth`` layers (§5.3 [DER; MC]).

    Parameters
    ----------
    k1 : float
        K^{(1)} > 0 (C_b^{(1)}, C_W^{(1)} are then unused).
    depth : int
        L ≥ 1.
    activation : str, Activation or callable
    cb, cw : float or sequence of length depth
    widths : int, sequence of depth−1 ints, or None
        Hidden widths n_1..n_{L-1} (layer-dependent widths enter through r_ℓ).
    order : int
        Gauss–Hermite nodes for non-closed-form σ.

    Returns
    -------
    FourPointSingle
    """
    act = get_activation(activation)
    depth = check_depth(depth)
    k1 = real_scalar(k1, "k1")
    if k1 <= 0:
        raise DLTheoryError(f"k1={k1!r}: must be finite and > 0")
    cb = per_layer(cb, depth, "cb", positive=False)
    cw = per_layer(cw, depth, "cw", positive=True)
    fan, ratio = width_ratios(widths, depth)
    kern, vert, g1 = np.zeros(depth), np.zeros(depth), np.zeros(depth)
    kern[0] = k1
    with LayerCheck(act.name, C_b=cb, C_W=cw) as check:
        for ell in range(1, depth):
            check.layer = ell + 1
            check.positive(ell, "kernel K", kern[ell - 1])
            m = layer_moments(act, kern[ell - 1], order)
            chi = cw[ell] * m["g_prime"]
            kern[ell] = cb[ell] + cw[ell] * m["sigma2"]
            vert[ell] = cw[ell] ** 2 * (m["sigma4"] - m["sigma2"] ** 2) + ratio[ell] * chi**2 * vert[ell - 1]
            g1[ell] = ratio[ell] * (chi * g1[ell - 1] + cw[ell] * m["sigma2_he4"] * vert[ell - 1] / 8.0)
            check(ell + 1, **{"kernel K": kern[ell], "four-point vertex V": vert[ell], "NLO metric G1": g1[ell]})
    return FourPointSingle(kern, vert, g1, fan)


def exact_fourth_moment(
    k1: float, depth: int, activation: ActivationLike, cw: float = 1.0, widths: int | Sequence[int] = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact finite-width E z² and E z⁴ of a scale-invariant MLP with C_b = 0, any C_W (§5.4 [DER; MC]).

    E[Ĝ'²|Ĝ] = (C_W A_2 Ĝ)²(1 + ν/n) gives E z² = (C_W A_2)^{ℓ-1} K^{(1)} and
    E z⁴ = 3 (E z²)² Π_{k<ℓ} (1 + ν/n_k), ν = 3A_4/A_2² − 1 (ReLU: Hanin–Nica (1+5/n)^{ℓ-1}).

    Parameters
    ----------
    k1 : float
        K^{(1)} > 0.
    depth : int
    activation : str or Activation
        Must be scale-invariant (linear, ReLU, leaky ReLU).
    cw : float
        Layer-independent C_W > 0 of layers 2..L.
    widths : int or sequence of depth−1 ints
        Hidden widths n_1..n_{L-1}.

    Returns
    -------
    second, fourth : ndarray, shape (depth,)
        E z² and E z⁴ per layer. Then V_exact = n_{ℓ-1}(E z⁴ − 3(E z²)²)/3.
    """
    act = get_activation(activation)
    if not act.is_scale_invariant:
        raise DLTheoryError(f"activation={act.name!r}: the exact fourth moment needs a scale-invariant σ "
                            "(linear, relu, leaky_relu)")
    cw = real_scalar(cw, "cw")
    if cw <= 0:
        raise DLTheoryError(f"cw={cw!r}: must be > 0")
    k1 = real_scalar(k1, "k1")
    if k1 <= 0:
        raise DLTheoryError(f"k1={k1!r}: must be finite and > 0")
    depth = check_depth(depth)
    fan, _ = width_ratios(widths, depth)
    nu = 3 * act.a4 / act.a2**2 - 1
    ell = np.arange(depth)
    with LayerCheck(act.name, C_W=cw) as check:
        second = (cw * act.a2) ** ell * k1
        growth = np.concatenate([[1.0], np.cumprod(1.0 + nu / fan[1:])])
        fourth = 3.0 * second**2 * growth
        check.check_all({"E z²": second, "E z⁴": fourth})
    return second, fourth


def _fourth_cumulant_increment(act: Activation, k: float, cw: float, order: int) -> float:
    m = layer_moments(act, k, order)
    return cw**2 * (m["sigma4"] - m["sigma2"] ** 2)


def vertex_slope(activation: ActivationLike, order: int = 400) -> float:
    """ν: the slope of V/(nK²) against ℓ/n at criticality, equal widths (§5.4).

    * scale-invariant / half-stable (χ_∥ = 1 at K*): ν = C_W²(⟨σ⁴⟩ − ⟨σ²⟩²)/K*² — ReLU 5, linear 2,
      GELU ≈ 4.904, SWISH ≈ 4.923 [DER; NUM];
    * K*=0 class: with κ = lim_{K→0} C_W²(⟨σ⁴⟩ − ⟨σ²⟩²)/K² and χ_∥ ≈ 1 − 2/ℓ, the recursion
      gives V ≈ κ/(3a_1²ℓ) and ν = κ/3 = 2/3 (asymptotic in ℓ; at finite ℓ use :func:`four_point_single`);
    * class "none": no criticality → DLTheoryError.

    Parameters
    ----------
    activation : str, Activation or callable
    order : int
        Gauss–Hermite nodes (SWISH's K* ≈ 14.3 needs ≥ 400).

    Returns
    -------
    float
    """
    act = get_activation(activation)
    cp = critical_point(act)
    if cp.universality_class == "none":
        raise DLTheoryError(f"activation={act.name!r} has no critical point, so no slope ν")
    if cp.universality_class == "scale-invariant":
        return _fourth_cumulant_increment(act, 1.0, cp.cw, order)
    if cp.universality_class == "half-stable":
        return _fourth_cumulant_increment(act, cp.k_star, cp.cw, order) / cp.k_star**2
    # K*=0: c(K)/K² = κ + c_1 K + c_2 K² + ...; two Richardson levels on h, h/2, h/4 remove c_1, c_2.
    h = 1e-3
    c = [_fourth_cumulant_increment(act, h / 2**j, cp.cw, order) / (h / 2**j) ** 2 for j in range(3)]
    r1 = [2 * c[1] - c[0], 2 * c[2] - c[1]]
    kappa = (4 * r1[1] - r1[0]) / 3
    return kappa / 3.0


def normalized_vertex(pair: np.ndarray, m2: np.ndarray) -> np.ndarray:
    """The normalized four-point vertex V/(n K²) from one-input ensemble moments (§5.1, §5.4).

    V/(n_{ℓ-1} (E z²)²) = Cov(z_i², z_j²)_{i≠j}/(E z²)² = (E[z_i² z_j²] − (E z²)²)/(E z²)².

    Parameters
    ----------
    pair : ndarray, shape (...)
        E[z_i² z_j²]_{i≠j} (e.g. the network average of ``EnsembleStatistics.pair_fourth``).
    m2 : ndarray, shape (...)
        E z² at the same layers/inputs.

    Returns
    -------
    ndarray, shape (...)
    """
    return (pair - m2**2) / m2**2


def clt_valid_layers(layers: np.ndarray, width: int, nu: float, n_networks: int) -> np.ndarray:
    """Layers where the mean over N networks of z⁴ is close to normal, decided a priori from theory (§5.4).

    Per network z⁴ ≈ 3Ĝ² and Ĝ is close to log-normal with log-variance (ℓ−1) log(1 + ν/n) (the §5.4
    exact law), so Ĝ² has log-variance s = 4(ℓ−1) log(1 + ν/n) and skewness (eˢ + 2)√(eˢ − 1); the mean of
    N networks is treated as normal (its standard error is trustworthy) when that skewness/√N ≤ 0.5.

    Parameters
    ----------
    layers : ndarray, shape (L,)
        Layer indices ℓ >= 1.
    width : int
        n (equal hidden widths).
    nu : float
        The class slope ν (:func:`vertex_slope`).
    n_networks : int
        N.

    Returns
    -------
    ndarray of bool, shape (L,)
    """
    s = 4.0 * (layers - 1) * np.log1p(nu / width)
    return (np.exp(s) + 2.0) * np.sqrt(np.expm1(s)) / np.sqrt(n_networks) <= 0.5
