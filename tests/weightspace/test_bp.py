"""BP and the Bethe free energy against exact enumeration (weight-space.md §6, §11 A4–A7)."""

import numpy as np
import pytest

from dltheory.weightspace import (BPConvergenceError, IsingModel, belief_propagation, binary_entropy,
                                  entropy_landscape, exact_moments)


def _tree(n, rng, chain=False):
    J = np.zeros((n, n))
    for i in range(1, n):
        p = i - 1 if chain else int(rng.integers(0, i))
        J[i, p] = J[p, i] = rng.normal(0, 0.8)
    return IsingModel(rng.normal(0, 0.3, n), J)


def _dense(n, rng, scale=0.1):
    A = np.triu(rng.normal(0, scale / np.sqrt(n), (n, n)), 1)
    return IsingModel(rng.normal(0, 0.1, n), A + A.T)


@pytest.mark.parametrize("chain", [True, False])
def test_bp_exact_on_trees(chain):
    rng = np.random.default_rng(3)
    for _ in range(5):
        model = _tree(10, rng, chain)
        ex, bp = exact_moments(model), belief_propagation(model)
        edges = model.J != 0
        assert np.max(np.abs(bp.m - ex["m"])) <= 1e-10
        assert np.max(np.abs(bp.C[edges] - ex["C"][edges])) <= 1e-10
        assert abs(bp.entropy - ex["S"]) <= 1e-10
        assert abs(bp.free_entropy - ex["logZ"]) <= 1e-10


def test_bp_dense_weak_coupling_and_entropy_bound():
    rng = np.random.default_rng(4)
    for _ in range(20):
        model = _dense(12, rng)
        ex, bp = exact_moments(model), belief_propagation(model)
        assert np.max(np.abs(bp.m - ex["m"])) <= 1e-3
        assert np.max(np.abs(bp.C - ex["C"])) <= 3e-2
        assert abs(bp.entropy - ex["S"]) / 12 <= 1e-3
        # entropy bound: exact and Bethe s(d) at a tilt stay below H2(d)
        ref = rng.choice([-1.0, 1.0], 12)
        tilted = model.tilted(0.7, ref)
        ex_t, bp_t = exact_moments(tilted), belief_propagation(tilted)
        for m, S in ((ex_t["m"], ex_t["S"]), (bp_t.m, bp_t.entropy)):
            d = (1 - ref @ m / 12) / 2
            assert S / 12 <= binary_entropy(d) + 1e-3


def test_landscape_equals_combinatorial_bound_when_J_is_zero():
    rng = np.random.default_rng(5)
    n = 40
    ref = rng.choice([-1.0, 1.0], n)
    L = entropy_landscape(IsingModel(np.zeros(n), np.zeros((n, n))), ref, x=np.linspace(-3, 3, 61))
    for r in (L.fwd, L.bwd):
        assert r["converged"].all()
        np.testing.assert_allclose(r["q"], np.tanh(L.x), atol=1e-12)
        np.testing.assert_allclose(r["s"], binary_entropy(r["d"]), atol=1e-12)
    assert L.hysteresis <= 1e-12 and not L.jumps and L.above_bound == 0


def test_mattis_controls_jump_and_hysteresis():
    rng = np.random.default_rng(0)
    n = 200
    xi = rng.choice([-1.0, 1.0], n)
    out = {}
    for J0 in (1.5, 0.5):
        J = J0 / n * np.outer(xi, xi)
        np.fill_diagonal(J, 0)
        out[J0] = entropy_landscape(IsingModel(np.zeros(n), J), xi)
    assert out[1.5].confirmed_jump and out[1.5].hysteresis > 0.5
    xs = [j["x_right"] for j in out[1.5].jumps if j["direction"] == "fwd"]
    assert xs and 0.1 <= xs[0] <= 0.3                     # mean-field spinodal at x ≈ 0.208
    assert not out[0.5].confirmed_jump and out[0.5].hysteresis <= 1e-4


def test_bp_nonconvergence_is_reported_never_silent():
    rng = np.random.default_rng(6)
    A = np.triu(rng.normal(0, 3.0, (30, 30)), 1)
    model = IsingModel(np.zeros(30), A + A.T)            # strong spin glass
    with pytest.raises(BPConvergenceError, match="did not converge"):
        belief_propagation(model, max_sweeps=20, retry_damping=())
    r = belief_propagation(model, max_sweeps=20, retry_damping=(), allow_unconverged=True)
    assert not r.converged and np.isnan(r.m).all() and np.isnan(r.entropy)


def test_damping_option_is_applied_and_recorded():
    # a damped first attempt that converges is kept (no retry needed); damping is recorded
    rng = np.random.default_rng(1)
    model = _dense(12, rng, scale=0.1)
    r = belief_propagation(model, damping=0.3, retry_damping=(0.6,))
    assert r.converged and r.damping == 0.3
