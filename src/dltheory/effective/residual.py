"""Residual MLPs: criticality with residual strength γ and the slope ν(γ) (effective-theory.md §8).

Model (Appendix B [BOOK structure; DER]): z^{(1)} = b + W x, then for ℓ ≥ 1 (equal widths n)

    z^{(ℓ+1)}_i = γ z^{(ℓ)}_i + b_i + Σ_j W_ij σ(z^{(ℓ)}_j),

so K' = γ²K + C_b + C_W g(K), χ_∥ = γ² + C_W g', χ_⊥ = γ² + C_W⟨σ'²⟩. Criticality keeps the K* of
the plain MLP and rescales (C_b, C_W) by (1 − γ²) [DER]. One-input finite-width recursions [DER]:

    V'  = χ_∥² V + C_W²[⟨σ⁴⟩ − ⟨σ²⟩²] + 2γ²C_W[⟨z²σ²⟩ − K⟨σ²⟩],
    G1' = χ_∥ G1 + C_W ⟨σ²He_4⟩ V/(8K⁴).

At criticality V/(nK²) grows like ν(γ) ℓ/n with ν(γ) = (1−γ²)[(1−γ²)(3A_4/A_2² − 1) + 4γ²]
(scale-invariant) and (2/3)(1 − γ⁴) (K*=0 class); :func:`residual_vertex_slope` computes it from the
activation's moments for any critical class.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.criticality import CriticalPoint, critical_point
from dltheory.effective.four_point import FourPointSingle, layer_moments
from dltheory.effective.gaussian import DEFAULT_ORDER_1D
from dltheory.effective.kernels import check_depth
from dltheory.effective.validation import LayerCheck, real_scalar
from dltheory.errors import DLTheoryError

__all__ = ["check_gamma", "residual_critical_point", "residual_four_point", "residual_vertex_slope"]

ActivationLike = str | Activation | Callable


def check_gamma(gamma: float) -> float:
    """Validate the residual strength γ ∈ [0, 1) (§8)."""
    try:
        g = real_scalar(gamma, "gamma", finite=False)
    except DLTheoryError:
        raise DLTheoryError(f"gamma={gamma!r}: residual strength must be a number in [0, 1)") from None
    if not (math.isfinite(g) and 0.0 <= g < 1.0):
        raise DLTheoryError(f"gamma={gamma!r}: residual strength must be in [0, 1)")
    return g


def residual_critical_point(activation: ActivationLike, gamma: float) -> CriticalPoint:
    """Critical (C_b, C_W) of the residual MLP: (1 − γ²) × the plain MLP's, same K* (§8 [DER])."""
    gamma = check_gamma(gamma)
    cp = critical_point(activation)
    if cp.universality_class == "none":
        raise DLTheoryError(f"activation={cp.activation!r} has no critical point")
    s = 1.0 - gamma**2
    return CriticalPoint(cp.activation, cp.cb * s, cp.cw * s, cp.k_star, 1.0, 1.0, cp.universality_class,
                         cp.f_second * s, cp.roots)


def _increment(m: dict[str, float], k: float, cw: float, gamma: float) -> float:
    return cw**2 * (m["sigma4"] - m["sigma2"] ** 2) + 2 * gamma**2 * cw * (m["z2_sigma2"] - k * m["sigma2"])


def residual_four_point(
    k1: float, depth: int, activation: ActivationLike, gamma: float, cb: float, cw: float,
    order: int = DEFAULT_ORDER_1D,
) -> FourPointSingle:
    """One-input K, V, G^{1} of a residual MLP with equal widths (§8 [DER]).

    Parameters
    ----------
    k1 : float
        K^{(1)} > 0 (first layer is a plain linear map of the input).
    depth : int
    activation : str, Activation or callable
    gamma : float
        Residual strength in [0, 1).
    cb, cw : float
        Layer-independent C_b ≥ 0, C_W > 0 of the residual blocks.
    order : int

    Returns
    -------
    FourPointSingle
        ``fan_in`` is NaN (equal widths: divide V and G1 by n).
    """
    act = get_activation(activation)
    gamma = check_gamma(gamma)
    depth = check_depth(depth)
    k1, cb, cw = (real_scalar(v, name) for v, name in ((k1, "k1"), (cb, "cb"), (cw, "cw")))
    if not k1 > 0:
        raise DLTheoryError(f"k1={k1!r}: must be finite and > 0")
    if not (cb >= 0 and cw > 0):
        raise DLTheoryError(f"cb={cb!r}, cw={cw!r}: need C_b >= 0 and C_W > 0")
    kern, vert, g1 = np.zeros(depth), np.zeros(depth), np.zeros(depth)
    kern[0] = k1
    with LayerCheck(act.name, γ=gamma, C_b=cb, C_W=cw) as check:
        for ell in range(1, depth):
            check.layer = ell + 1
            k = kern[ell - 1]
            check.positive(ell, "kernel K", k)
            m = layer_moments(act, k, order)
            chi = gamma**2 + cw * m["g_prime"]
            kern[ell] = gamma**2 * k + cb + cw * m["sigma2"]
            vert[ell] = chi**2 * vert[ell - 1] + _increment(m, k, cw, gamma)
            g1[ell] = chi * g1[ell - 1] + cw * m["sigma2_he4"] * vert[ell - 1] / 8.0
            check(ell + 1, **{"kernel K": kern[ell], "four-point vertex V": vert[ell], "NLO metric G1": g1[ell]})
    return FourPointSingle(kern, vert, g1, np.full(depth, np.nan))


def residual_vertex_slope(activation: ActivationLike, gamma: float, order: int = 400) -> float:
    """ν(γ): slope of V/(nK²) against ℓ/n for the critical residual MLP (§8 [BOOK✓ form; DER]).

    The per-layer increment of V divided by K² at the fixed point (scale-invariant, half-stable),
    or one third of its K → 0 limit (K*=0 class, where χ_∥ ≈ 1 − 2/ℓ; asymptotic in ℓ).
    γ = 0 reproduces :func:`dltheory.effective.four_point.vertex_slope`.
    """
    act = get_activation(activation)
    cp = residual_critical_point(act, gamma)

    def ratio(k: float) -> float:
        return _increment(layer_moments(act, k, order), k, cp.cw, gamma) / k**2

    if cp.universality_class == "scale-invariant":
        return ratio(1.0)
    if cp.universality_class == "half-stable":
        return ratio(cp.k_star)
    h = 1e-3
    c = [ratio(h / 2**j) for j in range(3)]
    r1 = [2 * c[1] - c[0], 2 * c[2] - c[1]]
    return (4 * r1[1] - r1[0]) / 3 / 3.0
