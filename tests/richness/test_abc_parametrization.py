"""abc-parametrization arithmetic in exact rationals (richness.md §7, R2)."""

from __future__ import annotations

from fractions import Fraction as Fr

import pytest

from dltheory.richness.abc_parametrization import abc_mfp, abc_mup, abc_ntp, abc_richness, abc_sp


def test_tp4_table1_r_values():
    assert abc_sp(2, c=1).r_tp() == Fr(1, 2)
    assert abc_ntp(2).r_tp() == Fr(1, 2)
    assert abc_mfp().r_tp() == 0
    assert abc_mup(2).r_tp() == 0
    for p in (abc_sp(2, 1), abc_ntp(2), abc_mfp(), abc_mup(2)):
        assert p.is_stable() and p.is_nontrivial()
    assert abc_mup(3).feature_learning() and abc_mfp().feature_learning()
    assert not abc_ntp(3).feature_learning() and not abc_sp(3, 1).feature_learning()
    assert not abc_sp(2, 0).is_stable()  # SP with width-independent LR (TP IV Thm 4.1)


@pytest.mark.parametrize("r", [Fr(0), Fr(1, 8), Fr(1, 4), Fr(3, 8), Fr(1, 2)])
@pytest.mark.parametrize("gauge", ["mup", "stp"])
def test_richness_family(r, gauge):
    p = abc_richness(r, n_hidden=2, gauge=gauge)
    assert p.r_tp() == Fr(1, 2) - r
    assert p.is_stable() and p.is_nontrivial()
    assert p.feature_learning() == (r == Fr(1, 2))
    V, L = p.sgd_exponents()
    assert V == (0, 1, 1 + 2 * r) and L == (-2 * r, 1 - 2 * r, 1)


def test_endpoints_and_gauge_shift():
    assert abc_richness(0).sgd_exponents() == abc_ntp(2).sgd_exponents()
    assert abc_richness(Fr(1, 2)).sgd_exponents() == abc_mup(2).sgd_exponents()
    p = abc_mup(2)
    q = p.gauge_shift([Fr(1, 3), Fr(-1, 2), 2])
    assert q.sgd_exponents() == p.sgd_exponents() and q.r_tp() == p.r_tp()
