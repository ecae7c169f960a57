"""Statistics shared by every pillar and experiment (effective-theory.md §10.1, richness.md §12.2).

One home for the estimators and tests that turn Monte Carlo replicates into claims. Pure NumPy/SciPy
(float64, no torch); randomness only through an explicit :class:`numpy.random.Generator`.

- standard errors: :func:`mean_and_se` (s/√N over replicates), :func:`t_interval`;
- resampling: :func:`jackknife` (delete-a-block, bias-corrected) and :func:`bootstrap` (rows with
  replacement, several independent groups at once), :func:`bootstrap_se`;
- multiple testing: :func:`bonferroni_z`, and :func:`within_z` for "|estimate − target| ≤ z*·SE";
- fits: :func:`weighted_least_squares` (the one WLS solver), the width extrapolation
  Y(n) = Y₀ + Y₁/n (:func:`fit_inverse_width`), width exponents of log Q against log n
  (:func:`fit_width_exponent`), and the slope against (ℓ−1)/n pooled over widths with a bootstrap
  over networks (:func:`pooled_slope_fit`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import stats as sps

from dltheory.errors import DLTheoryError, require

__all__ = [
    "POWER_Z",
    "Verdict",
    "judge",
    "required_se",
    "samples_to_decide",
    "mean_and_se",
    "t_interval",
    "jackknife",
    "bootstrap",
    "bootstrap_se",
    "bonferroni_z",
    "within_z",
    "LinearFit",
    "weighted_least_squares",
    "InverseWidthFit",
    "fit_inverse_width",
    "inverse_width_design",
    "ExponentFit",
    "fit_width_exponent",
    "WidthSeries",
    "PooledSlope",
    "pooled_slope_fit",
]


# ------------------------------------------------------------------ standard errors


def mean_and_se(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replicates (axis 0) and its standard error s/√N with s the ddof=1 deviation (§10.1).

    Parameters
    ----------
    values : array_like, shape (N, ...)
        One row per replicate (e.g. one network or one seed), N >= 2.

    Returns
    -------
    mean, se : ndarray, shape (...)
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0] if values.ndim else 0
    if n < 2:
        raise DLTheoryError(f"need at least 2 replicates for a standard error, got N={n}")
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n)


def t_interval(values: np.ndarray, level: float = 0.90) -> tuple[float, float]:
    """Two-sided Student-t confidence interval of the mean of ``values``.

    ``mean ± t_{N−1}((1 + level)/2) · s/√N``.

    Parameters
    ----------
    values : array_like, shape (N,)
        N >= 2 replicates (e.g. paired differences over seeds).
    level : float
        Coverage in (0, 1).

    Returns
    -------
    low, high : float
    """
    require(0 < level < 1, f"level must be in (0, 1); got {level}")
    d = np.asarray(values, dtype=float)
    require(d.ndim == 1 and len(d) >= 2, f"values must be 1-D with >= 2 entries; got shape {d.shape}")
    m, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    h = sps.t.ppf(0.5 + level / 2, len(d) - 1) * se
    return m - h, m + h


# ------------------------------------------------------------------ resampling


def jackknife(func: Callable[..., np.ndarray], *per_network: np.ndarray, n_blocks: int = 100,
              bias_correction: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Delete-a-block jackknife of a function of replicate averages (§10.1).

    The N replicates are cut into B = min(n_blocks, N) contiguous blocks; θ̂_(b) is ``func`` of the
    averages without block b, and SE² = (B−1)/B Σ_b (θ̂_(b) − mean_b θ̂_(b))².

    Parameters
    ----------
    func : callable
        ``func(mean_1, mean_2, ...) -> array``: the functional evaluated on the averages over
        replicates of each array in ``per_network`` (e.g. ``lambda p, m: n * (p - m**2)``).
    *per_network : ndarray, shape (N, ...)
        Per-replicate statistics sharing the leading axis.
    n_blocks : int
        Number of contiguous blocks (min(n_blocks, N) are used; >= 2).
    bias_correction : bool
        Return the bias-corrected estimate B θ̂ − (B−1) mean_b θ̂_(b) (removes O(1/N) bias,
        e.g. of a squared mean) instead of the plug-in θ̂.

    Returns
    -------
    estimate, se : ndarray
        Shape of ``func``'s output.
    """
    if not per_network:
        raise DLTheoryError("jackknife needs at least one per-network array")
    arrays = [np.asarray(a, dtype=float) for a in per_network]
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise DLTheoryError("jackknife arrays must share the leading network axis length N")
    blocks = min(int(n_blocks), n)
    if blocks < 2:
        raise DLTheoryError(f"jackknife needs >= 2 blocks and networks, got n_blocks={n_blocks}, N={n}")
    edges = np.linspace(0, n, blocks + 1).round().astype(int)
    sizes = np.diff(edges)
    totals = [a.sum(axis=0) for a in arrays]
    block_sums = [np.add.reduceat(a, edges[:-1], axis=0) for a in arrays]
    full = np.asarray(func(*[t / n for t in totals]), dtype=float)
    loo = np.stack([
        np.asarray(func(*[(t - bs[k]) / (n - sizes[k]) for t, bs in zip(totals, block_sums, strict=True)]), dtype=float)
        for k in range(blocks)
    ])
    loo_mean = loo.mean(axis=0)
    se = np.sqrt((blocks - 1) / blocks * ((loo - loo_mean) ** 2).sum(axis=0))
    estimate = blocks * full - (blocks - 1) * loo_mean if bias_correction else full
    return estimate, se


