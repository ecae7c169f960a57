"""Belief propagation on a dense Ising model: marginals, Bethe free energy, energy and entropy.

Implements weight-space.md §6 (β = 1). Messages M[i, j] = m_{i→j} (the magnetization of i with j
removed), u_{k→i} = atanh(t_ki m_{k→i}), t = tanh J; parallel update
m_{i→j} ← tanh(h_i + U_i − u_{j→i}) with optional damping. Exact on trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import DLTheoryError, require
from dltheory.weightspace.ising import IsingModel

__all__ = ["BPResult", "BPConvergenceError", "belief_propagation", "logcosh"]

_CLIP = 1.0 - 1e-15


class BPConvergenceError(DLTheoryError):
    """BP did not reach the tolerance within the allowed sweeps, with every damping tried."""


@dataclass
class BPResult:
    """Output of :func:`belief_propagation`.

    Attributes
    ----------
    m : ndarray, shape (N,)
        Marginal magnetizations (NaN if not converged).
    C : ndarray, shape (N, N)
        Non-connected pair correlations on every pair (exact on tree edges; NaN if not converged).
    free_entropy : float
        −βF (Bethe); ``entropy`` S = −βF + βE; ``energy`` βE = −(Σ h_i m_i + Σ_{i<j} J_ij C_ij).
    messages : ndarray, shape (N, N)
        Final messages (for warm starts), returned even when not converged.
    converged : bool
    sweeps : int
        Sweeps used by the last attempt.
    damping : float
        Damping of the last attempt.
    max_delta : float
        Last max|ΔM|.
    """

    m: np.ndarray
    C: np.ndarray
    free_entropy: float
    energy: float
    entropy: float
    messages: np.ndarray
    converged: bool
    sweeps: int
    damping: float
    max_delta: float

    @property
    def entropy_density(self) -> float:
        return self.entropy / len(self.m)


def logcosh(x: np.ndarray) -> np.ndarray:
    """ln cosh x, stable for large |x|."""
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)


def _fields(T: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Ukm = np.arctanh(np.clip(T * M, -_CLIP, _CLIP))     # Ukm[k, i] = u_{k→i}
    return Ukm, Ukm.sum(axis=0)


def _run(h, T, M, tol, max_sweeps, damping):
    delta = np.inf
    for sweep in range(1, max_sweeps + 1):
        Ukm, U = _fields(T, M)
        new = np.tanh(h[:, None] + U[:, None] - Ukm.T)
        np.fill_diagonal(new, 0.0)
        if damping > 0:
            new = damping * M + (1.0 - damping) * new
        delta = float(np.max(np.abs(new - M))) if M.size else 0.0
        M = new
        if delta <= tol:
            return M, True, sweep, delta
    return M, False, max_sweeps, delta


def belief_propagation(model: IsingModel, *, tol: float = 1e-6, max_sweeps: int = 5000, damping: float = 0.0,
                       retry_damping: tuple[float, ...] = (0.5,), init_messages: np.ndarray | None = None,
                       rng: np.random.Generator | None = None, allow_unconverged: bool = False) -> BPResult:
    """Run BP to convergence and return marginals and Bethe thermodynamics (§6).

    Parameters
    ----------
    model : IsingModel
    tol : float
        Convergence when max|ΔM| ≤ ``tol`` (spec: 10⁻⁶).
    max_sweeps : int
        Sweeps allowed per attempt (spec: 5000).
    damping : float in [0, 1)
        M ← δ M_old + (1 − δ) M_new.
    retry_damping : tuple of float
        Dampings tried in turn, from the same initial messages, when an attempt fails.
    init_messages : ndarray, shape (N, N), optional
        Warm start; default N(0, 0.01²) from ``rng`` (default ``numpy.random.default_rng(0)``).
    allow_unconverged : bool
        If false (default) raise :class:`BPConvergenceError` on failure; if true return a result
        with ``converged=False`` and NaN marginals and thermodynamics (messages kept).
    """
    N = model.n
    require(tol > 0 and isinstance(max_sweeps, (int, np.integer)) and max_sweeps >= 1,
            "tol must be > 0 and max_sweeps a positive integer")
    for d in (damping, *retry_damping):
        require(0.0 <= d < 1.0, f"damping must be in [0, 1); got {d}")
    h, J = model.h, model.J
    T = np.tanh(J)
    if init_messages is None:
        rng = np.random.default_rng(0) if rng is None else rng
        M0 = rng.normal(0.0, 0.01, (N, N))
    else:
        M0 = np.array(init_messages, dtype=np.float64)
        require(M0.shape == (N, N), f"init_messages must have shape ({N}, {N}); got {M0.shape}")
    np.fill_diagonal(M0, 0.0)
    for d in (damping, *[r for r in retry_damping if r != damping]):
        M, ok, sweeps, delta = _run(h, T, M0.copy(), tol, int(max_sweeps), d)
        if ok:
            break
    if not ok:
        if not allow_unconverged:
            raise BPConvergenceError(
                f"BP did not converge for N={N}: max|dM|={delta:.2e} > tol={tol:g} after {sweeps} sweeps "
                f"(dampings tried: {(damping, *retry_damping)}); increase max_sweeps or damping")
        nan = float("nan")
        return BPResult(np.full(N, nan), np.full((N, N), nan), nan, nan, nan, M, False, sweeps, d, delta)
    Ukm, U = _fields(T, M)
    m = np.tanh(h + U)
    MM = M * M.T
    TMM = T * MM
    C = (T + MM) / (1.0 + TMM)
    np.fill_diagonal(C, 1.0)
    lcJ = logcosh(J)
    Tm_in = np.clip(T * M.T, -_CLIP, _CLIP)                 # [i, j] = t_ij m_{j→i}
    A = (lcJ + np.log1p(Tm_in)).sum(1)
    B = (lcJ + np.log1p(-Tm_in)).sum(1)
    lnZi = np.logaddexp(h + A, -h + B)
    lnZij = lcJ + np.log1p(np.clip(TMM, -_CLIP, _CLIP))
    np.fill_diagonal(lnZij, 0.0)
    free_entropy = float(lnZi.sum() - 0.5 * lnZij.sum())
    Coff = C.copy()
    np.fill_diagonal(Coff, 0.0)
    energy = float(-(h @ m + 0.5 * np.sum(J * Coff)))
    return BPResult(m, C, free_entropy, energy, free_entropy + energy, M, True, sweeps, d, delta)
