"""Inverse Ising by pseudo-likelihood maximisation (PLM), the default inverse method.

Implements weight-space.md §5.1 (Aurell & Ekeberg 2012): symmetric joint objective
    f(J, h) = (1/M) Σ_μ Σ_i log(1 + exp(−2 σ_i^μ H_i^μ)) + λ_J Σ_{i<j} J_ij² + λ_h Σ_i h_i²,
    H_i^μ = h_i + Σ_j J_ij σ_j^μ,
minimised by L-BFGS (SciPy) with the analytic gradient; the per-spin logistic-regression variant
(scikit-learn) and the authors' gradient-descent settings are options.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from dltheory.errors import DLTheoryError, require
from dltheory.weightspace.ensemble import check_spins
from dltheory.weightspace.ising import IsingModel

__all__ = ["PLMFit", "fit_pseudolikelihood", "pseudolikelihood_objective", "fit_logistic_per_spin",
           "FewSamplesWarning", "MIN_SAMPLES_PER_SPIN"]

MIN_SAMPLES_PER_SPIN = 5.0


class FewSamplesWarning(UserWarning):
    """Fewer samples per spin than :data:`MIN_SAMPLES_PER_SPIN`: the fit is noise dominated."""


@dataclass
class PLMFit:
    """A fitted model with the optimiser's report."""

    model: IsingModel
    objective: float
    grad_norm: float
    n_iter: int
    converged: bool
    message: str
    seconds: float
    info: dict = field(default_factory=dict)


def _check_samples(sigma: np.ndarray) -> np.ndarray:
    s = check_spins(sigma)
    M, N = s.shape
    require(M >= 2, f"need >= 2 samples; got {M}")
    ratio = M / N
    if ratio < MIN_SAMPLES_PER_SPIN:
        warnings.warn(f"only {M} samples for {N} spins (ratio {ratio:.2f} < {MIN_SAMPLES_PER_SPIN}); "
                      "the fitted couplings will be dominated by sampling noise", FewSamplesWarning, stacklevel=3)
    return s


def _unpack(x: np.ndarray, N: int, iu) -> tuple[np.ndarray, np.ndarray]:
    J = np.zeros((N, N))
    J[iu] = x[N:]
    return x[:N], J + J.T


