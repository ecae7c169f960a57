"""Property-based bad input: random configs at every experiment's config parser and random argv at the
CLI. Every failure is a DLTheoryError (exit code 2 from the CLI), never another exception or a hang."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dltheory import cli
from dltheory.errors import DLTheoryError
from dltheory.experiments import all_experiments
from tests.lab.test_framework import TOY
from tests.experiments.toys import EXPERIMENTS as TOYS

EXPERIMENTS = [*all_experiments().values(), TOY, TOYS[0]]

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


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_random_configs_are_accepted_or_rejected_with_dltheory_error(data):
    exp = data.draw(st.sampled_from(EXPERIMENTS))
    scale = data.draw(st.sampled_from(["quick", "full", "quick", "huge", ""]))
    changes = data.draw(overrides(exp))
    try:
        cfg = exp.config(scale, **changes)
    except DLTheoryError:
        return
    # accepted: every field keeps its declared kind, and the config round-trips through replace
    assert isinstance(cfg, exp.config_cls)
    assert cfg.replace(**{k: getattr(cfg, k) for k in changes}) == cfg
    try:
        exp.config_cls.at_scale("quick").replace(**changes)
    except DLTheoryError:
        pass


@pytest.fixture
def no_run(monkeypatch):
    """Parsing is what is fuzzed: stop before an accepted command would actually run experiments."""
    class Reached(Exception):
        pass

    def stop(*args, **kwargs):
        raise Reached

    monkeypatch.setattr("dltheory.lab.runner.run_sweep", stop)
    monkeypatch.setattr("dltheory.report.html.build_report", stop)
    monkeypatch.setattr("dltheory.lab.executors.make_executor", lambda *a, **k: stop())
    return Reached


argv_tokens = st.one_of(
    st.sampled_from(["run", "reproduce", "report", "list", "criticality", "kernel", "--scale", "--seed", "--set",
                     "--out", "--only", "--executor", "--workers", "--scheduler", "--force", "--quick", "--full",
                     "--depth", "--cw", "--cb", "--activation", "--inputs", "--help", "-x", "--", "n=3",
                     "widths=[1,2]", "no_such=1", "dask", "serial", "local", "tcp://127.0.0.1:1", "-1", "0", "2",
                     "nan", "toy-a", "relu", "/nonexistent"]),
    st.text(min_size=0, max_size=8).filter(lambda s: "\x00" not in s),
)


@settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(argv=st.lists(argv_tokens, min_size=0, max_size=6))
def test_random_argv_exits_0_or_2_without_traceback(argv, no_run, monkeypatch, capsys):
    if "kernel" in argv:  # keep the fuzzed kernel small: its depth and inputs are its own business
        argv = [a for a in argv if a not in ("--depth", "--inputs")]
    monkeypatch.setattr(sys, "argv", ["dltheory", *argv])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except no_run:
        return  # the input was valid: parsing reached the point of running experiments
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err[-500:])
    assert "Traceback" not in out + err, argv
    if code == 2:
        assert (out + err).strip(), argv  # a message (or, for no arguments, the help)


@pytest.mark.parametrize("argv", [
    ["run", "toy-a", "--set", "n=[1,2", "--executor", "threads"],
    pytest.param(["reproduce", "--only", "no-such-experiment"], marks=pytest.mark.slow),
    pytest.param(["run", "toy-a", "--set", "n=1e400"], marks=pytest.mark.slow),
    pytest.param(["reproduce", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], marks=pytest.mark.slow),
])
def test_bad_input_in_a_real_process_exits_2(argv):
    env = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys"}
    out = subprocess.run([sys.executable, "-m", "dltheory.cli", *argv], capture_output=True, text=True, timeout=120,
                         env=env, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr and out.stderr.strip()
