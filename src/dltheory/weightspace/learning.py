"""Other inverse-Ising methods: closed-form mean-field/TAP inversion, BP moment matching, Boltzmann learning.

Implements weight-space.md §5.2 (Bethe learning, from the authors' code), §5.3 (Monte Carlo
Boltzmann learning) and §5.4 (naive mean-field and TAP inversion; Kappen & Rodríguez 1998, Tanaka 1998).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import require
from dltheory.weightspace.bp import belief_propagation
from dltheory.weightspace.ising import IsingModel, exact_moments, metropolis_sample
from dltheory.weightspace.moments import Moments, spin_moments

__all__ = ["mean_field_inverse", "fit_bethe_learning", "fit_boltzmann", "moment_error", "LearningTrace"]


def moment_error(m_model, C_model, m_data, C_data) -> float:
    """ε = √(N⁻¹ Σ (Δm_i)² + [N(N−1)]⁻¹ Σ_{i≠j} (ΔC_ij)²) (§5.2)."""
    N = len(m_data)
    dC = np.asarray(C_model) - np.asarray(C_data)
    np.fill_diagonal(dC, 0.0)
    return float(np.sqrt(np.mean((np.asarray(m_model) - m_data) ** 2) + (dC ** 2).sum() / max(N * (N - 1), 1)))


def mean_field_inverse(moments: Moments, method: str = "tap", ridge: float = 0.0) -> IsingModel:
    """Closed-form inverse Ising from m and the connected correlations c (§5.4).

    ``"naive"``: J = −(c⁻¹) off the diagonal, h_i = atanh m_i − Σ_j J_ij m_j.
    ``"tap"``: J_ij = −2(c⁻¹)_ij / (1 + √(1 − 8 m_i m_j (c⁻¹)_ij)), naive value where the root is
    negative; h_i = atanh m_i − Σ_j J_ij m_j + m_i Σ_j J_ij²(1 − m_j²). ``ridge`` adds ridge·I to c.
    """
    require(method in ("naive", "tap"), f"method must be 'naive' or 'tap'; got {method!r}")
    m = np.clip(moments.m, -1 + 1e-9, 1 - 1e-9)
    c = moments.connected + ridge * np.eye(len(m))
    ci = np.linalg.inv(c)
    J = -ci.copy()
    if method == "tap":
        disc = 1.0 - 8.0 * np.outer(m, m) * ci
        ok = disc >= 0
        J = np.where(ok, -2.0 * ci / (1.0 + np.sqrt(np.where(ok, disc, 0.0))), -ci)
    np.fill_diagonal(J, 0.0)
    J = (J + J.T) / 2
    h = np.arctanh(m) - J @ m
    if method == "tap":
        h = h + m * ((J ** 2) @ (1.0 - m * m))
    return IsingModel(h, J)


@dataclass
class LearningTrace:
    """Fitted model and the error trace of an iterative moment-matching fit."""

    model: IsingModel
    errors: np.ndarray
    best_iteration: int
    converged: bool


def fit_bethe_learning(moments: Moments, rng: np.random.Generator, *, eta_J: float = 0.01, eta_h: float = 0.3,
                       gamma: float = 1e-4, n_iter: int = 100, keep_after: int = 50, bp_tol: float = 1e-4,
                       bp_max_sweeps: int = 1000) -> LearningTrace:
    """BP moment matching ("Bethe learning", §5.2): J ← J − η_J[(C^BP − C^data) + γJ], h ← h − η_h(m^BP − m^data).

    Starts from J_ij = g_ij g_ji / N² (g ~ N(0, 1)), h = 0; BP messages warm-started between
    iterations; keeps the parameters with the lowest ε after iteration ``keep_after``.
    ``converged`` is true only if every inner BP converged.
    """
    m_d, C_d = moments.m, moments.C
    N = len(m_d)
    g = rng.standard_normal((N, N))
    J = g * g.T / N ** 2
    np.fill_diagonal(J, 0.0)
    h = np.zeros(N)
    M = None
    errors, best, best_err, all_ok = [], None, np.inf, True
    for t in range(n_iter):
        r = belief_propagation(IsingModel(h, J), tol=bp_tol, max_sweeps=bp_max_sweeps, init_messages=M,
                               rng=rng, allow_unconverged=True)
        M = r.messages
        if not r.converged:
            all_ok = False
            break
        err = moment_error(r.m, r.C, m_d, C_d)
        errors.append(err)
        if t >= min(keep_after, n_iter - 1) and err < best_err:
            best, best_err = (h.copy(), J.copy(), t), err
        dC = r.C - C_d
        np.fill_diagonal(dC, 0.0)
        J = J - eta_J * (dC + gamma * J)
        J = (J + J.T) / 2
        np.fill_diagonal(J, 0.0)
        h = h - eta_h * (r.m - m_d)
    if best is None:
        best = (h, J, len(errors))
    return LearningTrace(IsingModel(best[0], best[1]), np.asarray(errors), best[2], all_ok)


def fit_boltzmann(moments: Moments, rng: np.random.Generator, *, method: str = "mc", n_chains: int = 1000,
                  sweeps_per_update: int = 10, eta: float = 0.1, gamma: float = 0.0, max_updates: int = 2000,
                  tol: float | None = None) -> LearningTrace:
    """Boltzmann learning (§5.3): h += η(m^data − m^model), J += η(C^data − C^model) − ηγJ.

    ``method="mc"``: model moments from ``n_chains`` persistent Metropolis chains,
    ``sweeps_per_update`` sweeps per update, η_t = η/√(1 + t/100). With ``tol`` given it stops once
    rmse(m) and rmse(C) fall below it; by default it runs all ``max_updates`` (a noise-level stop,
    2√(1/M + 1/n_chains), is met at once by weakly coupled models, before J has moved) and reports
    ``converged`` when the final moment errors are within that noise level.
    ``method="exact"``: the same likelihood maximised with exact (enumerated) moments by L-BFGS
    (N ≤ 22; a test oracle).
    """
    require(method in ("mc", "exact"), f"method must be 'mc' or 'exact'; got {method!r}")
    m_d, C_d = moments.m, moments.C
    N = len(m_d)
    iu = np.triu_indices(N, 1)
    if method == "exact":
        from scipy.optimize import minimize

        def nll(x):
            J = np.zeros((N, N)); J[iu] = x[N:]; J = J + J.T
            ex = exact_moments(IsingModel(x[:N], J))
            f = ex["logZ"] - x[:N] @ m_d - x[N:] @ C_d[iu] + 0.5 * gamma * x[N:] @ x[N:]
            return f, np.concatenate([ex["m"] - m_d, ex["C"][iu] - C_d[iu] + gamma * x[N:]])

        res = minimize(nll, np.zeros(N + len(iu[0])), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000})
        J = np.zeros((N, N)); J[iu] = res.x[N:]
        return LearningTrace(IsingModel(res.x[:N], J + J.T), np.array([float(np.abs(res.jac).max())]),
                             int(res.nit), bool(res.success))
    noise = 2.0 * np.sqrt(1.0 / moments.n_samples + 1.0 / n_chains)
    h = np.arctanh(np.clip(m_d, -0.999, 0.999))
    J = np.zeros((N, N))
    chains = None
    errors = []
    converged = False
    for t in range(max_updates):
        model = IsingModel(h, J)
        chains = metropolis_sample(model, n_chains, rng, n_chains=n_chains, burn_in=sweeps_per_update - 1, thin=1,
                                   init=None if chains is None else chains.astype(np.float64))
        mo = spin_moments(chains)
        dm, dC = m_d - mo.m, C_d - mo.C
        np.fill_diagonal(dC, 0.0)
        rm, rc = np.sqrt(np.mean(dm ** 2)), np.sqrt(np.mean(dC[iu] ** 2)) if N > 1 else 0.0
        errors.append(max(rm, rc))
        converged = bool(rm < noise and rc < noise) if tol is None else bool(rm < tol and rc < tol)
        if tol is not None and converged:
            break
        e = eta / np.sqrt(1.0 + t / 100.0)
        h = h + e * dm
        J = J + e * dC - e * gamma * J
        J = (J + J.T) / 2
        np.fill_diagonal(J, 0.0)
    return LearningTrace(IsingModel(h, J), np.asarray(errors), len(errors) - 1, converged)