def pseudolikelihood_objective(x: np.ndarray, sigma_f: np.ndarray, lam_J: float, lam_h: float,
                               chunk: int = 8192, counts: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """f and ∂f for parameters x = [h (N), J_{i<j} row-major (N(N−1)/2)] and samples ``sigma_f`` (M, N) float.

    ``counts`` (shape (M,)) gives multiplicities when ``sigma_f`` holds distinct rows only.
    """
    N = sigma_f.shape[1]
    M = len(sigma_f) if counts is None else float(counts.sum())
    iu = np.triu_indices(N, 1)
    h, J = _unpack(x, N, iu)
    f = 0.0
    gh = np.zeros(N)
    G = np.zeros((N, N))
    Jc = J.astype(sigma_f.dtype, copy=False)
    for a in range(0, len(sigma_f), chunk):
        s = sigma_f[a:a + chunk]
        H = (s @ Jc).astype(np.float64, copy=False)
        H += h
        r = np.tanh(H)
        y = s * r                                  # σ tanh H; loss = ln 2 − ln(1 + σ tanh H)
        loss = np.log1p(y)
        np.subtract(np.log(2.0), loss, out=loss)
        big = np.abs(H) > 5.0                      # exact softplus where tanh saturates
        if big.any():
            loss[big] = np.logaddexp(0.0, -2.0 * s[big] * H[big])
        r -= s
        if counts is not None:
            w = counts[a:a + chunk, None]
            loss *= w
            r *= w
        f += loss.sum()
        gh += r.sum(0)
        G += (r.astype(s.dtype, copy=False).T @ s).astype(np.float64, copy=False)
    f /= M
    gh /= M
    G /= M
    f += lam_J * np.sum(x[N:] ** 2) + lam_h * np.sum(h ** 2)
    gJ = (G + G.T)[iu] + 2 * lam_J * x[N:]
    return float(f), np.concatenate([gh + 2 * lam_h * h, gJ])


def fit_pseudolikelihood(sigma: np.ndarray, *, lam_J: float = 1e-5, lam_h: float = 1e-5, gtol: float = 1e-8,
                         ftol: float = 1e-12, maxiter: int = 2000, init: str = "zero",
                         settings: str = "default", chunk: int = 8192, dtype: str = "float64") -> PLMFit:
    """Fit an Ising model to ±1 samples by pseudo-likelihood (§5.1).

    Parameters
    ----------
    sigma : ndarray, shape (M, N), entries ±1
    lam_J, lam_h : float
        L2 penalties λ_J, λ_h (project default 10⁻⁵).
    gtol, ftol, maxiter : stopping rules of L-BFGS (SciPy ``L-BFGS-B``; gtol on the max-norm of the gradient).
    init : {"zero", "mf"}
        Start from zero or from the naive mean-field closed form (§5.4).
    settings : {"default", "authors"}
        ``"authors"``: full-batch gradient descent on f/N, η_J = 0.04, η_h = 0.02, 200 iterations,
        start J = (G + Gᵀ)/2 with G_ij ~ N(0, 1/N²) (seeded 0), h = 0 (from the authors' code; need not converge).
    dtype : {"float64", "float32"}
        Precision of the two large matrix products (σJ and rᵀσ); losses, gradients and parameters
        stay float64. ``"float32"`` is about twice as fast; use it with gtol ≳ 1e-6 (project option).

    Returns
    -------
    PLMFit
        ``converged`` is false when the optimiser stopped on ``maxiter`` or a line-search failure.
    """
    from scipy.optimize import minimize

    s = _check_samples(sigma)
    require(lam_J >= 0 and lam_h >= 0, "lam_J and lam_h must be >= 0")
    require(init in ("zero", "mf"), f"init must be 'zero' or 'mf'; got {init!r}")
    require(settings in ("default", "authors"), f"settings must be 'default' or 'authors'; got {settings!r}")
    require(dtype in ("float64", "float32"), f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    M, N = s.shape
    iu = np.triu_indices(N, 1)
    t0 = time.perf_counter()
    counts = None
    if N <= 30:  # small N: many repeated rows; fit on distinct rows with multiplicities
        s_u, counts = np.unique(s, axis=0, return_counts=True)
        sf, counts = s_u.astype(dtype), counts.astype(np.float64)
    else:
        sf = s.astype(dtype)
    if settings == "authors":
        g = np.random.default_rng(0).normal(0, 1.0 / N, (N, N))
        x = np.concatenate([np.zeros(N), ((g + g.T) / 2)[iu]])
        for _ in range(200):
            f, grad = pseudolikelihood_objective(x, sf, lam_J, lam_h, chunk, counts)
            x[:N] -= 0.02 * grad[:N] / N
            x[N:] -= 0.04 * grad[N:] / N
        f, grad = pseudolikelihood_objective(x, sf, lam_J, lam_h, chunk, counts)
        h, J = _unpack(x, N, iu)
        return PLMFit(IsingModel(h, J), f, float(np.abs(grad).max()), 200, False, "authors' gradient descent, 200 steps",
                      time.perf_counter() - t0, {"settings": "authors"})
    x0 = np.zeros(N + len(iu[0]))
    if init == "mf":
        from dltheory.weightspace.learning import mean_field_inverse

        from dltheory.weightspace.moments import spin_moments
        mf = mean_field_inverse(spin_moments(s), method="naive", ridge=1e-3)
        x0 = np.concatenate([mf.h, mf.J[iu]])
    res = minimize(pseudolikelihood_objective, x0, args=(sf, lam_J, lam_h, chunk, counts), jac=True, method="L-BFGS-B",
                   options={"maxiter": int(maxiter), "gtol": gtol, "ftol": ftol, "maxcor": 20})
    h, J = _unpack(res.x, N, iu)
    gnorm = float(np.abs(res.jac).max())
    converged = bool(res.success) or gnorm <= gtol
    return PLMFit(IsingModel(h, J), float(res.fun), gnorm, int(res.nit), converged, str(res.message),
                  time.perf_counter() - t0, {"settings": "default", "n_fev": int(res.nfev), "M": M, "N": N})


def fit_logistic_per_spin(sigma: np.ndarray, *, lam: float = 1e-5, penalty: str = "l2",
                          max_iter: int = 1000, tol: float = 1e-8) -> IsingModel:
    """Per-spin logistic regression with scikit-learn (§5.1 variant): J_rj = coef_j/2, h_r = intercept/2, J ← (J+Jᵀ)/2.

    ``lam`` is matched to the joint objective's per-coupling penalty: C = 2/(lam · M) for L2
    (the logit is 2H). ``penalty="l1"`` uses C = 1/(lam · M) with the liblinear solver.
    """
    from sklearn.linear_model import LogisticRegression

    s = _check_samples(sigma)
    require(penalty in ("l2", "l1"), f"penalty must be 'l2' or 'l1'; got {penalty!r}")
    require(lam > 0, f"lam must be > 0; got {lam}")
    M, N = s.shape
    sf = s.astype(np.float64)
    J = np.zeros((N, N))
    h = np.zeros(N)
    for r in range(N):
        y = s[:, r]
        if np.all(y == y[0]):
            raise DLTheoryError(f"spin {r} is frozen (always {y[0]}); the per-spin fit is undefined")
        X = np.delete(sf, r, axis=1)
        if penalty == "l2":
            clf = LogisticRegression(C=2.0 / (lam * M), tol=tol, max_iter=max_iter)
        else:
            clf = LogisticRegression(C=1.0 / (lam * M), penalty="l1", solver="liblinear", tol=tol, max_iter=max_iter)
        clf.fit(X, y)
        J[r, np.arange(N) != r] = clf.coef_[0] / 2.0
        h[r] = clf.intercept_[0] / 2.0
    return IsingModel(h, (J + J.T) / 2.0)
