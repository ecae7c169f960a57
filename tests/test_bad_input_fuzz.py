"""Property-based bad input that runs the code (issue 13 item 8).

Random configs at every experiment's config parser and its resource estimate; random argv, ``kernel`` options
and input files, and ``--set`` on every experiment at the real CLI entry point, with nothing stubbed out:
accepted commands really run (``run``/``reproduce`` of a registered fuzz toy, the ``kernel`` recursion),
oversized ones must be refused before they allocate. The contract checked on every example: exit 0 or 2;
exit 2 prints exactly one line on stderr; never a traceback; never exit 0 with a non-finite number in the
output. Budgets are small in the default run (< ~60 s on 2 cores); ``-m slow`` runs a longer profile that
also starts Dask and runs real experiments whose estimate is under 30 s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from dltheory import cli
from dltheory.errors import DLTheoryError
from dltheory.experiments import all_experiments
from dltheory.lab.base import Experiment, ScaledConfig
from dltheory.lab.constraints import Float, Int, TupleOf, constraints_of, declare
from dltheory.lab.resources import Resources, available_memory, check_resources, with_estimate
from dltheory.lab.verdicts import decide
from tests.experiments.toys import EXPERIMENTS as TOYS
from tests.lab.test_framework import TOY

REAL = all_experiments()
EXPERIMENTS = [*REAL.values(), TOY, TOYS[0]]
FAST = dict(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                   HealthCheck.filter_too_much], derandomize=True)


# -- a registered toy that runs in milliseconds and declares an estimate ---------------------------------


@dataclass(frozen=True)
class FuzzToyConfig(ScaledConfig):
    n: int = declare(64, Int(1, 10**11))
    loc: float = declare(0.0, Float(-1e3, 1e3))
    sizes: tuple[int, ...] = declare((2, 3), TupleOf(Int(1, 10**6), length=(1, 4)))


def _fuzz_measure(config: FuzzToyConfig, rng: np.random.Generator) -> pd.DataFrame:
    x = config.loc + rng.standard_normal(config.n)
    return pd.DataFrame({"i": np.arange(config.n), "x": x})


def _fuzz_claims(table: pd.DataFrame, config: FuzzToyConfig):
    se = 1 / math.sqrt(config.n)
    return [decide("mean", "mean of the draws", float(table["x"].mean()), target=config.loc, delta=1.0, se=se,
                   z_star=5.0, meaning="the mean is loc")]


def _fuzz_figures(table: pd.DataFrame, config: FuzzToyConfig) -> dict:
    return {}


def _fuzz_estimate(config: FuzzToyConfig) -> Resources:
    cells = config.n * (1 + int(np.prod(config.sizes)))
    return Resources(2e8 + 64.0 * cells, 1 + 1e-6 * cells, memory_fields=("n", "sizes"), time_fields=("n",))


FUZZ_TOY = with_estimate(Experiment(name="fuzz-toy", pillar="effective", title="Fuzz toy", description="Fuzzing.",
                                    config_cls=FuzzToyConfig, measure=_fuzz_measure, claims=_fuzz_claims,
                                    figures=_fuzz_figures), _fuzz_estimate)


@pytest.fixture
def registry(monkeypatch):
    """The real experiments plus the fuzz toy, as the CLI's registry sees them."""
    import dltheory.experiments.registry as registry_module

    found = {**REAL, FUZZ_TOY.name: FUZZ_TOY}
    monkeypatch.setattr(registry_module, "all_experiments", lambda: found)
    monkeypatch.setattr("dltheory.experiments.all_experiments", lambda: found)
    return found


@contextlib.contextmanager
def _in_tmp_dir():
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="dltheory-fuzz-") as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(old)


def _main(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Run the CLI in this process on ``argv``; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["dltheory", *argv])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


_NONFINITE = re.compile(r"(?<![A-Za-z])(nan|inf|-inf)(?![A-Za-z])", re.IGNORECASE)


def _check_contract(argv, code, out, err, *, expect_error=False):
    assert "Traceback" not in out + err, (argv, err[-2000:])
    assert code in ((2,) if expect_error else (0, 2)), (argv, code, out[-500:], err[-500:])
    if code == 2:
        if argv:  # `dltheory` alone prints the help and exits 2
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        else:
            assert (out + err).strip()


