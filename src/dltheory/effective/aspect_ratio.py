"""Optimal aspect ratio r* = L/n of a deep MLP (effective-theory.md §8, Appendix A).

r* = 4/((20 + 3 n_L) ν) [BOOK; formula BOOK✓ in `CritMLP`], with ν the slope of the normalized
four-point vertex (§5.4) computed by :func:`dltheory.effective.four_point.vertex_slope` or, for a
residual MLP, :func:`dltheory.effective.residual.residual_vertex_slope`. The information proxy
I(r) ∝ (νr)²[1 − (20 + 3n_L)νr/6] has its maximum at r* [HYP].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dltheory.activations import Activation
from dltheory.effective.four_point import vertex_slope
from dltheory.effective.residual import residual_vertex_slope
from dltheory.errors import DLTheoryError

__all__ = ["optimal_aspect_ratio", "optimal_aspect_ratio_from_nu", "information_proxy"]


def _check_outputs(n_out: int) -> int:
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
        raise DLTheoryError(f"n_out={n_out!r}: number of outputs n_L must be an integer >= 1")
    return int(n_out)


def optimal_aspect_ratio_from_nu(nu: float, n_out: int = 1) -> float:
    """r* = 4/((20 + 3 n_L) ν) for a given slope ν > 0 (§8)."""
    n_out = _check_outputs(n_out)
    if not np.isfinite(nu) or nu <= 0:
        raise DLTheoryError(f"nu={nu!r}: the vertex slope must be > 0")
    return 4.0 / ((20.0 + 3.0 * n_out) * nu)


def optimal_aspect_ratio(activation: str | Activation | Callable, n_out: int = 1, gamma: float = 0.0) -> float:
    """r* for an activation at criticality, plain (γ = 0) or residual MLP (§8).

    Parameters
    ----------
    activation : str, Activation or callable
        Must have a critical point (not class "none").
    n_out : int
        Output width n_L ≥ 1.
    gamma : float
        Residual strength in [0, 1).

    Returns
    -------
    float
        ReLU 0.0348, 0.0276, 0.016 (n_L = 1, 3, 10); tanh 0.261, 0.207, 0.12 (asymptotic ν = 2/3).
    """
    nu = vertex_slope(activation) if gamma == 0 else residual_vertex_slope(activation, gamma)
    return optimal_aspect_ratio_from_nu(nu, n_out)


def information_proxy(r: np.ndarray, nu: float, n_out: int = 1) -> np.ndarray:
    """I(r) ∝ (νr)²[1 − (20 + 3n_L)νr/6], shape of ``r`` [HYP]; maximal at r*."""
    n_out = _check_outputs(n_out)
    r = np.asarray(r, dtype=float)
    return (nu * r) ** 2 * (1.0 - (20.0 + 3.0 * n_out) * nu * r / 6.0)
