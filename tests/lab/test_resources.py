"""Resource bounds before allocation (issue 13 item 5): every experiment estimates its memory and time from
its config, and a task that does not fit this machine (or the time limit) is refused before it runs."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments import all_experiments
from dltheory.lab.constraints import Float, Int, TupleOf, constraints_of
from dltheory.lab.resources import (
    BASE_MEMORY,
    GIB,
    TIME_LIMIT_S,
    Resources,
    available_memory,
    check_resources,
    format_bytes,
    format_seconds,
    with_estimate,
)
from dltheory.lab.runner import make_task, run_experiment, run_sweep
from tests.lab.test_framework import TOY

EXPERIMENTS = all_experiments()
NAMES = list(EXPERIMENTS)
REFERENCE_MEMORY = 24 * GIB  # the reference machine: 2 cores, 24 GiB
# full configurations that do not fit the reference machine, with the reason (found by these estimates)
FULL_EXCEEDS_REFERENCE = {
    "lr-transfer": "one vmapped ensemble of 2 x 41 learning rates x 5 seeds = 410 float32 MLPs of width 2048 "
                   "(1.8e9 weights, ~8 copies while training: ~57 GB)",
}
ROOT = Path(__file__).resolve().parents[2]


def test_available_memory_reads_this_machine():
    found = available_memory()
    assert found is not None and 0 < found < 2**50


def test_formatting():
    assert format_bytes(512 * 2**20) == "512 MiB" and format_bytes(3.5 * GIB) == "3.5 GiB"
    assert format_seconds(40) == "40 s" and format_seconds(1800) == "30 min" and format_seconds(5 * 3600) == "5.0 h"
    assert format_seconds(10 * 86400) == "10 days"


def test_resources_rejects_negative_and_nan():
    with pytest.raises(ValueError):
        Resources(-1, 1)
    with pytest.raises(ValueError):
        Resources(1, math.nan)


def test_check_resources_names_the_fields_and_the_override():
    big = Resources(40 * GIB, 10, memory_fields=("n_networks", "widths"), time_fields=("steps",))
    with pytest.raises(DLTheoryError) as info:
        check_resources("exp", big, memory_available=16 * GIB)
    message = str(info.value)
    assert "\n" not in message and "~40 GiB of memory" in message and "16 GiB available" in message
    assert "make n_networks or widths smaller" in message and "--allow-large" in message
    slow = Resources(GIB, 40 * 86400, time_fields=("steps", "n_seeds"))
    with pytest.raises(DLTheoryError, match=r"~40 days .* limit of 30 days per task; make steps or n_seeds smaller"):
        check_resources("exp", slow, memory_available=16 * GIB)
    check_resources("exp", big, memory_available=16 * GIB, allow_large=True)
    check_resources("exp", slow, memory_available=None, time_limit_s=None)


# -- every experiment declares a calibrated, bounded estimate --------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_experiment_declares_an_estimate_that_fits_its_scales(name):
    exp = EXPERIMENTS[name]
    quick, full = (exp.resources(exp.config(scale)) for scale in ("quick", "full"))
    assert isinstance(quick, Resources) and isinstance(full, Resources)
    fields = {f.name for f in dataclasses.fields(exp.config_cls)}
    assert set(quick.memory_fields) <= fields and set(quick.time_fields) <= fields
    assert quick.memory_fields and quick.time_fields
    # the quick scale runs in minutes on an 8 GB laptop; the full scale within the time limit on 2 cores
    assert BASE_MEMORY <= quick.memory_bytes <= 6 * GIB and quick.seconds <= 3600, quick
    assert full.seconds <= TIME_LIMIT_S, full
    assert (full.memory_bytes > REFERENCE_MEMORY) == (name in FULL_EXCEEDS_REFERENCE), full
    assert full.memory_bytes >= quick.memory_bytes and full.seconds >= quick.seconds


def _maximum(constraint):
    """The largest accepted value of a numeric constraint (None for others)."""
    if isinstance(constraint, Int):
        return constraint.hi
    if isinstance(constraint, Float):
        return float(constraint.hi) if constraint.closed in ("both", "right") else None
    if isinstance(constraint, TupleOf) and isinstance(constraint.item, (Int, Float)):
        top = _maximum(constraint.item)
        return None if top is None else (top,) * max(constraint.min_len, 1)
    return None


def _corner(exp):
    """Starting from the full scale, every numeric field at its declared maximum where the config allows it."""
    cfg = exp.config("full")
    for field, constraint in constraints_of(cfg).items():
        top = _maximum(constraint)
        if top is None:
            continue
        if isinstance(top, tuple):  # widths-like tuples: the full values plus the maximum
            top = tuple(sorted(set(getattr(cfg, field)) | set(top)))[-constraint.max_len:]
        try:
            cfg = cfg.replace(**{field: top})
        except DLTheoryError:
            continue
    return cfg


@pytest.mark.parametrize("name", NAMES)
def test_declared_maxima_together_are_refused_before_anything_runs(name):
    exp = EXPERIMENTS[name]
    corner = _corner(exp)
    estimate = exp.resources(corner)
    assert math.isfinite(estimate.memory_bytes) and math.isfinite(estimate.seconds)
    if estimate.memory_bytes <= REFERENCE_MEMORY and estimate.seconds <= TIME_LIMIT_S:
        # the declared maxima alone keep this experiment small (criticality: law_depth <= 100_000)
        assert estimate.memory_bytes <= 4 * GIB and estimate.seconds <= 3600, estimate
        return
    with pytest.raises(DLTheoryError, match="--allow-large") as info:
        check_resources(name, estimate, memory_available=REFERENCE_MEMORY)
    named = str(info.value).split("; make ")[1]
    assert any(f in named for f in estimate.memory_fields + estimate.time_fields), str(info.value)


def _perturbed(constraint, value):
    """A different accepted-looking value of a field: sizes doubled (or halved at the maximum), one more item."""
    if isinstance(constraint, Int):
        return value * 2 if value * 2 <= constraint.hi else max(constraint.lo, value // 2)
    if isinstance(constraint, Float):
        return value * 2 if value * 2 <= constraint.hi else value / 2
    if isinstance(constraint, TupleOf):
        if isinstance(constraint.item, Int):
            bigger = min(constraint.item.hi, 2 * max(value))
            grown = tuple(sorted(set(value) | {bigger}))
            return grown if len(grown) <= constraint.max_len and grown != value else (bigger, *value[1:])
        extra = [v for v in ("relu", "tanh", "erf", 0.3, 0.7, 0.05) if v not in value and type(v) is type(value[0])]
        if extra and len(value) < constraint.max_len:
            return (*value, extra[0])
        if len(value) > max(constraint.min_len, 1):
            return value[:-1]
    return None


@pytest.mark.parametrize("name", NAMES)
def test_the_fields_named_in_a_refusal_drive_the_estimate(name):
    """Changing any field the estimate names (so that a refusal tells the user to change it) changes the estimate."""
    exp = EXPERIMENTS[name]
    cfg = exp.config("quick")
    base = exp.resources(cfg)
    constraints = constraints_of(cfg)
    for field in dict.fromkeys(base.memory_fields + base.time_fields):
        value = _perturbed(constraints[field], getattr(cfg, field))
        assert value is not None, field
        try:
            changed = exp.resources(cfg.replace(**{field: value}))
        except DLTheoryError:
            continue  # a rule between fields forbids this change; the others are still checked
        assert (changed.memory_bytes, changed.seconds) != (base.memory_bytes, base.seconds), (field, value)


# -- the runner refuses before running, --allow-large runs ------------------------------------------------


def _huge_toy(calls):
    def measure(config, rng):
        calls.append(config)
        return TOY.measure(config, rng)

    def estimate(config):
        return Resources(1e18, 1.0, memory_fields=("n",), time_fields=("n",))

    return with_estimate(dataclasses.replace(TOY, measure=measure), estimate)


def test_run_sweep_refuses_a_task_too_large_before_running_it(tmp_path):
    calls = []
    toy = _huge_toy(calls)
    with pytest.raises(DLTheoryError, match=r"toy would need ~9.3e\+08 GiB of memory .* make n smaller"):
        run_sweep([make_task(toy)], out_dir=tmp_path)
    assert calls == []
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    records = run_sweep([make_task(toy)], out_dir=tmp_path, allow_large=True)
    assert records[0].ok and len(calls) == 1
    with pytest.raises(DLTheoryError, match="would need"):
        run_experiment(toy, out_dir=tmp_path / "b")
    assert run_experiment(toy, out_dir=tmp_path / "c", allow_large=True).ok


def test_a_stored_result_is_reused_without_the_check(tmp_path):
    calls = []
    toy = _huge_toy(calls)
    run_sweep([make_task(toy)], out_dir=tmp_path, allow_large=True)
    (record,) = run_sweep([make_task(toy)], out_dir=tmp_path)  # reuse needs no resources
    assert record.ok and len(calls) == 1


def _cli(*args, cwd):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "dltheory.cli", *args], capture_output=True, text=True, timeout=300,
                         cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return out, time.perf_counter() - t0


@pytest.mark.parametrize("args, fields", [
    (["kernel-propagation", "--set", "n_networks=200000", "--set", "widths=[256,8192]", "--set", "depth=1000"],
     "n_networks"),
    pytest.param(["lr-transfer", "--set", "widths=[8192,4096]", "--set", "n_seeds=256"], "widths",
                 marks=pytest.mark.slow),
    pytest.param(["inverse-ising-recovery", "--set", "sample_sizes=[1000,1000000]", "--set", "sizes=[1000]"],
                 "sample_sizes", marks=pytest.mark.slow),
])
def test_cli_refuses_an_oversized_run_in_one_line_and_writes_nothing(tmp_path, args, fields):
    out, _ = _cli("run", *args, "--out", str(tmp_path / "res"), cwd=tmp_path)
    assert out.returncode == 2, (out.stdout[-500:], out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fields in lines[0] and "--allow-large" in lines[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    runs = tmp_path / "res" / "runs"
    assert not runs.exists() or not any(runs.iterdir())