# -- configs and their estimates ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["relu", "tanh", "gelu", "", "nan", "1e9"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.tuples(scalars, scalars),
                   st.dictionaries(st.text(max_size=4), scalars, max_size=2))


@st.composite
def overrides(draw, exp):
    names = [f.name for f in dataclasses.fields(exp.config_cls)]
    keys = draw(st.lists(st.one_of(st.sampled_from(names), st.text(max_size=10)) if names else st.text(max_size=10),
                         min_size=1, max_size=3, unique=True))
    return {k: draw(values) for k in keys}


@settings(max_examples=60, deadline=2000, **FAST)
@given(data=st.data())
def test_random_configs_are_accepted_or_rejected_with_dltheory_error(data):
    exp = data.draw(st.sampled_from(EXPERIMENTS))
    scale = data.draw(st.sampled_from(["quick", "full", "quick", "huge", ""]))
    changes = data.draw(overrides(exp))
    try:
        cfg = exp.config(scale, **changes)
    except DLTheoryError:
        return
    # accepted: every field keeps its declared kind, the config round-trips, and the estimate is a number
    assert isinstance(cfg, exp.config_cls)
    assert cfg.replace(**{k: getattr(cfg, k) for k in changes}) == cfg
    estimate = exp.resources(cfg)
    if estimate is not None:
        assert estimate.memory_bytes >= 0 and estimate.seconds >= 0
        assert not math.isnan(estimate.memory_bytes + estimate.seconds)


# -- random argv at the real entry point ----------------------------------------------------------------

argv_tokens = st.one_of(
    st.sampled_from(["run", "reproduce", "report", "list", "criticality", "kernel", "--scale", "--seed", "--set",
                     "--out", "--only", "--executor", "--workers", "--scheduler", "--force", "--quick", "--full",
                     "--depth", "--cw", "--cb", "--activation", "--inputs", "--help", "--allow-large", "-x", "--",
                     "n=3", "n=10**11", "n=100000000000", "sizes=[1000000,1000000]", "loc=1e9", "widths=[1,2]",
                     "no_such=1", "serial", "local", "tcp://127.0.0.1:1", "-1", "0", "2", "3", "nan", "1e300",
                     "fuzz-toy", "relu", "erf", "leaky_relu:1e300", "/nonexistent/dir"]),
    st.text(min_size=0, max_size=8).filter(lambda s: "\x00" not in s),
)


set_items = st.sampled_from(["n=3", "n=1", "n=0", "n=100000000000", "n=2.5", "n='x'", "loc=-7.5", "loc=1e9",
                             "loc=nan", "loc=1e400", "sizes=[2]", "sizes=[1000000,1000000,1000000]", "sizes=[]",
                             "sizes=[1,2,3,4,5]", "scale=full", "self=1", "n"])
commands = st.tuples(
    st.sampled_from([["run", "fuzz-toy"], ["reproduce", "--only", "fuzz-toy"], ["run", "fuzz-toy", "--no-report"]]),
    st.lists(set_items, max_size=3),
    st.lists(st.sampled_from([["--seed", "3"], ["--seed", "-1"], ["--force"], ["--executor", "serial"],
                              ["--executor", "local"], ["--workers", "0"], ["--out", "sub"], ["--allow-large"],
                              ["--out", "/nonexistent/dir"], ["--scale", "full"], ["--scale", "huge"]]), max_size=3),
).map(lambda t: [*t[0], *[a for item in t[1] for a in ("--set", item) if t[0][0] == "run"],
                 *[a for opt in t[2] for a in opt if not (t[0][0] == "reproduce" and opt[0] == "--scale")]])


def _bounded(argv: list[str]) -> list[str]:
    """Keep every run within the fuzz budget without stubbing anything: reproduce only the toy."""
    if "reproduce" in argv and "--only" not in argv:
        argv = [*argv, "--only", "fuzz-toy"]
    return argv


