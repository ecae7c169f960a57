"""Width-exponent fits with standard errors across seeds (spec richness.md §12.2).

``y_k = mean_s log Q_{k,s}``, ``SE_k = sd_s / sqrt(S)``; weighted least squares
``y_k = a + s log n_k + c n_k^(-omega)`` (``omega = 1/2`` default; ``None`` = no correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from dltheory.errors import require

__all__ = ["ExponentFit", "bonferroni_z", "fit_width_exponent"]


@dataclass(frozen=True)
class ExponentFit:
    """Result of :func:`fit_width_exponent`: slope, its SE, intercept, chi-square p-value."""

    slope: float
    se: float
    intercept: float
    p_value: float
    correction: float | None


def bonferroni_z(m: int, family_error: float = 1e-3) -> float:
    """``z* = Phi^-1(1 - family_error / (2 m))`` (§12.2)."""
    require(isinstance(m, int) and m >= 1, f"m must be a positive int; got {m!r}")
    return float(stats.norm.ppf(1 - family_error / (2 * m)))


def fit_width_exponent(widths, values, correction: float | None = 0.5) -> ExponentFit:
    """Fit the width exponent of a positive quantity measured over seeds.

    Parameters
    ----------
    widths : array_like, shape (K,)
    values : array_like, shape (S, K)
        Positive measurements, one row per seed (S >= 2).
    correction : float or None
        Exponent omega of the finite-width correction term ``c n^-omega``; None for a pure power law.

    Returns
    -------
    ExponentFit
    """
    n = np.asarray(widths, dtype=np.float64)
    q = np.asarray(values, dtype=np.float64)
    require(q.ndim == 2 and q.shape[1] == len(n), f"values must have shape (S, {len(n)}); got {q.shape}")
    require(q.shape[0] >= 2, "values need at least 2 seeds (rows) for a standard error")
    require(bool(np.all(np.isfinite(q)) and np.all(q > 0)), "values must be finite and positive")
    n_par = 2 if correction is None else 3
    require(len(n) > n_par, f"need more than {n_par} widths for this fit; got {len(n)}")
    logq = np.log(q)
    y = logq.mean(0)
    se = logq.std(0, ddof=1) / np.sqrt(q.shape[0])
    se = np.maximum(se, 1e-12 * (1 + np.abs(y)))
    cols = [np.ones_like(n), np.log(n)] + ([] if correction is None else [n ** (-correction)])
    x = np.stack(cols, axis=1)
    w = 1.0 / se ** 2
    xtwx = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(xtwx)
    beta = cov @ (x.T @ (w * y))
    chi2 = float(np.sum(w * (y - x @ beta) ** 2))
    p = float(stats.chi2.sf(chi2, len(n) - n_par))
    return ExponentFit(float(beta[1]), float(np.sqrt(cov[1, 1])), float(beta[0]), p, correction)
