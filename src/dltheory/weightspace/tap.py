"""TAP equations (corrected), the TAP free energy and counting of TAP states.

Implements weight-space.md §7 (Thouless, Anderson & Palmer 1977), with the corrections the spec
makes to the original code: Onsager term with (1 − m_j²), and Σ h·m in the free energy.
    m_i = tanh(h_i + Σ_j J_ij m_j − m_i Σ_j J_ij² (1 − m_j²))
    −βf_TAP = Σ h_i m_i + ½ mᵀJm + ¼ Σ_ij J_ij² (1 − m_i²)(1 − m_j²) + Σ_i H₂((1 + m_i)/2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import require
from dltheory.weightspace.ising import IsingModel, binary_entropy

__all__ = ["tap_free_entropy", "tap_gradient", "tap_iterate", "TAPStates", "count_tap_states"]


def tap_free_entropy(model: IsingModel, m: np.ndarray) -> np.ndarray:
    """−βf_TAP at magnetizations ``m`` (shape (N,) or (n, N)); returns a scalar or shape (n,)."""
    m = np.asarray(m, dtype=np.float64)
    J, h, J2 = model.J, model.h, model.J ** 2
    v = 1.0 - m * m
    return (m @ h + 0.5 * np.einsum("...i,ij,...j->...", m, J, m) + 0.25 * np.einsum("...i,ij,...j->...", v, J2, v)
            + binary_entropy((1.0 + m) / 2.0).sum(-1))


def tap_gradient(model: IsingModel, m: np.ndarray) -> np.ndarray:
    """∂(−βf_TAP)/∂m_i = h_i + Σ_j J_ij m_j − m_i Σ_j J_ij²(1 − m_j²) − atanh m_i; zero at TAP solutions."""
    m = np.asarray(m, dtype=np.float64)
    return model.h + m @ model.J - m * ((1.0 - m * m) @ (model.J ** 2)) - np.arctanh(m)


def tap_iterate(model: IsingModel, m0: np.ndarray, *, damping: float = 0.5, tol: float = 1e-8,
                max_iter: int = 10000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped parallel iteration of the TAP equations from starts ``m0`` (shape (n, N)).

    Returns
    -------
    m : ndarray, shape (n, N); converged : ndarray of bool, shape (n,); iterations : ndarray of int, shape (n,)
    """
    require(0.0 <= damping < 1.0, f"damping must be in [0, 1); got {damping}")
    m = np.array(m0, dtype=np.float64, ndmin=2)
    J, J2, h = model.J, model.J ** 2, model.h
    n = len(m)
    done = np.zeros(n, bool)
    iters = np.full(n, max_iter)
    for it in range(1, max_iter + 1):
        act = ~done
        if not act.any():
            break
        ma = m[act]
        new = np.tanh(h + ma @ J - ma * ((1.0 - ma * ma) @ J2))
        new = damping * ma + (1.0 - damping) * new
        delta = np.abs(new - ma).max(1)
        m[act] = new
        idx = np.flatnonzero(act)[delta <= tol]
        done[idx] = True
        iters[idx] = it
    return m, done, iters


@dataclass
class TAPStates:
    """Distinct TAP fixed points found from random starts (§7 counting protocol).

    Attributes
    ----------
    m : ndarray, shape (n_states, N)
    free_entropy_density : ndarray, shape (n_states,)
        −βf_TAP/N per state.
    basin_fraction : ndarray, shape (n_states,)
        Fraction of converged starts that reached each state.
    n_levels : int
        Distinct free-energy levels (|Δ(−βf/N)| > ``level_tol``).
    n_starts, n_unconverged : int
    """

    m: np.ndarray
    free_entropy_density: np.ndarray
    basin_fraction: np.ndarray
    n_levels: int
    n_starts: int
    n_unconverged: int

    @property
    def n_states(self) -> int:
        return len(self.m)

    def overlap_with(self, m_ref: np.ndarray) -> np.ndarray:
        """N⁻¹ Σ_i m_i m_ref_i for each state (e.g. with the data magnetization)."""
        return self.m @ np.asarray(m_ref) / self.m.shape[1]


def count_tap_states(model: IsingModel, rng: np.random.Generator, *, n_starts: int = 2000, damping: float = 0.5,
                     tol: float = 1e-8, max_iter: int = 10000, same_state_tol: float = 1e-3,
                     level_tol: float = 1e-6) -> TAPStates:
    """Count TAP states from ``n_starts`` uniform random starts m ~ U(−1, 1)^N (§7)."""
    require(n_starts >= 1, f"n_starts must be >= 1; got {n_starts}")
    m, ok, _ = tap_iterate(model, rng.uniform(-1, 1, (n_starts, model.n)), damping=damping, tol=tol,
                           max_iter=max_iter)
    states: list[np.ndarray] = []
    counts: list[int] = []
    for row in m[ok]:
        for k, s in enumerate(states):
            if np.max(np.abs(row - s)) <= same_state_tol:
                counts[k] += 1
                break
        else:
            states.append(row)
            counts.append(1)
    S = np.array(states).reshape(len(states), model.n)
    fe = np.atleast_1d(tap_free_entropy(model, S)) / model.n if len(S) else np.zeros(0)
    levels = 0
    for v in np.sort(fe):
        if levels == 0 or v - last > level_tol:
            levels += 1
            last = v
    cnt = np.array(counts, dtype=float)
    frac = cnt / cnt.sum() if cnt.size else cnt
    return TAPStates(S, fe, frac, levels, int(n_starts), int((~ok).sum()))
