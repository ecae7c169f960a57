"""Infinite-width frozen-NTK predictions for trained networks, and the exact first-step mean (§7.1-7.2).

MSE L = ½ Σ (z_{i;α̃} − y_{i;α̃})², gradient descent θ ← θ − η λ ∇L (§6.1 learning-rate tensor λ).
At infinite width with Θ frozen [BOOK; standard], for each output component independently:

    z_B(t) = z_B(0) − M(t) (z_A(0) − y),   M(t) = Θ_{BA} Θ̃^{-1} [1 − U(t)],
    U(t) = (1 − ηΘ̃)^t (gradient descent, t steps) or exp(−Θ̃ τ) (gradient flow, time τ = ηt),

so with z(0) ~ GP(0, K): mean M(t) y and covariance K_BB − M K_AB − K_BA Mᵀ + M K̃ Mᵀ (t → ∞: the
spec's §7.1 formula; the mean Θ_{BA}Θ̃^{-1}y is the "giant leap"). Exact at any width (§7.2 [DER]):
E[z_δ(1) − z_δ(0)] = η Σ_α̃ H_{δα̃} y_α̃ + O(η²) with H the exact mean NTK; the Richardson combination
(4m(η) − m(2η))/(2η) removes the O(η²) term (T1).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh, solve

from dltheory.effective.validation import real_array
from dltheory.errors import DLTheoryError

__all__ = ["propagator", "frozen_ntk_prediction", "nngp_posterior", "first_step_mean", "first_step_richardson"]


def _square_psd(a: np.ndarray, name: str) -> np.ndarray:
    a = real_array(a, name)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.all(np.isfinite(a)):
        raise DLTheoryError(f"{name}: expected a finite square matrix, got shape {a.shape}")
    return 0.5 * (a + a.T)


def propagator(theta_train: np.ndarray, eta: float | None = None, steps: int | None = None,
               flow_time: float | None = None) -> np.ndarray:
    """1 − U(t): U = (1 − ηΘ̃)^t (``eta``, ``steps``) or exp(−Θ̃ τ) (``flow_time`` τ; t = ∞ if all None).

    Parameters
    ----------
    theta_train : ndarray, shape (N_A, N_A)
        Θ̃, symmetric positive definite.
    eta, steps : float, int, optional
        Gradient descent: learning rate and number of steps.
    flow_time : float, optional
        Gradient flow: τ = η t (exclusive with eta/steps); ``np.inf`` for the fixed point.

    Returns
    -------
    ndarray, shape (N_A, N_A)
    """
    theta = _square_psd(theta_train, "theta_train")
    vals, vecs = eigh(theta)
    if vals.min() <= 0:
        raise DLTheoryError("theta_train must be positive definite (distinct training inputs)")
    if flow_time is not None and (eta is not None or steps is not None):
        raise DLTheoryError("give either flow_time or (eta, steps), not both")
    if flow_time is not None:
        if flow_time < 0:
            raise DLTheoryError(f"flow_time={flow_time!r} must be >= 0")
        factor = 1.0 - np.exp(-vals * flow_time)
    elif eta is not None or steps is not None:
        if eta is None or steps is None or eta <= 0 or int(steps) != steps or steps < 0:
            raise DLTheoryError("gradient descent needs eta > 0 and an integer steps >= 0")
        factor = 1.0 - (1.0 - eta * vals) ** int(steps)
    else:
        factor = np.ones_like(vals)
    return (vecs * factor) @ vecs.T


def frozen_ntk_prediction(theta_train: np.ndarray, theta_test_train: np.ndarray, k_train: np.ndarray,
                          k_test_train: np.ndarray, k_test: np.ndarray, y_train: np.ndarray,
                          eta: float | None = None, steps: int | None = None,
                          flow_time: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the trained infinite-width network on test inputs (§7.1).

    Parameters
    ----------
    theta_train : (N_A, N_A); theta_test_train : (N_B, N_A)
        Frozen NTK Θ^{(L)} blocks.
    k_train : (N_A, N_A); k_test_train : (N_B, N_A); k_test : (N_B, N_B)
        NNGP kernel K^{(L)} blocks (initial outputs ~ GP(0, K), independent across output components).
    y_train : (N_A, k)
        Targets.
    eta, steps, flow_time
        See :func:`propagator` (default: fully trained).

    Returns
    -------
    mean : ndarray, shape (N_B, k)
    covariance : ndarray, shape (N_B, N_B)
        Same for every output component.
    """
    theta = _square_psd(theta_train, "theta_train")
    n_a = theta.shape[0]
    tba = np.asarray(theta_test_train, dtype=float)
    kba = np.asarray(k_test_train, dtype=float)
    y = np.asarray(y_train, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if tba.ndim != 2 or tba.shape[1] != n_a or kba.shape != tba.shape or y.shape[0] != n_a:
        raise DLTheoryError("shapes: theta_test_train and k_test_train must be (N_B, N_A), y_train (N_A, k)")
    kaa = _square_psd(k_train, "k_train")
    kbb = _square_psd(k_test, "k_test")
    m = solve(theta, propagator(theta, eta, steps, flow_time).T, assume_a="pos").T  # Θ̃^{-1}(1−U) (sym. factors)
    m = tba @ m
    mean = m @ y
    cov = kbb - m @ kba.T - kba @ m.T + m @ kaa @ m.T
    return mean, 0.5 * (cov + cov.T)


def nngp_posterior(k_train: np.ndarray, k_test_train: np.ndarray, k_test: np.ndarray, y_train: np.ndarray,
                   noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """NNGP (Bayesian) posterior mean K_BA K̃^{-1} y and covariance K_BB − K_BA K̃^{-1} K_AB (§7.1)."""
    kaa = _square_psd(k_train, "k_train") + noise * np.eye(len(k_train))
    kba = np.asarray(k_test_train, dtype=float)
    y = np.asarray(y_train, dtype=float)
    sol = solve(kaa, np.column_stack([y.reshape(len(kaa), -1), kba.T]), assume_a="pos")
    k = y.reshape(len(kaa), -1).shape[1]
    return kba @ sol[:, :k], _square_psd(k_test, "k_test") - kba @ sol[:, k:]


def first_step_mean(mean_ntk_test_train: np.ndarray, y_train: np.ndarray, eta: float) -> np.ndarray:
    """E[z_δ(1) − z_δ(0)] = η Σ_α̃ H_{δα̃} y_α̃ to first order in η, exact in width (§7.2 [DER]).

    Parameters
    ----------
    mean_ntk_test_train : ndarray, shape (N_B, N_A)
        Exact mean NTK H (Θ + H^{1}/n + ...; Θ exactly for one input and scale-invariant σ).
    y_train : ndarray, shape (N_A, k)
    eta : float

    Returns
    -------
    ndarray, shape (N_B, k)
    """
    y = np.asarray(y_train, dtype=float)
    return eta * np.asarray(mean_ntk_test_train, dtype=float) @ (y[:, None] if y.ndim == 1 else y)


def first_step_richardson(mean_update_eta: np.ndarray, mean_update_2eta: np.ndarray, eta: float) -> np.ndarray:
    """(4m(η) − m(2η))/(2η) = H y + O(η²): the first-step mean with the O(η²) term removed (T1)."""
    if eta <= 0:
        raise DLTheoryError(f"eta={eta!r} must be > 0")
    return (4.0 * np.asarray(mean_update_eta) - np.asarray(mean_update_2eta)) / (2.0 * eta)
