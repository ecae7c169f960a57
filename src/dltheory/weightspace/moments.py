"""Moments of ±1 samples: magnetizations, non-connected pair correlations, run-bootstrap errors, noise floors.

Implements weight-space.md §4. Products are computed in chunks from int8 data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import require
from dltheory.weightspace.ensemble import check_spins

__all__ = ["Moments", "spin_moments", "bootstrap_moment_se", "noise_floors", "third_moments", "frozen_spins"]


@dataclass(frozen=True)
class Moments:
    """m_i = ⟨σ_i⟩ (shape (N,)) and C_ij = ⟨σ_iσ_j⟩ (shape (N, N), diagonal 1), from ``n_samples`` samples."""

    m: np.ndarray
    C: np.ndarray
    n_samples: int

    @property
    def connected(self) -> np.ndarray:
        """c = C − m mᵀ."""
        return self.C - np.outer(self.m, self.m)


def spin_moments(sigma: np.ndarray, weights: np.ndarray | None = None, chunk: int = 20000) -> Moments:
    """Means and non-connected correlations of ``sigma`` (shape (n, N), ±1), optionally weighted per sample."""
    s = check_spins(sigma)
    n, N = s.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    require(w.shape == (n,) and np.all(w >= 0) and w.sum() > 0, "weights must be non-negative, shape (n,), not all 0")
    m = np.zeros(N)
    C = np.zeros((N, N))
    for a in range(0, n, chunk):
        x = s[a:a + chunk].astype(np.float64)
        wx = x * w[a:a + chunk, None]
        m += wx.sum(0)
        C += wx.T @ x
    m /= w.sum()
    C /= w.sum()
    np.fill_diagonal(C, 1.0)
    return Moments(m, C, n)


def bootstrap_moment_se(sigma: np.ndarray, run_id: np.ndarray, rng: np.random.Generator,
                        n_boot: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Block-bootstrap standard errors of m and C, resampling whole runs with replacement (§4).

    Returns
    -------
    se_m : ndarray, shape (N,); se_C : ndarray, shape (N, N)
    """
    s = check_spins(sigma)
    run_id = np.asarray(run_id)
    runs, inv = np.unique(run_id, return_inverse=True)
    require(len(runs) >= 2, f"the block bootstrap needs >= 2 runs; got {len(runs)}")
    # per-run sums make each resample an O(R N^2) operation
    R, N = len(runs), s.shape[1]
    cnt = np.bincount(inv, minlength=R).astype(np.float64)
    msum = np.zeros((R, N))
    Csum = np.zeros((R, N, N))
    for r in range(R):
        x = s[inv == r].astype(np.float64)
        msum[r] = x.sum(0)
        Csum[r] = x.T @ x
    m_acc = np.zeros(N); m_sq = np.zeros(N)
    C_acc = np.zeros((N, N)); C_sq = np.zeros((N, N))
    for _ in range(n_boot):
        k = np.bincount(rng.integers(0, R, R), minlength=R).astype(np.float64)
        tot = k @ cnt
        mb = (k @ msum) / tot
        Cb = np.tensordot(k, Csum, axes=1) / tot
        m_acc += mb; m_sq += mb * mb
        C_acc += Cb; C_sq += Cb * Cb
    var_m = np.maximum(m_sq / n_boot - (m_acc / n_boot) ** 2, 0) * n_boot / (n_boot - 1)
    var_C = np.maximum(C_sq / n_boot - (C_acc / n_boot) ** 2, 0) * n_boot / (n_boot - 1)
    np.fill_diagonal(var_C, 0.0)
    return np.sqrt(var_m), np.sqrt(var_C)


def noise_floors(sigma: np.ndarray, run_id: np.ndarray, rng: np.random.Generator,
                 n_splits: int = 10) -> tuple[float, float]:
    """ν_m, ν_C: rms(moment_A − moment_B)/2 over entries for random half-splits of the runs (§4)."""
    s = check_spins(sigma)
    runs = np.unique(run_id)
    require(len(runs) >= 2, f"noise floors need >= 2 runs; got {len(runs)}")
    N = s.shape[1]
    iu = np.triu_indices(N, 1)
    nm, nc = [], []
    for _ in range(n_splits):
        half = rng.permutation(runs)[: len(runs) // 2]
        a = np.isin(run_id, half)
        A, B = spin_moments(s[a]), spin_moments(s[~a])
        nm.append(np.sqrt(np.mean((A.m - B.m) ** 2)) / 2)
        nc.append(np.sqrt(np.mean((A.C[iu] - B.C[iu]) ** 2)) / 2 if N > 1 else 0.0)
    return float(np.mean(nm)), float(np.mean(nc))


def third_moments(sigma: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """⟨σ_iσ_jσ_k⟩ for each row (i, j, k) of ``triples`` (shape (T, 3)); returns shape (T,)."""
    s = check_spins(sigma).astype(np.float64)
    t = np.asarray(triples)
    return np.mean(s[:, t[:, 0]] * s[:, t[:, 1]] * s[:, t[:, 2]], axis=0)


def frozen_spins(m: np.ndarray, n_samples: int) -> np.ndarray:
    """Boolean mask of frozen spins, |m_i| > 1 − 2/n_samples (§4)."""
    return np.abs(np.asarray(m)) > 1.0 - 2.0 / n_samples
