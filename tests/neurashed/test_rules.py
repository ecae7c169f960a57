"""Update rules, guards and reproducibility (neurashed.md §7, §13 A7, A8, A10)."""

from __future__ import annotations

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.neurashed import (ActivityRule, GatedRule, GradRule, OverflowGuardError, activity_threshold,
                                apply_guards, effective_number, init_theta, train)

from .conftest import small_task


def test_activity_threshold_formula():
    q = activity_threshold(1.02, 0.999)
    assert q * np.log(1.02) + (1 - q) * np.log(0.999) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("kwargs, match", [
    (dict(g_plus=1.0), "g_plus"), (dict(g_plus=0.9), "g_plus"),
    (dict(g_minus=1.0), "g_minus"), (dict(g_minus=1.2), "g_minus"), (dict(g_minus=0.0), "g_minus"),
    (dict(decay="some"), "decay"),
])
def test_activity_rule_bad_parameters(kwargs, match):
    with pytest.raises(DLTheoryError, match=match):
        ActivityRule(**kwargs)


def test_gated_and_grad_rule_bad_parameters():
    with pytest.raises(DLTheoryError, match="g_plus"):
        GatedRule(g_plus=0.5)
    with pytest.raises(DLTheoryError, match="eta"):
        GradRule(eta=0.0)
    with pytest.raises(DLTheoryError, match="lam"):
        GradRule(eta=1.0, lam=1.0)
    with pytest.raises(DLTheoryError, match="readout"):
        GradRule(readout="sum")


def test_unguarded_activity_drift_matches_frequency_and_q_star_threshold():
    """A7: per-feature drift over 10⁴ steps against T(q log g⁺ + (1 − q) log g⁻), within 4 binomial SE."""
    task = small_task(seed=4, n=25)
    rule = ActivityRule(g_plus=1.02, g_minus=0.99, guards=False)
    steps = 10_000
    rng = np.random.default_rng(4)
    theta0 = init_theta(task.graph, rng=rng)
    log = train(task, rule, steps=steps, checkpoint_every=steps, rng=rng, theta0=theta0)
    q = np.concatenate([m.mean(axis=0) for m in task.train.masks])
    lp, lm = np.log(rule.g_plus), np.log(rule.g_minus)
    expected = steps * (q * lp + (1 - q) * lm)
    se = (lp - lm) * np.sqrt(steps * q * (1 - q))
    drift = log.theta - theta0
    ok = np.abs(drift - expected) <= 4 * se + 1e-9
    assert ok.mean() >= 0.99
    # q* threshold: clearly frequent features grew, clearly rare ones (idiosyncratic, q = 1/N) shrank.
    qs = rule.q_star
    far = np.abs(q - qs) * np.sqrt(steps) > 5 * np.sqrt(np.maximum(q * (1 - q), 1e-12)) + 1e-12
    assert np.all(np.sign(drift[far]) == np.sign(q[far] - qs))
    assert np.all(drift[task.graph.is_idiosyncratic] < 0)


def test_unguarded_activity_rule_raises_instead_of_nan():
    """A8 (first half): the raw rule overflows with a clear error, never a NaN."""
    task = small_task(seed=5)
    with pytest.raises(OverflowGuardError, match="θ_max"):
        train(task, ActivityRule(g_plus=1.5, g_minus=0.99, guards=False), steps=5_000, checkpoint_every=5_000,
              rng=np.random.default_rng(5))


def test_guarded_activity_rule_stays_finite_and_centered():
    """A8 (second half, shortened; the 10⁵-step version is marked slow)."""
    task = small_task(seed=6)
    log = train(task, ActivityRule(), steps=5_000, checkpoint_every=1_000, rng=np.random.default_rng(6))
    assert np.all(np.isfinite(log.theta))
    for l in range(task.graph.n_levels):
        assert np.all(np.abs(log.theta[task.graph.level_slice(l)]) <= 30 + 1e-9)
    assert log.stopped is None or "N_eff" in log.stopped


