"""Preset tables, gauge invariants and bad input of the parametrizations (richness.md §5, §7, §11)."""

from __future__ import annotations

import math
import warnings

import pytest

from dltheory.errors import DLTheoryError
from dltheory.richness import (GAUGES, Parametrization, UnstableRichnessWarning, mfp, mup, ntp, preset, richness,
                               sp)

ALL_PRESETS = {"sp": sp(), "sp-c1": sp(1.0), "ntp": ntp(), "ntp-lr": ntp("stp"), "mup": mup(), "mup-lr": mup("stp"),
               "mfp": mfp(), "r=1/8": richness(0.125), "r=3/8,g0=3": richness(0.375, 3.0, gauge="rescale"),
               "adam-mup": mup("stp", optimizer="adam")}
ROLES = (("readin", 784), ("hidden", 512), ("readout", 512))


def test_mupify_sanity_values():
    """§5 sanity values from the mupify notebook: MLP 784→512→512→10 in mup-lr (STP gauge, r = 1/2)."""
    p = mup("stp")
    s = [p.realize(role, fan, 512) for role, fan in ROLES]
    assert [round(x.init_std, 4) for x in s] == [0.0357, 0.0442, 0.0020]  # 1/sqrt(784) = 0.03571
    assert s[0].init_std == pytest.approx(1 / math.sqrt(784)) and s[2].init_std == pytest.approx(1 / 512)
    assert [round(x.lr_factor, 5) for x in s] == [0.65306, 1.0, 0.00195]
    assert all(x.multiplier == 1.0 for x in s)


@pytest.mark.parametrize("name", ["ntp", "ntp-lr", "mup", "mup-lr", "mfp"])
def test_mupify_get_param_invariants(name):
    """mupify's asserted invariants (alpha sigma)^2 = LR factor and (g sigma alpha)^2 = q for its five presets."""
    p = ALL_PRESETS[name]
    n = 512
    alpha = math.sqrt(n) if p.r == 0.5 else 1.0
    for role, fan in ROLES:
        s = p.realize(role, fan, n)
        q = (alpha ** 2 / fan) if role != "readout" else 1 / fan
        assert (s.multiplier * s.init_std * alpha) ** 2 == pytest.approx(q)
        assert (alpha * s.init_std) ** 2 == pytest.approx(s.lr_factor)
        if p.gauge == "rescale":
            assert s.init_std == 1.0 and s.lr_factor == pytest.approx(alpha ** 2)


@pytest.mark.parametrize("name", sorted(ALL_PRESETS))
def test_invariant_suite(name):
    """Shared invariants over every preset: gauges realize the same v, lambda; values positive and finite."""
    p = ALL_PRESETS[name]
    for n in (64, 1024):
        for role, fan in (("readin", 40), ("hidden", n), ("readout", n)):
            v, lam = p.invariants(role, fan, n)
            assert v > 0 and lam > 0 and math.isfinite(v) and math.isfinite(lam)
            for gauge in GAUGES if p.optimizer == "sgd" else ("stp",):
                s = p.with_gauge(gauge).realize(role, fan, n)
                assert (s.multiplier * s.init_std) ** 2 == pytest.approx(v, rel=1e-12)
                eff = s.lr_factor * s.multiplier ** (1 if p.optimizer == "adam" else 2)
                assert eff == pytest.approx(lam, rel=1e-12)
    assert Parametrization.from_dict(p.to_dict()) == p


def test_global_learning_rate_gauges():
    """μP gauge has one global LR eta_hat; rescaling gauge has eta_hat alpha^2 everywhere (§5)."""
    for r in (0.0, 0.25, 0.5):
        n = 256
        alpha = n ** r
        lrs_mup = {richness(r, gauge="mup").realize(role, fan, n).lr_factor for role, fan in (("readin", 40),
                   ("hidden", n), ("readout", n))}
        lrs_res = [richness(r, gauge="rescale").realize(role, fan, n).lr_factor for role, fan in (("readin", 40),
                   ("hidden", n), ("readout", n))]
        assert all(abs(x - 1) < 1e-12 for x in lrs_mup)
        assert lrs_res == pytest.approx([alpha ** 2] * 3)


def test_unified_exponent_table():
    """§7 unified SGD exponents: v = n^-V, lambda = n^-Lambda with the richness row (0,1,1+2r; -2r,1-2r,1)."""
    for r in (0.0, 0.125, 0.5):
        p = richness(r)
        for role, (V, L) in {"hidden": (1, 1 - 2 * r), "readout": (1 + 2 * r, 1)}.items():
            (v1, l1), (v2, l2) = p.invariants(role, 100, 100), p.invariants(role, 10000, 10000)
            assert -math.log(v2 / v1) / math.log(100) == pytest.approx(V)
            assert -math.log(l2 / l1) / math.log(100) == pytest.approx(L)
        (_, l1), (_, l2) = p.invariants("readin", 40, 100), p.invariants("readin", 40, 10000)
        assert -math.log(l2 / l1) / math.log(100) == pytest.approx(-2 * r)
    # SP with LR n^-1 equals NTP except for an input-layer LR smaller by 1/n (§7)
    assert sp(1.0).invariants("hidden", 512, 512) == pytest.approx(ntp().invariants("hidden", 512, 512))
    assert sp(1.0).invariants("readin", 40, 512)[1] == pytest.approx(ntp().invariants("readin", 40, 512)[1] * 40 / 512)


def test_richness_names_and_presets():
    assert richness("ntk").r == 0.0 and richness("mup").r == 0.5
    assert preset("mup") == mup() and preset("sp") == sp()
    with pytest.raises(DLTheoryError, match="preset"):
        preset("mumu")


def test_bad_input():
    with pytest.raises(DLTheoryError, match=r"r must be in \[0, 1/2\]"):
        richness(0.6)
    with pytest.raises(DLTheoryError, match="r must be in"):
        richness(-0.1)
    with pytest.warns(UnstableRichnessWarning):
        p = richness(0.6, allow_unstable=True)
    assert p.alpha(100) == pytest.approx(100 ** 0.6)
    with pytest.raises(DLTheoryError, match="gauge='stp'"):
        richness(0.5, gauge="mup", optimizer="adam")
    with pytest.raises(DLTheoryError, match="gauge must be one of"):
        richness(0.5, gauge="xyz")
    with pytest.raises(DLTheoryError, match="gamma0"):
        richness(0.5, gamma0=0.0)
    with pytest.raises(DLTheoryError, match="r must be a float"):
        richness("rich")
    with pytest.raises(DLTheoryError, match="role"):
        mup().invariants("middle", 10, 10)
    with pytest.raises(DLTheoryError, match="width"):
        mup().alpha(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        richness(0.5)  # in range: no warning
