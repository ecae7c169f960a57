"""One-input O(1/n) statistics of the neural tangent kernel (effective-theory.md §6.2-6.4, §6.6).

State per layer (§9.1): (K, Θ, V, G^{1}, A, B, D, F, H^{1}); the finite-width tensors carry the book's
1/n_{ℓ-1} (§6.3) and are zero at ℓ = 1. Recursions (§6.4 [DER: condition on layer ℓ, Wick-contract
W'; MC]) with g = ⟨σ²⟩, χ'_⊥ = C_W ⟨σ'²(z²−K)⟩/(2K²), X = λ_W χ_∥/C_W + Θ χ'_⊥, c_1 = ⟨σ⁴⟩ − g²,
c_2 = ⟨σ²σ'²⟩ − g⟨σ'²⟩, c_3 = ⟨σ'⁴⟩ − ⟨σ'²⟩²:

    B' = C_W²⟨σ'⁴⟩Θ² + r χ_⊥² B,                 F' = C_W²⟨σ²σ'²⟩Θ + r χ_∥² F,
    D' = λ_W C_W c_1 + C_W² Θ c_2 + r[χ_∥χ_⊥ D + χ_∥ X V],
    A' = λ_W² c_1 + 2λ_W C_W Θ c_2 + C_W² Θ² c_3 + r[χ_⊥² A + 2χ_⊥ X D + X² V],
    H1' = r[χ_⊥ H1 + X G1 + (λ_W⟨σ²He_4⟩ + C_W Θ⟨σ'²He_4⟩) V/(8K⁴) + χ'_⊥ (D + 2F)].

Observable consequences (§6.3): E Ĥ_ii = Θ + H1/n_{ℓ-1}; Var Ĥ_ii = (A + 2B)/n_{ℓ-1} (all three
Kronecker terms at i_1 = ... = i_4); Cov(Ĥ_ii, Ĥ_jj) = A/n_{ℓ-1}; E Ĥ_ij² = B/n_{ℓ-1} (i ≠ j).
The multi-input versions (§6.5) are not implemented here. Every layer's nine quantities are
checked: a layer that overflows float64 is a one-line :class:`~dltheory.errors.DLTheoryError`
naming it and the quantity. :func:`finite_width_summary` warns (:class:`~dltheory.errors.DLTheoryWarning`)
when depth/width leaves the regime of the 1/n expansion (threshold ``ONE_OVER_N_LIMIT``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.criticality import critical_point
from dltheory.effective.four_point import layer_moments, width_ratios
from dltheory.effective.gaussian import DEFAULT_ORDER_1D
from dltheory.effective.kernels import check_depth, per_layer
from dltheory.effective.validation import LayerCheck, real_scalar
from dltheory.errors import DLTheoryError, DLTheoryWarning

__all__ = ["NTKStatisticsSingle", "ONE_OVER_N_LIMIT", "ntk_statistics_single", "finite_width_summary"]

ActivationLike = str | Activation | Callable
ONE_OVER_N_LIMIT = 0.5
_LABELS = {"k": "kernel K", "t": "NTK Θ", "v": "four-point vertex V", "g1": "NLO metric G1", "a": "NTK variance A",
           "b": "NTK variance B", "d": "NTK-preactivation cross-correlation D",
           "f": "NTK-preactivation cross-correlation F", "h1": "NLO NTK H1"}


@dataclass(frozen=True)
class NTKStatisticsSingle:
    """One-input state per layer ℓ = 1..L (index ℓ−1), §9.1. Every array has shape (L,).

    Attributes
    ----------
    kernel, theta : K^{(ℓ)}, Θ^{(ℓ)}
    vertex, nlo_metric : V, G^{1}
    a, b, d, f : the §6.3 tensors A, B, D, F
    nlo_ntk : H^{1} (mean NTK correction)
    fan_in : n_{ℓ-1} (NaN without widths)
    """

    kernel: np.ndarray
    theta: np.ndarray
    vertex: np.ndarray
    nlo_metric: np.ndarray
    a: np.ndarray
    b: np.ndarray
    d: np.ndarray
    f: np.ndarray
    nlo_ntk: np.ndarray
    fan_in: np.ndarray

    def ntk_diagonal_variance(self) -> np.ndarray:
        """Predicted Var Ĥ_ii = (A + 2B)/n_{ℓ-1}, shape (L,) (§6.3)."""
        return (self.a + 2.0 * self.b) / self.fan_in

    def ntk_mean(self) -> np.ndarray:
        """Predicted E Ĥ_ii = Θ + H^{1}/n_{ℓ-1}, shape (L,) (§6.2)."""
        return self.theta + np.nan_to_num(self.nlo_ntk / self.fan_in)


def ntk_statistics_single(
    k1: float,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    theta1: float | None = None,
    widths: int | Sequence[int] | None = None,
    order: int = DEFAULT_ORDER_1D,
) -> NTKStatisticsSingle:
    """Run the one-input NTK recursions of §6.2 and §6.4 through ``depth`` layers.

    Parameters
    ----------
    k1 : float
        K^{(1)} > 0.
    depth : int
    activation : str, Activation or callable
    cb, cw, lambda_b, lambda_w : float or sequence of length depth
    theta1 : float, optional
        Θ^{(1)} ≥ 0 (finite); default λ_b^{(1)} + λ_W^{(1)} |x|²/n_0 with |x|²/n_0 = (k1 − C_b^{(1)})/C_W^{(1)}.
    widths : int, sequence of depth−1 ints, or None
        Hidden widths n_1..n_{L-1} (r_ℓ).
    order : int

    Returns
    -------
    NTKStatisticsSingle

    Examples
    --------
    ReLU, C_W = 2, x = (1, 1, 1, 1) (§6.6 / M7): at ℓ = 2, Θ = 4, V = 20, A = 13, B = 8, D = 14, F = 8.
    """
    act = get_activation(activation)
    depth = check_depth(depth)
    k1 = real_scalar(k1, "k1")
    if k1 <= 0:
        raise DLTheoryError(f"k1={k1!r}: must be finite and > 0")
    if theta1 is not None:
        theta1 = real_scalar(theta1, "theta1")
        if theta1 < 0:
            raise DLTheoryError(f"theta1={theta1!r}: the first-layer NTK must be finite and >= 0")
    cb = per_layer(cb, depth, "cb", positive=False)
    cw = per_layer(cw, depth, "cw", positive=True)
    lb = per_layer(lambda_b, depth, "lambda_b", positive=False)
    lw = per_layer(lambda_w, depth, "lambda_w", positive=False)
    fan, ratio = width_ratios(widths, depth)
    s = {n: np.zeros(depth) for n in _LABELS}
    s["k"][0] = k1
    s["t"][0] = lb[0] + lw[0] * (k1 - cb[0]) / cw[0] if theta1 is None else float(theta1)
    with LayerCheck(act.name, C_b=cb, C_W=cw, λ_b=lb, λ_W=lw) as check:
        check(1, **{_LABELS["t"]: s["t"][0]})
        for ell in range(1, depth):
            check.layer = ell + 1
            check.positive(ell, _LABELS["k"], s["k"][ell - 1])
            _layer(s, ell, layer_moments(act, s["k"][ell - 1], order), cb, cw, lb, lw, ratio)
            check(ell + 1, **{_LABELS[n]: s[n][ell] for n in _LABELS})
    return NTKStatisticsSingle(s["k"], s["t"], s["v"], s["g1"], s["a"], s["b"], s["d"], s["f"], s["h1"], fan)


def _layer(s: dict[str, np.ndarray], ell: int, m: dict[str, float], cb: np.ndarray, cw: np.ndarray, lb: np.ndarray,
           lw: np.ndarray, ratio: np.ndarray) -> None:
    """One step ℓ−1 → ℓ of the §6.4 recursions, written into ``s[name][ell]``."""
    c_w, l_w, r = cw[ell], lw[ell], ratio[ell]
    k, t, v, g1, a, b, d, f, h1 = (s[n][ell - 1] for n in _LABELS)
    chi_par, chi_perp, chi_perp_prime = c_w * m["g_prime"], c_w * m["dsigma2"], c_w * m["dsigma2_prime"]
    x = l_w * m["g_prime"] + t * chi_perp_prime
    c1 = m["sigma4"] - m["sigma2"] ** 2
    c2 = m["sigma2_dsigma2"] - m["sigma2"] * m["dsigma2"]
    c3 = m["dsigma4"] - m["dsigma2"] ** 2
    s["k"][ell] = cb[ell] + c_w * m["sigma2"]
    s["t"][ell] = lb[ell] + l_w * m["sigma2"] + chi_perp * t
    s["v"][ell] = c_w**2 * c1 + r * chi_par**2 * v
    s["g1"][ell] = r * (chi_par * g1 + c_w * m["sigma2_he4"] * v / 8.0)
    s["b"][ell] = c_w**2 * m["dsigma4"] * t * t + r * chi_perp**2 * b
    s["f"][ell] = c_w**2 * m["sigma2_dsigma2"] * t + r * chi_par**2 * f
    s["d"][ell] = l_w * c_w * c1 + c_w**2 * t * c2 + r * (chi_par * chi_perp * d + chi_par * x * v)
    s["a"][ell] = (l_w**2 * c1 + 2 * l_w * c_w * t * c2 + c_w**2 * t * t * c3
                   + r * (chi_perp**2 * a + 2 * chi_perp * x * d + x * x * v))
    s["h1"][ell] = r * (chi_perp * h1 + x * g1 + (l_w * m["sigma2_he4"] + c_w * t * m["dsigma2_he4"]) * v / 8.0
                        + chi_perp_prime * (d + 2 * f))


def finite_width_summary(activation: ActivationLike, width: int, depth: int, k1: float | None = None,
                         lambda_b: float = 1.0, lambda_w: float = 1.0) -> dict[str, float]:
    """How far is a critical width-n, depth-L MLP from its Gaussian limit? O(1/n) answers at the output (§5-6).

    Parameters
    ----------
    activation : str, Activation or callable
        Must have a critical point; the network is initialised there (§4.2).
    width : int
        Hidden width n ≥ 1 (equal widths).
    depth : int
        L ≥ 1.
    k1 : float, optional
        K^{(1)}; default K* for half-stable σ, C_b + C_W (|x|²/n_0 = 1) otherwise.
    lambda_b, lambda_w : float

    Returns
    -------
    dict of float
        ``kernel`` K^{(L)}; ``excess_kurtosis`` 3V/(nK²); ``normalized_vertex`` V/(nK²);
        ``metric_shift`` G^{1}/(nK) (relative O(1/n) change of E z²); ``ntk_relative_std``
        √Var Ĥ_ii / Θ = √((A + 2B)/n)/Θ; ``ntk_mean_shift`` H^{1}/(nΘ); ``aspect_ratio`` L/n.

    Warns
    -----
    DLTheoryWarning
        When the numbers are outside the regime of the 1/n expansion they come from: the aspect
        ratio L/n, or the largest relative O(1/n) correction (|V/(nK²)|, |G^{1}/(nK)|,
        (A + 2B)/(nΘ²), |H^{1}/(nΘ)|), exceeds ``ONE_OVER_N_LIMIT`` = 0.5. The next order is then
        not small (O(0.25) relative or more), so the values are at most qualitative.
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise DLTheoryError(f"width={width!r}: must be an integer >= 1")
    depth = check_depth(depth)
    cp = critical_point(activation)
    if cp.universality_class == "none":
        raise DLTheoryError(f"activation={cp.activation!r} has no critical point; use ntk_statistics_single")
    if k1 is None:
        k1 = cp.k_star if cp.universality_class == "half-stable" else cp.cb + cp.cw
    r = ntk_statistics_single(k1, depth, activation, cp.cb, cp.cw, lambda_b, lambda_w, widths=width)
    n, k, t = float(width), r.kernel[-1], r.theta[-1]
    out = {"kernel": float(k), "normalized_vertex": float(r.vertex[-1] / (n * k * k)),
           "excess_kurtosis": float(3 * r.vertex[-1] / (n * k * k)), "metric_shift": float(r.nlo_metric[-1] / (n * k)),
           "ntk_relative_std": float(np.sqrt(max(r.a[-1] + 2 * r.b[-1], 0.0) / n) / t),
           "ntk_mean_shift": float(r.nlo_ntk[-1] / (n * t)), "aspect_ratio": depth / n}
    corrections = {"L/n": out["aspect_ratio"], "|V/(nK²)|": abs(out["normalized_vertex"]),
                   "|G1/(nK)|": abs(out["metric_shift"]), "(A + 2B)/(nΘ²)": out["ntk_relative_std"] ** 2,
                   "|H1/(nΘ)|": abs(out["ntk_mean_shift"])}
    worst = max(corrections, key=lambda name: corrections[name])
    if not corrections[worst] <= ONE_OVER_N_LIMIT:
        warnings.warn(f"finite_width_summary({cp.activation!r}, width={width}, depth={depth}): {worst} = "
                      f"{corrections[worst]:.3g} > {ONE_OVER_N_LIMIT}, outside the regime of the 1/n expansion; "
                      f"the O(1/n) numbers are at most qualitative (keep depth/width small)",
                      DLTheoryWarning, stacklevel=2)
    return out
