"""Inverse Ising: pseudo-likelihood, closed forms, Boltzmann and Bethe learning (§5, §11 A9–A11)."""

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.weightspace import (FewSamplesWarning, IsingModel, Moments, exact_moments, exact_sample,
                                  fit_bethe_learning, fit_boltzmann, fit_logistic_per_spin, fit_pseudolikelihood,
                                  mean_field_inverse)
from dltheory.weightspace.plm import pseudolikelihood_objective


def _planted(n, beta, rng):
    A = np.triu(rng.normal(0, beta / np.sqrt(n), (n, n)), 1)
    return IsingModel(rng.normal(0, 0.2, n), A + A.T)


def test_pseudolikelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    s = rng.choice([-1.0, 1.0], (50, 6))
    x = rng.normal(0, 0.3, 6 + 15)
    f, g = pseudolikelihood_objective(x, s, 1e-3, 2e-3, chunk=7)
    fd = np.array([(pseudolikelihood_objective(x + 1e-6 * e, s, 1e-3, 2e-3)[0]
                    - pseudolikelihood_objective(x - 1e-6 * e, s, 1e-3, 2e-3)[0]) / 2e-6 for e in np.eye(len(x))])
    np.testing.assert_allclose(g, fd, atol=1e-8)


def test_pseudolikelihood_recovers_planted_couplings_at_root_M_rate():
    rng = np.random.default_rng(1)
    n = 10
    iu = np.triu_indices(n, 1)
    model = _planted(n, 1.0, rng)
    errs = []
    for M in (10_000, 40_000):
        fit = fit_pseudolikelihood(exact_sample(model, M, rng))
        assert fit.converged
        errs.append(np.sqrt(np.mean((fit.model.J[iu] - model.J[iu]) ** 2)))
        assert np.sqrt(M) * errs[-1] <= 3.0
    assert 1.4 <= errs[0] / errs[1] <= 2.9


def test_logistic_per_spin_variant_agrees_with_joint_fit():
    rng = np.random.default_rng(2)
    model = _planted(8, 0.5, rng)
    s = exact_sample(model, 5000, rng)
    joint = fit_pseudolikelihood(s).model
    per_spin = fit_logistic_per_spin(s)
    assert np.max(np.abs(joint.J - per_spin.J)) <= 0.02


def test_bad_samples_are_clear_errors_and_few_samples_warn():
    with pytest.raises(DLTheoryError, match="exactly \\+1 or -1"):
        fit_pseudolikelihood(np.array([[0, 1], [1, -1]]))
    with pytest.raises(DLTheoryError, match="empty"):
        fit_pseudolikelihood(np.zeros((0, 3)))
    with pytest.warns(FewSamplesWarning, match="ratio 0.50"):
        fit_pseudolikelihood(np.random.default_rng(0).choice([-1, 1], (10, 20)), maxiter=5)


def test_boltzmann_learning_with_exact_moments_recovers_model():
    rng = np.random.default_rng(3)
    model = _planted(10, 0.7, rng)
    ex = exact_moments(model)
    fit = fit_boltzmann(Moments(ex["m"], ex["C"], 10 ** 9), rng, method="exact").model
    assert np.max(np.abs(fit.J - model.J)) <= 1e-4 and np.max(np.abs(fit.h - model.h)) <= 1e-4


def test_tap_inversion_from_exact_moments():
    rng = np.random.default_rng(4)
    model = _planted(12, 0.5, rng)
    ex = exact_moments(model)
    fit = mean_field_inverse(Moments(ex["m"], ex["C"], 10 ** 9), method="tap")
    iu = np.triu_indices(12, 1)
    assert np.isfinite(fit.J).all() and np.sqrt(np.mean((fit.J - model.J)[iu] ** 2)) <= 0.01


def test_bethe_learning_on_a_tree_reduces_moment_error():
    rng = np.random.default_rng(5)
    n = 10
    J = np.zeros((n, n))
    for i in range(1, n):
        J[i, i - 1] = J[i - 1, i] = rng.normal(0, 0.5)
    model = IsingModel(rng.normal(0, 0.2, n), J)
    ex = exact_moments(model)
    mom = Moments(ex["m"], ex["C"], 10 ** 9)
    tr = fit_bethe_learning(mom, rng, n_iter=400, eta_J=0.5, eta_h=0.5, gamma=0.0, keep_after=0)
    assert tr.converged and tr.errors[-1] < 0.05 * tr.errors[0]


@pytest.mark.slow
def test_mc_boltzmann_learning_from_exact_moments():
    rng = np.random.default_rng(6)
    model = _planted(12, 0.5, rng)
    ex = exact_moments(model)
    tr = fit_boltzmann(Moments(ex["m"], ex["C"], 10 ** 9), rng, n_chains=1000, max_updates=600)
    iu = np.triu_indices(12, 1)
    assert np.sqrt(np.mean((tr.model.J - model.J)[iu] ** 2)) <= 0.05
