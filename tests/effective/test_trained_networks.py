"""Frozen-NTK training predictions (effective-theory.md §7.1-7.2)."""

import numpy as np
import pytest

from dltheory.effective.trained_networks import (
    first_step_mean, first_step_richardson, frozen_ntk_prediction, nngp_posterior, propagator,
)
from dltheory.errors import DLTheoryError


def _linear_model(rng, p_train=5, p_test=3, features=40):
    phi = rng.normal(size=(p_train + p_test, features))
    return phi, phi @ phi.T / features


def test_matches_gradient_descent_on_a_linear_model(rng):
    """A linear model f = Φw/√F has a constant NTK: GD must follow §7.1 exactly (mean and covariance)."""
    phi, theta = _linear_model(rng)
    na, f = 5, phi.shape[1]
    y = rng.normal(size=(na, 2))
    eta, steps = 0.5 / np.linalg.eigvalsh(theta[:na, :na]).max(), 37
    kern = theta.copy()  # w(0) ~ N(0, 1): K = Θ
    mean, cov = frozen_ntk_prediction(theta[:na, :na], theta[na:, :na], kern[:na, :na], kern[na:, :na],
                                      kern[na:, na:], y, eta=eta, steps=steps)
    w0 = rng.normal(size=(4000, f, 2))
    w = w0.copy()
    for _ in range(steps):
        eps = np.einsum("af,efk->eak", phi[:na], w) / np.sqrt(f) - y
        w -= eta * np.einsum("af,eak->efk", phi[:na], eps) / np.sqrt(f)
    out = np.einsum("bf,efk->ebk", phi[na:], w) / np.sqrt(f)
    # the map from w0 is affine, so check it exactly on the mean of w0 = 0 and with the sample covariance
    w = np.zeros((1, f, 2))
    for _ in range(steps):
        eps = np.einsum("af,efk->eak", phi[:na], w) / np.sqrt(f) - y
        w -= eta * np.einsum("af,eak->efk", phi[:na], eps) / np.sqrt(f)
    np.testing.assert_allclose(np.einsum("bf,efk->ebk", phi[na:], w)[0] / np.sqrt(f), mean, rtol=1e-10)
    emp = np.cov(out[:, :, 0].T)
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / 4000)
    assert np.all(np.abs(emp - cov) <= 4.5 * se)


def test_limits_and_spec_formula(rng):
    phi, theta = _linear_model(rng)
    kern = theta + 0.3 * np.eye(len(theta))
    na = 5
    y = rng.normal(size=(na, 1))
    args = (theta[:na, :na], theta[na:, :na], kern[:na, :na], kern[na:, :na], kern[na:, na:], y)
    m_inf, c_inf = frozen_ntk_prediction(*args)
    m_flow, c_flow = frozen_ntk_prediction(*args, flow_time=1e8)
    np.testing.assert_allclose(m_inf, m_flow, atol=1e-10)
    tinv = np.linalg.inv(theta[:na, :na])
    tba, kba = theta[na:, :na], kern[na:, :na]
    spec = kern[na:, na:] - tba @ tinv @ kba.T - kba @ tinv @ tba.T + tba @ tinv @ kern[:na, :na] @ tinv @ tba.T
    np.testing.assert_allclose(c_inf, spec, atol=1e-10)
    np.testing.assert_allclose(m_inf, tba @ tinv @ y, atol=1e-10)
    np.testing.assert_allclose(propagator(theta[:na, :na], 0.1, 0), 0.0, atol=1e-14)
    mean, cov = nngp_posterior(kern[:na, :na], kba, kern[na:, na:], y)
    np.testing.assert_allclose(mean, kba @ np.linalg.solve(kern[:na, :na], y))
    assert np.all(np.linalg.eigvalsh(cov) > -1e-10)


def test_first_step_richardson_removes_eta_squared():
    h, y, c = np.array([[2.0, 0.5]]), np.array([[1.0], [-1.0]]), 0.7
    m = lambda eta: first_step_mean(h, y, eta) + c * eta**2  # noqa: E731
    np.testing.assert_allclose(first_step_richardson(m(0.1), m(0.2), 0.1), h @ y)


def test_bad_input():
    with pytest.raises(DLTheoryError):
        propagator(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(DLTheoryError):
        propagator(np.eye(2), eta=0.1, steps=3, flow_time=1.0)
    with pytest.raises(DLTheoryError):
        frozen_ntk_prediction(np.eye(2), np.ones((1, 3)), np.eye(2), np.ones((1, 2)), np.eye(1), np.ones((2, 1)))