@settings(max_examples=70, deadline=30_000, **FAST)
@given(argv=st.one_of(st.lists(argv_tokens, min_size=0, max_size=6), commands))
def test_random_argv_exits_0_or_2_with_one_line_and_no_traceback(argv, registry, monkeypatch, capsys):
    argv = _bounded(argv)
    with _in_tmp_dir():
        code, out, err = _main(argv, monkeypatch, capsys)
    _check_contract(argv, code, out, err)
    event(f"exit {code}" + (f" after running {argv[0]}" if code == 0 and argv and argv[0] in ("run", "reproduce",
                                                                                                "kernel") else ""))
    if code == 0 and "kernel" in argv:
        assert not _NONFINITE.search(out), (argv, out[-500:])


# -- the kernel command: depth, inputs, C_W, C_b, activation --------------------------------------------

BAD_FILES = {
    "empty": lambda p: p.write_bytes(b""),
    "text": lambda p: p.write_text("1,2\n3,4\n"),
    "strings": lambda p: np.save(p, np.array([["a", "b"]])),
    "complex": lambda p: np.save(p, np.ones((2, 3)) + 1j),
    "bool": lambda p: np.save(p, np.ones((2, 3), dtype=bool)),
    "object": lambda p: np.save(p, np.array([[1, None]], dtype=object), allow_pickle=True),
    "structured": lambda p: np.save(p, np.zeros(3, dtype=[("a", float), ("b", float)])),
    "npz": lambda p: np.savez(p.with_suffix(""), x=np.ones((2, 2))) or p.with_suffix(".npz").rename(p),
    "1d": lambda p: np.save(p, np.ones(3)),
    "3d": lambda p: np.save(p, np.ones((2, 2, 2))),
    "nan": lambda p: np.save(p, np.array([[1.0, np.nan]])),
    "too-many": lambda p: np.save(p, np.ones((30_000, 2))),
    "huge-header": lambda p: _header_only(p, (10**12, 10**6)),
    "truncated": lambda p: _header_only(p, (100, 10), b"\0" * 80),
}


def _header_only(path: Path, shape: tuple[int, ...], body: bytes = b"") -> None:
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})
        fh.write(body)


finite_inputs = st.tuples(st.integers(1, 5), st.integers(1, 6), st.sampled_from([1e-3, 1.0, 1e3, 1e150])).map(
    lambda t: ("array", t))
input_files = st.one_of(st.none(), finite_inputs, st.sampled_from(sorted(BAD_FILES)).map(lambda k: ("bad", k)))
numbers = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e300", "1e6", "1e7", "abc", "1e-300"]),
                    st.floats(0.01, 10).map(lambda v: f"{v:.6g}"))
depths = st.one_of(st.sampled_from(["-1", "0", "1", "100001", "1000000000", "2.5", "x", "400"]),
                   st.integers(1, 60).map(str))
activations = st.sampled_from(["relu", "erf", "tanh", "gelu", "sin", "linear", "leaky_relu:0.1", "leaky_relu:1e300",
                               "leaky_relu:nan", "bogus", "", "swish"])


def _write_inputs(spec, where: Path) -> Path | None:
    if spec is None:
        return None
    path = where / "x.npy"
    kind, value = spec
    if kind == "bad":
        BAD_FILES[value](path)
    else:
        p, n0, scale = value
        np.save(path, scale * np.random.default_rng(p * 10 + n0).standard_normal((p, n0)))
    return path


@settings(max_examples=60, deadline=30_000, **FAST)
@given(depth=depths, spec=input_files, cw=numbers, cb=st.one_of(st.just("0"), numbers), activation=activations,
       save=st.booleans())
def test_kernel_command_never_prints_or_saves_non_finite_numbers(depth, spec, cw, cb, activation, save, monkeypatch,
                                                                 capsys):
    with _in_tmp_dir() as tmp:
        path = _write_inputs(spec, tmp)
        argv = ["kernel", "--depth", depth, "--cw", cw, "--cb", cb, "--activation", activation]
        argv += ["--inputs", str(path)] if path is not None else []
        argv += ["--save", str(tmp / "k.npz")] if save else []
        code, out, err = _main(argv, monkeypatch, capsys)
        _check_contract(argv, code, out, err)
        event(f"exit {code}" + (" (a numerical breakdown named)" if "at layer" in err else ""))
        if code == 0:
            if save:
                with np.load(tmp / "k.npz") as saved:
                    assert np.all(np.isfinite(saved["nngp"])) and np.all(np.isfinite(saved["ntk"])), argv
            else:
                assert not _NONFINITE.search(out), (argv, out[-500:])
        if spec is not None and spec[0] == "bad":
            assert code == 2, (argv, out[-300:])


