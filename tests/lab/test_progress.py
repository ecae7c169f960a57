"""The sweep's ETA is weighted by each task's recorded cost, so a long task left for last is not forgotten."""

from __future__ import annotations

import pytest

from dltheory.lab.progress import DEFAULT_COST_S, SweepState, expected_costs, weighted_eta


def test_weighted_eta_shares_work_and_is_bounded_by_the_longest_task():
    assert weighted_eta([], workers=2) == 0.0
    assert weighted_eta([10.0, 10.0, 10.0, 10.0], workers=2) == pytest.approx(20.0)
    assert weighted_eta([100.0, 1.0, 1.0], workers=2) == pytest.approx(100.0)  # the long task bounds it
    assert weighted_eta([30.0], workers=4) == pytest.approx(30.0)  # one task uses one worker
    assert weighted_eta([30.0], workers=1, speed=2.0, since_last_s=10.0) == pytest.approx(50.0)
    assert weighted_eta([5.0], workers=1, since_last_s=60.0) == 0.0


def test_state_eta_counts_costs_not_tasks():
    """19 cheap tasks done and one 300 s task left: a count-based ETA says 5 % left, the weighted one 300 s."""
    state = SweepState()
    costs = {i: 5.0 for i in range(19)} | {19: 300.0}
    state.start(20, costs, workers=1)
    for i in range(19):
        state.finish(i, wall_time_s=5.0)
    assert state.finished == 19 and state.total == 20
    assert state.eta_s() == pytest.approx(300.0, abs=1.0)
    assert state.done_cost_s == pytest.approx(95.0) and state.expected_total_s == pytest.approx(395.0)


def test_state_eta_scales_with_the_measured_speed_and_reused_tasks_do_not_count():
    state = SweepState()
    state.start(3, {1: 10.0, 2: 10.0}, workers=1)
    state.finish()  # task 0 was a reused result: it ran in no time and says nothing about speed
    state.finish(1, wall_time_s=20.0)  # twice as slow as recorded
    assert state.finished == 2
    assert state.eta_s() == pytest.approx(20.0, abs=1.0)


def test_expected_costs_use_records_then_the_median_then_a_default():
    recorded = {("a", "quick"): 10.0, ("b", "quick"): 30.0, ("a", "full"): 400.0}
    assert expected_costs([("a", "quick"), ("c", "quick"), ("c", "full"), ("d", "other")], recorded) == \
        [10.0, 20.0, 400.0, DEFAULT_COST_S["quick"]]
    assert expected_costs([("x", "full")], {}) == [DEFAULT_COST_S["full"]]
