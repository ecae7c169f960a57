"""Declarative config constraints: coercion, bounds, one-line messages, and configs built on them."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Claim, ScaledConfig, json_ready
from dltheory.lab.verdicts import decide
from dltheory.lab.constraints import (
    Bool,
    Choice,
    Float,
    Int,
    OrNone,
    Text,
    TupleOf,
    activation_name,
    constraints_of,
    declare,
)


def rejects(constraint, value, label="config field x"):
    with pytest.raises(DLTheoryError) as info:
        constraint.coerce(value, label)
    message = str(info.value)
    assert "\n" not in message and message.startswith(label)
    return message


def test_int_coerces_integral_values_and_names_range_and_value():
    c = Int(2, 1 << 16)
    assert c.coerce(np.int64(5), "x") == 5 and type(c.coerce(np.int64(5), "x")) is int
    assert c.coerce(1e3, "x") == 1000 and type(c.coerce(1e3, "x")) is int
    assert rejects(c, 70_000) == "config field x must be an int in [2, 65_536]; got 70000"
    for bad in (1, 2.5, True, "3", None, math.inf, math.nan, 1e300):
        rejects(c, bad)
    assert c.above_maximum() == [65_537]


def test_float_bounds_and_open_ends():
    c = Float(0, 1, closed="left")
    assert c.coerce(0, "x") == 0.0 and type(c.coerce(0, "x")) is float
    assert rejects(c, 1.0) == "config field x must be a float in [0, 1); got 1.0"
    for bad in (-1e-12, math.nan, math.inf, -math.inf, True, "0.5", 10**400):
        rejects(c, bad)
    assert Float(0, 1, closed="right").describe() == "a float in (0, 1]"
    rejects(Float(0, 1, closed="right"), 0.0)
    assert Float(0, 1).coerce(np.float32(0.5), "x") == 0.5


def test_bool_choice_text():
    assert Bool().coerce(np.bool_(True), "x") is True
    for bad in (1, 0, "True", None):
        rejects(Bool(), bad)
    c = Choice("mse", "bce")
    assert c.coerce("bce", "x") == "bce"
    assert rejects(c, "MSE") == "config field x must be one of 'mse', 'bce'; got 'MSE'"
    assert Text(4).coerce("abcd", "x") == "abcd"
    rejects(Text(4), "abcde")
    rejects(Text(4), 3)


def test_text_with_a_checker_reports_the_checkers_reason():
    act = activation_name()
    assert act.coerce("leaky_relu:0.1", "x") == "leaky_relu:0.1"
    message = rejects(act, "bogus")
    assert "an activation name" in message and "'bogus'" in message and len(message) <= 300


def test_tuples_name_the_offending_item_and_bound_their_length():
    c = TupleOf(Int(2, 100), length=(2, 4))
    assert c.coerce([2, np.int32(3)], "config field widths") == (2, 3)
    assert rejects(c, (2, 1), "config field widths") == "config field widths[1] must be an int in [2, 100]; got 1"
    assert "a tuple of 2 to 4 items, each an int in [2, 100]" in rejects(c, (2,) * 5, "config field widths")
    for bad in ((2,), "ab", 5, None, {2: 3}):
        rejects(c, bad)
    assert TupleOf(Choice("a", "b"), length=2).describe() == "a tuple of 2 items, each one of 'a', 'b'"


def test_or_none():
    c = OrNone(Int(1, 3))
    assert c.coerce(None, "x") is None and c.coerce(2, "x") == 2
    assert rejects(c, 4) == "config field x must be an int in [1, 3] or None; got 4"


def test_every_constraint_rejects_its_own_invalid_examples():
    for c in (Int(0, 5), Float(-1, 1), Float(0, 1, closed="neither"), Bool(), Choice("a", "b"), Text(3),
              TupleOf(Float(0, 1), length=(0, 3)), TupleOf(Int(1, 9), length=2), OrNone(Float(0, 2))):
        c.coerce(c.example(), "x")
        for bad in c.above_maximum() + c.invalid_examples():
            rejects(c, bad)


def test_declarations_are_checked_when_made():
    with pytest.raises(TypeError):
        Int(5, 1)
    with pytest.raises(TypeError):
        Float(0, math.inf)  # every range has a finite maximum
    with pytest.raises(TypeError):
        Choice("a", 1)
    with pytest.raises(DLTheoryError, match="the default must be an int in"):
        declare(0, Int(1, 3))


@dataclasses.dataclass(frozen=True)
class Cfg(ScaledConfig):
    widths: tuple[int, ...] = declare((8, 16, 32), TupleOf(Int(2, 4096), length=(2, 8)))
    lr: float = declare(0.5, Float(0, 10, closed="right"))
    loss: str = declare("mse", Choice("mse", "bce"))
    batch: int = declare(16, Int(1, 128))
    n_train: int = declare(64, Int(1, 1000))

    @classmethod
    def quick(cls):
        return cls(widths=(8, 16))

    def validate(self):
        self.check(self.batch <= self.n_train, "batch <= n_train", "batch", "n_train")


def test_a_config_is_coerced_and_checked_however_it_is_made():
    assert Cfg(widths=[8, 16], lr=1).widths == (8, 16) and Cfg(lr=1).lr == 1.0
    with pytest.raises(DLTheoryError, match=r"^config field lr must be a float in \(0, 10\]; got 0$"):
        Cfg(lr=0)
    with pytest.raises(DLTheoryError, match=r"^config fields batch, n_train must satisfy batch <= n_train; "
                                            r"got batch=16, n_train=8$"):
        Cfg.quick().replace(n_train=8)
    with pytest.raises(DLTheoryError, match=r"unknown config field\(s\) 'scale' \(the scale is chosen with --scale"):
        Cfg.quick().replace(scale="full")
    with pytest.raises(DLTheoryError, match="unknown config field"):
        Cfg.quick().replace(self=1)
    assert Cfg.at_scale("quick") == Cfg(widths=(8, 16))
    assert constraints_of(Cfg)["batch"] == Int(1, 128)


def test_from_dict_inverts_to_dict_and_rejects_incomplete_or_foreign_dicts():
    cfg = Cfg.quick().replace(loss="bce")
    stored = json.loads(json.dumps(cfg.to_dict()))
    assert stored["widths"] == [8, 16] and Cfg.from_dict(stored) == cfg
    with pytest.raises(DLTheoryError, match="lacks field"):
        Cfg.from_dict({k: v for k, v in stored.items() if k != "lr"})
    with pytest.raises(DLTheoryError, match="unknown config field"):
        Cfg.from_dict({**stored, "momentum": 0.9})
    with pytest.raises(DLTheoryError):
        Cfg.from_dict([1, 2])


def test_a_field_without_a_declared_constraint_is_a_programming_error():
    @dataclasses.dataclass(frozen=True)
    class Loose(ScaledConfig):
        n: int = 3

    with pytest.raises(TypeError, match="field 'n' of Loose has no declared constraint"):
        Loose()


def test_a_validate_tripped_by_an_odd_value_is_still_a_dltheory_error():
    @dataclasses.dataclass(frozen=True)
    class Odd(ScaledConfig):
        n: int = declare(3, Int(0, 9))

        def validate(self):
            1 / self.n

    with pytest.raises(DLTheoryError, match="invalid config Odd: ZeroDivisionError"):
        Odd(n=0)


def test_claims_serialize_once_and_read_back_typed():
    c = decide("a", "stat", math.nan, target=1.0, delta=0.1, se=0.01, z_star=3.0, meaning="meaning")
    d = json_ready({"claims": [c], "config": Cfg.quick()})
    assert d["claims"] == [c.to_dict()] and d["claims"][0]["measured"] is None
    assert d["config"] == {"widths": [8, 16], "lr": 0.5, "loss": "mse", "batch": 16, "n_train": 64}
    back = Claim.from_dict(json.loads(json.dumps(d["claims"][0])))
    assert math.isnan(back.measured) and dataclasses.replace(back, measured=0.0) == dataclasses.replace(c, measured=0.0)
    ok = decide("b", "s", 2.0, target=2.0, delta=1.0, se=0.1, z_star=3.0, meaning="m", figure="fig")
    assert Claim.from_dict({**ok.to_dict(), "added_by_a_newer_version": 1}) == ok
    for broken in ({**ok.to_dict(), "verdict": "yes"}, {**ok.to_dict(), "measured": "1"},
                   {**ok.to_dict(), "delta": None}, {k: v for k, v in ok.to_dict().items() if k != "statistic"}, ["b"]):
        with pytest.raises(DLTheoryError):
            Claim.from_dict(broken)
    legacy = {"name": "c", "statistic": "s", "threshold": "<= 1", "measured": 0.5, "passed": True, "meaning": "m",
              "figure": None}  # a result stored by version 0.1
    old = Claim.from_dict(legacy)
    assert old.passed and old.kind == "legacy" and old.criterion == "<= 1"