# -- --set on every experiment: invalid or oversized values exit 2 in one line, before running -----------


def _maximum(constraint):
    if isinstance(constraint, Int):
        return constraint.hi
    if isinstance(constraint, Float):
        return float(constraint.hi)
    if isinstance(constraint, TupleOf) and isinstance(constraint.item, Int):
        return [constraint.item.hi] * max(constraint.min_len, 2)
    return None


@st.composite
def oversized_or_invalid(draw, exp):
    """``--set`` items: values outside a field's declaration, or several size fields at their maxima."""
    constraints = constraints_of(exp.config_cls)
    names = sorted(constraints)
    if draw(st.booleans()):
        field = draw(st.sampled_from(names))
        bad = draw(st.sampled_from(constraints[field].invalid_examples()))
        return [f"{field}={_literal(bad)}"], True
    sizes = [n for n in names if _maximum(constraints[n]) is not None]
    chosen = draw(st.lists(st.sampled_from(sizes), min_size=2, max_size=5, unique=True)) if len(sizes) > 1 else sizes
    return [f"{f}={_literal(_maximum(constraints[f]))}" for f in chosen], False


def _literal(value) -> str:
    """``value`` as the user would write it after ``--set KEY=`` (infinities as 1e400; NaN has no literal)."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, float) and math.isinf(value):
        return "1e400" if value > 0 else "-1e400"
    return repr(value)


def _would_run(exp, items: list[str]) -> bool:
    """True if the config is valid and fits this machine: then the CLI would really run it."""
    try:
        cfg = exp.config("quick", **cli.parse_overrides(items))
        estimate = exp.resources(cfg)
        if estimate is not None:
            check_resources(exp.name, estimate, memory_available=available_memory())
    except DLTheoryError:
        return False
    return True


@settings(max_examples=50, deadline=5000, **FAST)
@given(data=st.data())
def test_set_on_every_experiment_is_refused_before_running(data, registry, monkeypatch, capsys):
    name = data.draw(st.sampled_from(sorted(REAL)))
    exp = REAL[name]
    items, invalid = data.draw(oversized_or_invalid(exp))
    assume(invalid or not _would_run(exp, items))  # a config that fits this machine would really run: not here
    argv = ["run", name, "--no-report"] + [a for item in items for a in ("--set", item)]
    with _in_tmp_dir() as tmp:
        code, out, err = _main(argv, monkeypatch, capsys)
        _check_contract(argv, code, out, err, expect_error=True)
        event("refused by its estimate" if "--allow-large" in err else "rejected by a declared constraint")
        runs = tmp / "results" / "runs"
        assert not runs.exists() or not any(runs.iterdir()), argv  # nothing ran, nothing was stored


@pytest.mark.slow
@settings(max_examples=25, deadline=None, **FAST)
@given(data=st.data())
def test_slow_profile_runs_small_real_experiments_and_dask(data, registry, monkeypatch, capsys):
    """The longer profile: real experiments whose estimate is under 30 s really run; Dask executors start."""
    name = data.draw(st.sampled_from(sorted(REAL)))
    exp = REAL[name]
    estimate = exp.resources(exp.config("quick"))
    assume(estimate is not None and estimate.seconds <= 30)
    executor = data.draw(st.sampled_from(["serial", "local", "dask"]))
    argv = ["run", name, "--executor", executor, "--no-report"]
    with _in_tmp_dir():
        code, out, err = _main(argv, monkeypatch, capsys)
    _check_contract(argv, code, out, err)


@pytest.mark.parametrize("argv", [
    ["run", "toy-a", "--set", "n=[1,2", "--executor", "threads"],
    ["kernel", "--depth", "1000000000"],
    pytest.param(["reproduce", "--only", "no-such-experiment"], marks=pytest.mark.slow),
    pytest.param(["run", "toy-a", "--set", "n=1e400"], marks=pytest.mark.slow),
    pytest.param(["reproduce", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], marks=pytest.mark.slow),
])
def test_bad_input_in_a_real_process_exits_2(argv):
    env = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys"}
    out = subprocess.run([sys.executable, "-m", "dltheory.cli", *argv], capture_output=True, text=True, timeout=120,
                         env=env, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