def test_apply_guards_recenters_per_level_and_clips():
    """G3 (per-level re-centering; global for flat) and G4 (clip to ±30)."""
    task = small_task(seed=13)
    g = task.graph
    rng = np.random.default_rng(13)
    theta = rng.normal(5.0, 1.0, g.n_features)
    out = apply_guards(g, theta, "path")
    for l in range(g.n_levels):
        assert abs(out[g.level_slice(l)].mean()) < 1e-12
    assert abs(apply_guards(g, theta, "flat").mean()) < 1e-12
    wide = rng.normal(0.0, 100.0, g.n_features)
    assert np.all(np.abs(apply_guards(g, wide, "path")) <= 30.0)


@pytest.mark.slow
def test_guarded_activity_rule_1e5_steps_finite():
    """A8: with G5's N_eff stop disabled, G3/G4 keep the state bounded for 10⁵ steps."""
    task = small_task(seed=7)
    log = train(task, ActivityRule(), steps=100_000, checkpoint_every=10_000, rng=np.random.default_rng(7),
                min_neff=0.0)
    assert log.stopped is None and log.steps[-1] == 100_000
    assert np.all(np.isfinite(log.theta)) and np.all(np.isfinite(log["acc_train"]))
    for l in range(task.graph.n_levels):
        assert np.all(np.abs(log.theta[task.graph.level_slice(l)]) <= 30 + 1e-9)


def test_guard_stops_on_winner_take_all():
    """G5: a strong activity rule concentrates the amounts; training stops and flags it."""
    task = small_task(seed=8, r=0, rho=0.0)
    log = train(task, ActivityRule(g_plus=2.0, g_minus=0.5), steps=20_000, checkpoint_every=10_000,
                rng=np.random.default_rng(8))
    assert log.stopped is not None and "N_eff" in log.stopped
    assert effective_number(log.theta[task.graph.level_slice(0)]) < 2 or \
        any(effective_number(log.theta[task.graph.level_slice(l)]) < 2 for l in range(3))


def test_gated_rule_runs_with_guards():
    task = small_task(seed=9)
    log = train(task, GatedRule(), steps=2_000, checkpoint_every=1_000, rng=np.random.default_rng(9))
    assert np.all(np.isfinite(log.theta)) and len(log.steps) >= 1


def test_grad_rule_keeps_amounts_positive_and_learns():
    task = small_task(seed=10, rho=0.0)
    log = train(task, GradRule(), steps=4_000, checkpoint_every=2_000, rng=np.random.default_rng(10))
    assert np.all(np.isfinite(log.theta))  # amounts exp(θ) > 0 by construction
    assert log["acc_train"][-1] >= log["acc_train"][0]


@pytest.mark.parametrize("rule", [GradRule(), ActivityRule(), GatedRule()])
def test_same_seed_bitwise_identical(rule):
    """A10."""
    task = small_task(seed=11)
    a = train(task, rule, steps=500, checkpoint_every=250, rng=np.random.default_rng(11))
    b = train(task, rule, steps=500, checkpoint_every=250, rng=np.random.default_rng(11))
    assert np.array_equal(a.thetas, b.thetas) and np.array_equal(a.fitted, b.fitted)


def test_fast_path_matches_general_gradient_rule():
    """The active-sub-graph fast path of R-grad gives the same trajectory as the general closed form."""
    task = small_task(seed=12)
    kw = dict(steps=3_000, checkpoint_every=1_000)
    a = train(task, GradRule(), rng=np.random.default_rng(12), fast=True, **kw)
    b = train(task, GradRule(), rng=np.random.default_rng(12), fast=False, **kw)
    assert np.allclose(a.thetas, b.thetas, rtol=0, atol=1e-10)
    assert np.array_equal(a.fitted, b.fitted)
