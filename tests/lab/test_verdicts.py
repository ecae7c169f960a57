"""The verdict rules: four states, power, controls, and the counterfactual used by the power test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.lab.verdicts import (POWER_Z, Verdict, count_verdicts, counterfactual, decide, decide_all, reported,
                                   required_se, samples_to_decide, summary_line, with_control)

Z = 3.0


def eq(measured, se, target=1.0, delta=0.1, **kw):
    return decide("c", "stat", measured, target=target, delta=delta, se=se, z_star=Z, meaning="m", **kw)


def test_power_rule_numbers():
    assert required_se(0.1, Z) == pytest.approx(0.1 / (Z + POWER_Z))
    assert samples_to_decide(2 * required_se(0.1, Z), 0.1, Z, 100) == 400


def test_equal_pass_fail_and_no_power():
    small = 0.5 * required_se(0.1, Z)
    assert eq(1.0 + small, small).verdict is Verdict.PASS
    assert eq(1.0 + 4 * small, small).verdict is Verdict.FAIL  # 4 SE > z* = 3
    weak = eq(1.01, 0.1, n=50)  # agrees, but SE 0.1 cannot see δ = 0.1
    assert weak.verdict is Verdict.INCONCLUSIVE and "no power" in weak.reason and "samples" in weak.reason
    assert eq(3.0, 0.1).verdict is Verdict.FAIL  # a significant disagreement fails even without power


@pytest.mark.parametrize("measured, se", [(math.nan, 0.01), (1.0, math.nan), (math.inf, 0.01)])
def test_nan_is_inconclusive_never_fail(measured, se):
    claim = eq(measured, se)
    assert claim.verdict is Verdict.INCONCLUSIVE and "non-finite" in claim.reason


def test_unconverged_is_inconclusive():
    claim = eq(5.0, 0.001, converged=False, reason="BP did not converge at 3 of 40 points")
    assert claim.verdict is Verdict.INCONCLUSIVE and "BP did not converge" in claim.reason


def test_one_sided_kinds():
    se = 0.01
    assert decide("g", "s", 0.5, target=0.0, delta=0.1, se=se, z_star=Z, kind="greater", meaning="m").passed
    flat = decide("g", "s", 0.001, target=0.0, delta=0.1, se=se, z_star=Z, kind="greater", meaning="m")
    assert flat.verdict is Verdict.FAIL  # powered, and no effect of size δ
    assert decide("g", "s", 0.001, target=0.0, delta=0.1, se=0.2, z_star=Z, kind="greater",
                  meaning="m").verdict is Verdict.INCONCLUSIVE
    assert decide("l", "s", -0.5, target=0.0, delta=0.1, se=se, z_star=Z, kind="less", meaning="m").passed


def test_counterfactual_turns_every_decided_claim_into_fail():
    se = 0.5 * required_se(0.1, Z)
    claims = [lambda: eq(1.0 + se, se), lambda: eq(1.0 - se, se),
              lambda: decide("g", "s", 5.0, target=0.0, delta=0.1, se=se, z_star=Z, kind="greater", meaning="m"),
              lambda: decide("l", "s", -5.0, target=0.0, delta=0.1, se=se, z_star=Z, kind="less", meaning="m"),
              lambda: decide_all("a", "s", [1.0, 2.0], target=[1.0, 2.0], delta=0.1, se=[se, se], z_star=Z,
                                 meaning="m")]
    assert all(make().verdict is Verdict.PASS for make in claims)
    with counterfactual():
        assert all(make().verdict is Verdict.FAIL for make in claims)
    assert all(make().verdict is Verdict.PASS for make in claims)  # the context is left cleanly


def test_decide_all_reports_the_worst_cell():
    se = np.full(3, 0.5 * required_se(0.1, Z))
    ok = decide_all("a", "s", [1, 2, 3], target=[1, 2, 3], delta=0.1, se=se, z_star=Z, meaning="m")
    assert ok.verdict is Verdict.PASS and ok.measured == 0.0
    bad = decide_all("a", "s", [1, 2, 3.5], target=[1, 2, 3], delta=0.1, se=se, z_star=Z, meaning="m",
                     labels=["x", "y", "z"])
    assert bad.verdict is Verdict.FAIL and "worst z" in bad.reason or "worst z:" in bad.reason
    nan = decide_all("a", "s", [1, np.nan, 3], target=[1, 2, 3], delta=0.1, se=se, z_star=Z, meaning="m")
    assert nan.verdict is Verdict.INCONCLUSIVE
    weak = decide_all("a", "s", [1, 2, 3], target=[1, 2, 3], delta=0.1, se=[0.01, 0.5, 0.01], z_star=Z, meaning="m")
    assert weak.verdict is Verdict.INCONCLUSIVE and "no power at 1" in weak.reason


def test_control_must_fail_the_same_criterion():
    se = 0.5 * required_se(0.1, Z)
    main = eq(1.0, se)
    failing_control = eq(2.0, se)
    assert with_control(main, failing_control).verdict is Verdict.PASS
    passing_control = eq(1.0, se)
    gated = with_control(main, passing_control)
    assert gated.verdict is Verdict.FAIL and "control passes too" in gated.reason
    assert with_control(main, eq(1.0, 0.5)).verdict is Verdict.INCONCLUSIVE
    assert with_control(eq(2.0, se), failing_control).verdict is Verdict.FAIL


def test_reported_is_never_counted():
    claims = [eq(1.0, 0.001), eq(2.0, 0.001), eq(1.0, 1.0), reported("r", "s", 3.0, meaning="m")]
    counts = count_verdicts(claims)
    assert counts == {Verdict.PASS: 1, Verdict.FAIL: 1, Verdict.INCONCLUSIVE: 1, Verdict.REPORTED: 1}
    assert summary_line(counts).startswith("1 PASS · 1 FAIL · 1 INCONCLUSIVE (3 gated claims; 1 reported)")
    assert not Verdict.REPORTED.gated


def test_gated_claims_must_declare_delta():
    with pytest.raises(ValueError, match="delta"):
        decide("c", "s", 1.0, target=1.0, delta=0.0, se=0.1, z_star=Z, meaning="m")
    from dltheory.lab.base import Claim

    with pytest.raises(ValueError, match="must declare delta"):
        Claim(name="c", statistic="s", measured=1.0, verdict=Verdict.PASS, meaning="m")