def bootstrap(statistic: Callable[..., Any], *groups: Any, n_resamples: int,
              rng: np.random.Generator) -> np.ndarray:
    """Nonparametric bootstrap replicates of ``statistic``, resampling rows with replacement.

    Each group is resampled independently: per replicate and per group (in the order given), N_g row
    indices are drawn as ``rng.integers(0, N_g, N_g)`` and applied to every array of that group, so
    arrays of one group (e.g. two statistics of the same networks) stay paired.

    Parameters
    ----------
    statistic : callable
        ``statistic(*resampled_groups)``: one argument per group, an array where the group is an
        array and a tuple of arrays where it is a tuple; returns a float or an array.
    *groups : ndarray of shape (N_g, ...) or tuple of such arrays sharing N_g
        The samples; pass ``np.arange(N)`` to receive the resampled indices themselves.
    n_resamples : int
        Number of bootstrap replicates B >= 1.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (B, ...)
        The replicates, shape of ``statistic``'s output behind the leading B axis.
    """
    require(isinstance(n_resamples, (int, np.integer)) and n_resamples >= 1,
            f"n_resamples must be an integer >= 1; got {n_resamples!r}")
    require(len(groups) >= 1, "bootstrap needs at least one group of samples")
    sizes = []
    for g in groups:
        arrays = g if isinstance(g, tuple) else (g,)
        require(len(arrays) >= 1 and all(len(a) == len(arrays[0]) for a in arrays),
                "arrays of one bootstrap group must share their leading length")
        require(len(arrays[0]) >= 1, "every bootstrap group needs at least one row")
        sizes.append(len(arrays[0]))
    out = []
    for _ in range(int(n_resamples)):
        resampled = []
        for g, n in zip(groups, sizes, strict=True):
            idx = rng.integers(0, n, n)
            resampled.append(tuple(a[idx] for a in g) if isinstance(g, tuple) else g[idx])
        out.append(statistic(*resampled))
    return np.asarray(out, dtype=float)


