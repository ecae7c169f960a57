"""Corrected TAP equations and free energy (weight-space.md §7, §11 A8)."""

import numpy as np

from dltheory.weightspace import IsingModel, count_tap_states, exact_moments, tap_free_entropy, tap_gradient, tap_iterate


def _dense(n, rng, scale=0.1):
    A = np.triu(rng.normal(0, scale / np.sqrt(n), (n, n)), 1)
    return IsingModel(rng.normal(0, 0.1, n), A + A.T)


def test_tap_without_couplings_gives_tanh_h_and_one_state():
    rng = np.random.default_rng(0)
    h = rng.normal(0, 0.5, 15)
    st = count_tap_states(IsingModel(h, np.zeros((15, 15))), rng, n_starts=50)
    assert st.n_states == 1 and st.n_levels == 1 and st.n_unconverged == 0
    np.testing.assert_allclose(st.m[0], np.tanh(h), atol=1e-7)


def test_tap_free_energy_is_stationary_at_solutions():
    rng = np.random.default_rng(1)
    model = _dense(12, rng, scale=0.5)
    m, ok, _ = tap_iterate(model, rng.uniform(-1, 1, (5, 12)), tol=1e-14)
    assert ok.all()
    for row in m:
        eps = 1e-6
        fd = np.array([(tap_free_entropy(model, row + eps * e) - tap_free_entropy(model, row - eps * e)) / (2 * eps)
                       for e in np.eye(12)])
        assert np.max(np.abs(fd)) <= 1e-8
        assert np.max(np.abs(tap_gradient(model, row))) <= 1e-7


def test_tap_magnetizations_match_enumeration_at_weak_coupling():
    rng = np.random.default_rng(2)
    for _ in range(5):
        model = _dense(12, rng)
        m, ok, _ = tap_iterate(model, np.zeros((1, 12)))
        assert ok.all() and np.max(np.abs(m[0] - exact_moments(model)["m"])) <= 1e-3
