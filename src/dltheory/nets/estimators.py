"""Estimates with standard errors from per-network ensemble statistics (effective-theory.md §10.1).

Replicate = one network. Linear statistics: mean and SE = s/√N; nonlinear functionals of
network averages (covariances, ratios): delete-a-block jackknife with ~100 blocks, with the
jackknife bias correction (both from :mod:`dltheory.stats`). One-input fluctuation estimators
follow §5.1 (V) and §6.3 (A, B, D, F).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dltheory.errors import DLTheoryError
from dltheory.stats import jackknife, mean_and_se

if TYPE_CHECKING:
    from dltheory.nets.ntk import NTKEnsembleStatistics
    from dltheory.nets.random_mlp import EnsembleStatistics

__all__ = [
    "estimate_kernel",
    "estimate_four_point_vertex",
    "estimate_excess_kurtosis",
    "estimate_ntk_mean",
    "estimate_ntk_fluctuations",
]


def estimate_kernel(stats: EnsembleStatistics) -> tuple[np.ndarray, np.ndarray]:
    """Metric estimate E[z_{i;a} z_{i;b}] per layer, shape (L, P, P), with SE (§3.1, §10.1)."""
    return mean_and_se(stats.second_moment)


def _diag(second_moment: np.ndarray) -> np.ndarray:
    return np.diagonal(second_moment, axis1=-2, axis2=-1)  # (..., L, P)


def _fan_in(stats: EnsembleStatistics, fan_in: Sequence[int] | None) -> np.ndarray:
    fan = np.asarray(stats.fan_in if fan_in is None else fan_in, dtype=float)
    if fan.shape != (stats.depth,) or np.any(fan < 1):
        raise DLTheoryError(f"fan_in must hold depth={stats.depth} widths n_0..n_(L-1) >= 1")
    return fan


def estimate_four_point_vertex(stats: EnsembleStatistics, fan_in: Sequence[int] | None = None,
                               n_blocks: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """One-input four-point vertex V^{(ℓ)} per layer and input, shape (L, P), jackknifed (§5.1).

    V = n_{ℓ-1} Cov(z_i^2, z_j^2)_{i≠j} = n_{ℓ-1} (E[z_i^2 z_j^2] − (E z^2)^2), the exact
    finite-width definition (§5.1 one-input relations); V^{(1)} = 0.

    Parameters
    ----------
    stats : EnsembleStatistics
    fan_in : sequence of L ints, optional
        n_{ℓ-1} for ℓ = 1..L; default ``stats.fan_in`` = (n_0, n_1, ..., n_{L-1}).
    n_blocks : int
        Jackknife blocks.
    """
    fan = _fan_in(stats, fan_in)[:, None]
    return jackknife(lambda pair, m2: fan * (pair - m2**2), stats.pair_fourth, _diag(stats.second_moment),
                     n_blocks=n_blocks)


def estimate_excess_kurtosis(stats: EnsembleStatistics, n_blocks: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Single-neuron excess kurtosis E z^4/(E z^2)^2 − 3 per layer and input, (L, P), jackknifed (§5.1)."""
    return jackknife(lambda m4, m2: m4 / m2**2 - 3.0, stats.fourth_moment, _diag(stats.second_moment),
                     n_blocks=n_blocks)


def estimate_ntk_mean(stats: NTKEnsembleStatistics) -> tuple[np.ndarray, np.ndarray]:
    """Mean NTK E Ĥ_{ii;ab} per layer, shape (L, P, P), with SE (§6.2)."""
    return mean_and_se(stats.ntk_mean)


def estimate_ntk_fluctuations(stats: NTKEnsembleStatistics, fan_in: Sequence[int] | None = None,
                              n_blocks: int = 100) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One-input NTK fluctuation tensors per layer and input, each (L, P) with SE (§6.3, §5.1).

    With i ≠ j: A = n_{ℓ-1} Cov(Ĥ_ii, Ĥ_jj), B = n_{ℓ-1} E Ĥ_ij^2, D = n_{ℓ-1} Cov(Ĥ_ii, z_j^2),
    F = n_{ℓ-1} E[Ĥ_ij z_i z_j], V = n_{ℓ-1} Cov(z_i^2, z_j^2), plus ``"var_diag"`` = Var(Ĥ_ii)
    (single neuron). B and F are linear (mean ± s/√N); the rest are jackknifed.

    Returns
    -------
    dict
        name -> (estimate (L, P), se (L, P)) for "A", "B", "D", "F", "V", "var_diag".
    """
    kern = stats.kernel
    fan = _fan_in(kern, fan_in)[:, None]
    h = np.diagonal(stats.ntk_mean, axis1=-2, axis2=-1)
    m2 = _diag(kern.second_moment)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    out["A"] = jackknife(lambda pair, hm: fan * (pair - hm**2), stats.ntk_diag_pair, h, n_blocks=n_blocks)
    b_mean, b_se = mean_and_se(stats.ntk_offdiag_square)
    out["B"] = (fan * b_mean, fan * b_se)
    out["D"] = jackknife(lambda hz, hm, zm: fan * (hz - hm * zm), stats.ntk_z_pair, h, m2, n_blocks=n_blocks)
    f_mean, f_se = mean_and_se(stats.ntk_offdiag_zz)
    out["F"] = (fan * f_mean, fan * f_se)
    out["V"] = estimate_four_point_vertex(kern, fan_in, n_blocks=n_blocks)
    out["var_diag"] = jackknife(lambda sq, hm: sq - hm**2, stats.ntk_diag_square, h, n_blocks=n_blocks)
    return out