def bootstrap_se(statistic: Callable[..., Any], *groups: Any, n_resamples: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Bootstrap standard error: the ddof=1 deviation of :func:`bootstrap`'s replicates (axis 0).

    Parameters and draw order as in :func:`bootstrap` (n_resamples >= 2).

    Returns
    -------
    ndarray, shape of ``statistic``'s output (a 0-d array for a scalar statistic)
    """
    require(isinstance(n_resamples, (int, np.integer)) and n_resamples >= 2,
            f"n_resamples must be an integer >= 2 for a standard error; got {n_resamples!r}")
    return np.std(bootstrap(statistic, *groups, n_resamples=n_resamples, rng=rng), axis=0, ddof=1)


# ------------------------------------------------------------------ multiple testing


def bonferroni_z(m: int, family_error: float = 1e-3) -> float:
    """Two-sided Bonferroni critical value ``z* = Φ⁻¹(1 − family_error/(2m))`` (§10.1, richness §12.2).

    Parameters
    ----------
    m : int
        Number of tests in the family (>= 1).
    family_error : float
        Family-wise error rate in (0, 1).

    Returns
    -------
    float
    """
    require(isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m >= 1,
            f"m must be a positive int; got {m!r}")
    require(0 < family_error < 1, f"family_error must be in (0, 1); got {family_error!r}")
    return float(sps.norm.ppf(1 - family_error / (2 * m)))


def within_z(estimate: float, target: float, se: float, z_star: float) -> bool:
    """The z-test of a fitted value: ``|estimate − target| ≤ z*·SE`` (False if any input is NaN).

    Parameters
    ----------
    estimate, target, se, z_star : float

    Returns
    -------
    bool
    """
    return bool(abs(estimate - target) <= z_star * se)


# ------------------------------------------------------------------ fits


@dataclass(frozen=True)
class LinearFit:
    """Result of :func:`weighted_least_squares` for P coefficients and K points.

    Attributes
    ----------
    coef : ndarray, shape (P,)
        The least-squares coefficients (minimum-norm where the design is rank-deficient).
    chi2 : float
        Σ_k ((y_k − (X coef)_k)/SE_k)².
    dof : int
        K − P.
    rank : int
        Rank of the design.
    whitened_design : ndarray, shape (K, P)
        X/SE, the design the fit solved.
    """

    coef: np.ndarray
    chi2: float
    dof: int
    rank: int
    whitened_design: np.ndarray

    @property
    def cov(self) -> np.ndarray:
        """((X/SE)ᵀ(X/SE))⁻¹, shape (P, P): the covariance of ``coef`` when the SEs are right (NaN if rank < P)."""
        a = self.whitened_design
        if self.rank < a.shape[1]:
            return np.full((a.shape[1], a.shape[1]), np.nan)
        return np.linalg.inv(a.T @ a)

    @property
    def se(self) -> np.ndarray:
        """Standard errors of ``coef``, shape (P,)."""
        return np.sqrt(np.diag(self.cov))

    @property
    def p_value(self) -> float:
        """χ² goodness-of-fit p-value with ``dof`` degrees of freedom (NaN if dof < 1)."""
        return float(sps.chi2.sf(self.chi2, self.dof)) if self.dof >= 1 else float("nan")


def weighted_least_squares(design: np.ndarray, y: np.ndarray, se: np.ndarray) -> LinearFit:
    """Weighted least squares y ≈ X β with weights 1/SE² (§10.1 (b)).

    Solves the whitened problem (X/SE) β = y/SE by ``numpy.linalg.lstsq``; the covariance
    ((X/SE)ᵀ(X/SE))⁻¹ is computed on demand (:attr:`LinearFit.cov`).

    Parameters
    ----------
    design : ndarray, shape (K, P)
        X, one row per point.
    y, se : ndarray, shape (K,)
        Values and their standard errors (> 0).

    Returns
    -------
    LinearFit
    """
    x = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    require(x.ndim == 2 and y.shape == se.shape == (x.shape[0],),
            f"design must be (K, P) and y, se (K,); got {x.shape}, {y.shape}, {se.shape}")
    a = x / se[:, None]
    coef, _, rank, _ = np.linalg.lstsq(a, y / se, rcond=None)
    resid = (a @ coef - y / se)
    return LinearFit(coef, float(resid @ resid), x.shape[0] - x.shape[1], int(rank), a)


class InverseWidthFit(NamedTuple):
    """Result of :func:`fit_inverse_width`; every field has the trailing shape (...) of ``y``.

    ``y0`` is the n → ∞ extrapolation Y₀, ``y0_se`` its SE, ``y1`` the 1/n coefficient, ``chi2``
    the fit's χ² with ``dof`` = W − 2 degrees of freedom and ``p_value`` its χ² p-value.
    """

    y0: np.ndarray
    y0_se: np.ndarray
    y1: np.ndarray
    chi2: np.ndarray
    dof: int
    p_value: np.ndarray


def inverse_width_design(widths: Sequence[float] | np.ndarray, order: int = 1) -> np.ndarray:
    """Design matrix of the width expansion Y(n) = Y₀ + Y₁/n + … + Y_k/n^k (§10.1 (b)).

    Pass it to :func:`weighted_least_squares` for a fit of any order; :func:`fit_inverse_width`
    is the order-1 fit per entry.

    Parameters
    ----------
    widths : array_like, shape (W,)
        Widths n > 0.
    order : int
        Highest power k of 1/n (>= 1).

    Returns
    -------
    ndarray, shape (W, order + 1)
        Columns n⁰, n⁻¹, …, n⁻ᵏ.
    """
    n = np.asarray(widths, dtype=float)
    require(isinstance(order, (int, np.integer)) and not isinstance(order, bool) and order >= 1,
            f"order must be an int >= 1; got {order!r}")
    require(n.ndim == 1 and bool(np.all(np.isfinite(n)) and np.all(n > 0)),
            f"widths must be positive numbers; got {widths!r}")
    return np.column_stack([n ** -float(j) for j in range(order + 1)])


def fit_inverse_width(widths: Sequence[int] | np.ndarray, y: np.ndarray, se: np.ndarray) -> InverseWidthFit:
    """Weighted fit Y(n) = Y₀ + Y₁/n over widths, independently per entry (§10.1 (b)).

    Parameters
    ----------
    widths : array_like, shape (W,)
        Widths n (W >= 2).
    y, se : ndarray, shape (W, ...)
        Measurements and standard errors (> 0) per width.

    Returns
    -------
    InverseWidthFit
        Arrays of shape (...) (0-d for 1-D ``y``).
    """
    inv_n = 1.0 / np.asarray(widths, dtype=float)
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    require(inv_n.ndim == 1 and len(inv_n) >= 2, f"need >= 2 widths; got {np.asarray(widths).shape}")
    require(y.shape == se.shape and y.shape[:1] == inv_n.shape,
            f"y and se must have shape (W={len(inv_n)}, ...); got {y.shape} and {se.shape}")
    design = inverse_width_design(widths)
    flat_y = y.reshape(len(inv_n), -1)
    flat_se = se.reshape(len(inv_n), -1)
    out = np.empty((5, flat_y.shape[1]))
    for j in range(flat_y.shape[1]):
        f = weighted_least_squares(design, flat_y[:, j], flat_se[:, j])
        cov = f.cov
        out[:, j] = f.coef[0], np.sqrt(cov[0, 0]), f.coef[1], f.chi2, f.p_value
    y0, y0_se, y1, chi2, p = (v.reshape(y.shape[1:]) for v in out)
    return InverseWidthFit(y0, y0_se, y1, chi2, len(inv_n) - 2, p)


@dataclass(frozen=True)
class ExponentFit:
    """Result of :func:`fit_width_exponent`: slope, its SE, intercept, χ² p-value, correction exponent."""

    slope: float
    se: float
    intercept: float
    p_value: float
    correction: float | None


def fit_width_exponent(widths: Sequence[float] | np.ndarray, values: np.ndarray,
                       correction: float | None = 0.5) -> ExponentFit:
    """Width exponent of a positive quantity measured over seeds (richness.md §12.2).

    ``y_k = mean_s log Q_{k,s}``, ``SE_k = sd_s/√S`` (floored at 1e-12·(1 + |y_k|)); weighted least
    squares ``y_k = a + s log n_k + c n_k^(−ω)``.

    Parameters
    ----------
    widths : array_like, shape (K,)
    values : array_like, shape (S, K)
        Positive measurements, one row per seed (S >= 2).
    correction : float or None
        Exponent ω of the finite-width correction term ``c n^−ω``; None for a pure power law.

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
    y, se = mean_and_se(np.log(q))
    se = np.maximum(se, 1e-12 * (1 + np.abs(y)))
    cols = [np.ones_like(n), np.log(n)] + ([] if correction is None else [n ** (-correction)])
    fit = weighted_least_squares(np.stack(cols, axis=1), y, se)
    return ExponentFit(float(fit.coef[1]), float(fit.se[1]), float(fit.coef[0]), fit.p_value, correction)


class WidthSeries(NamedTuple):
    """One width's per-layer Monte Carlo series for :func:`pooled_slope_fit`.

    Attributes
    ----------
    width : int
        n.
    layers : ndarray, shape (L,)
        Layer indices ℓ.
    samples : tuple of ndarray, each (N, L)
        Per-replicate (per-network) statistics whose averages the statistic is a function of.
    estimate, se : ndarray, shape (L,)
        The statistic's estimate (e.g. jackknifed) and its standard error, per layer.
    reference : ndarray, shape (L,)
        A prediction at the same layers (e.g. a finite-depth recursion), fitted the same way.
    """

    width: int
    layers: np.ndarray
    samples: tuple[np.ndarray, ...]
    estimate: np.ndarray
    se: np.ndarray
    reference: np.ndarray


class PooledSlope(NamedTuple):
    """Result of :func:`pooled_slope_fit`: the fitted slope, the same fit of the reference, the slope's SE."""

    slope: float
    slope_reference: float
    se: float


def _slope_design(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.column_stack([x, x * x, x / n])


def pooled_slope_fit(series: Sequence[WidthSeries], statistic: Callable[..., np.ndarray], fit_max: float,
                     n_bootstrap: int, rng: np.random.Generator) -> PooledSlope:
    """Slope in x = (ℓ−1)/n of a per-layer statistic pooled over widths, with a bootstrap over replicates.

    Weighted fit Y = s x + c x² + d x/n over layers ℓ >= 2 with x <= ``fit_max`` of every width (the
    x/n term absorbs the O(1/n) shift of the slope, the x² term the next order in ℓ/n; §10.1 (b)),
    weights 1/SE² from the per-layer SEs. The slope's SE is the deviation of the same fit over
    bootstrap resamples of the replicates (each width resampled independently, see :func:`bootstrap`)
    with the statistic recomputed as ``statistic(*means of the resampled samples)``.

    Parameters
    ----------
    series : sequence of WidthSeries
        One per width.
    statistic : callable
        ``statistic(mean_1, ..., mean_k) -> ndarray (L,)`` of the averages of a series' ``samples``.
    fit_max : float
        Keep layers ℓ >= 2 with (ℓ−1)/n <= ``fit_max`` (``np.inf``: all).
    n_bootstrap : int
        Bootstrap resamples (>= 2).
    rng : numpy.random.Generator

    Returns
    -------
    PooledSlope
    """
    require(len(series) >= 1, "pooled_slope_fit needs at least one width series")

    def pooled(ys):
        parts = []
        for s, yy in zip(series, ys, strict=True):
            ell, n = s.layers, s.width
            keep = (ell >= 2) & ((ell - 1) / n <= fit_max)
            parts.append(((ell[keep] - 1) / n, np.full(keep.sum(), float(n)), yy[keep], s.se[keep]))
        return [np.concatenate([p[j] for p in parts]) for j in range(4)]

    xf, nf, yf, sef = pooled([s.estimate for s in series])
    design = _slope_design(xf, nf)
    slope = float(weighted_least_squares(design, yf, sef).coef[0])
    slope_ref = float(weighted_least_squares(design, pooled([s.reference for s in series])[2], sef).coef[0])

    def refit(*groups):
        ys = [statistic(*(a.mean(0) for a in g)) for g in groups]
        return float(weighted_least_squares(design, pooled(ys)[2], sef).coef[0])

    se = float(bootstrap_se(refit, *(tuple(s.samples) for s in series), n_resamples=n_bootstrap, rng=rng))
    return PooledSlope(slope, slope_ref, se)


# ------------------------------------------------------------------------------------ verdicts

POWER_Z = 1.645
"""One-sided normal quantile for 95 % power."""


class Verdict(str, enum.Enum):
    """The four states of a checked statistic. Only PASS, FAIL and INCONCLUSIVE are counted."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    REPORTED = "reported"

    @property
    def gated(self) -> bool:
        """True for PASS, FAIL and INCONCLUSIVE (the counted states)."""
        return self is not Verdict.REPORTED

    @property
    def decided(self) -> bool:
        """True for PASS and FAIL."""
        return self in (Verdict.PASS, Verdict.FAIL)


def required_se(delta: float, z_star: float) -> float:
    """The largest standard error with power to see a disagreement δ at critical value z*.

    ``delta / (z_star + POWER_Z)``: a true disagreement of size δ then exceeds z*·SE with
    probability ≥ 95 % (effective-theory.md §10.1 "Power").
    """
    return float(delta) / (float(z_star) + POWER_Z)


def samples_to_decide(se: float, delta: float, z_star: float, n: float) -> int:
    """Sample size that would give power, assuming SE ∝ 1/√n: ``ceil(n (SE / SE_needed)²)`` (−1 if unknown)."""
    need = required_se(delta, z_star)
    if not (math.isfinite(se) and need > 0 and n > 0):
        return -1
    return int(math.ceil(n * (se / need) ** 2))


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def judge(measured: float, se: float, target: float, delta: float, z_star: float, kind: str = "equal",
          converged: bool = True, n: float | None = None, n_label: str = "samples") -> tuple[Verdict, str]:
    """The verdict of ``measured ± se`` against ``target`` with declared effect size ``delta``, and why.

    * not ``converged``, or a non-finite ``measured``/``se``: INCONCLUSIVE;
    * ``kind="equal"`` (the claim is Q = target): FAIL if |Q − target| > z*·SE (a significant
      disagreement fails whether or not the check had power); otherwise PASS if SE ≤ δ/(z*+1.645),
      else INCONCLUSIVE (no power);
    * ``kind="greater"`` (Q > target; ``"less"`` mirrors it): PASS if Q − target > z*·SE; otherwise
      FAIL if the check had power (an effect of size δ would have been seen), else INCONCLUSIVE.

    Parameters
    ----------
    measured, se, target, delta, z_star : float
    kind : {"equal", "greater", "less"}
    converged : bool
    n : float, optional
        Current sample size; an INCONCLUSIVE for lack of power then states the size that would decide.
    n_label : str
        What ``n`` counts (``"networks"``, ``"samples"``...).

    Returns
    -------
    verdict : Verdict
    reason : str
        Empty for PASS; the cause otherwise.
    """
    if kind not in ("equal", "greater", "less"):
        raise ValueError(f"kind must be 'equal', 'greater' or 'less'; got {kind!r}")
    if not (math.isfinite(delta) and delta > 0 and math.isfinite(z_star) and z_star > 0):
        raise ValueError(f"delta and z_star must be finite numbers > 0; got {delta!r}, {z_star!r}")
    if not converged:
        return Verdict.INCONCLUSIVE, "not converged"
    if not (math.isfinite(measured) and math.isfinite(se)) or se < 0:
        return Verdict.INCONCLUSIVE, "non-finite statistic or SE"
    need = required_se(delta, z_star)
    powered = se <= need
    no_power = f"no power: SE {_fmt(se)} > δ/(z*+1.645) = {_fmt(need)}"
    if n is not None and n > 0:
        no_power += f"; about {samples_to_decide(se, delta, z_star, n)} {n_label} (now {int(n)}) would decide it"
    if kind == "equal":
        gap = abs(measured - target)
        z = gap / se if se > 0 else (0.0 if gap == 0 else math.inf)
        if z > z_star:
            return Verdict.FAIL, f"|Q − target| = {_fmt(gap)} = {z:.2f} SE > z*"
        return (Verdict.PASS, "") if powered else (Verdict.INCONCLUSIVE, no_power)
    effect = measured - target if kind == "greater" else target - measured
    z = effect / se if se > 0 else (math.inf if effect > 0 else -math.inf)
    if z > z_star:
        return Verdict.PASS, ""
    if powered:
        return Verdict.FAIL, f"effect {_fmt(effect)} = {z:.2f} SE ≤ z*: no effect of size δ"
    return Verdict.INCONCLUSIVE, no_power
