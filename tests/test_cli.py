"""The command line: listing, running, reporting, and exit code 2 without traceback on bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def dltheory(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "dltheory.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_list_names_every_experiment():
    from dltheory.experiments import all_experiments

    out = dltheory("list")
    assert out.returncode == 0
    for name in all_experiments():
        assert name[:10] in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["run", "no-such-experiment"],
        ["run"],
        ["run", "criticality", "--seed", "-1"],
        ["run", "criticality", "--set", "nonsense"],
        ["run", "criticality", "--set", "no_such_field=1"],
        ["run", "criticality", "--set", "scale=full"],
        ["run", "criticality", "--set", "self=1"],
        ["run", "criticality", "--set", "law_depth=100000000"],
        ["criticality", "not-an-activation"],
        ["kernel", "--depth", "0"],
        ["kernel", "--cw", "-1"],
        ["kernel", "--activation", "bogus"],
        ["kernel", "--inputs", "/nonexistent.npy"],
        ["report", "--out", "/nonexistent-dir"],
        ["frobnicate"],
    ],
)
def test_bad_input_exits_2_without_traceback(args):
    out = dltheory(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stderr.strip()
    if "--set" in args:  # a config error is one line, however narrow the terminal
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_criticality_prints_gelu_constants():
    out = dltheory("criticality", "gelu")
    assert out.returncode == 0, out.stderr
    assert "half-stable" in out.stdout and "0.172922391" in out.stdout and "1.983058257" in out.stdout


def test_kernel_saves_nngp_and_ntk(tmp_path):
    x = np.array([[1.0, 0.0, 1.0], [0.5, 1.0, -1.0]])
    np.save(tmp_path / "x.npy", x)
    out = dltheory("kernel", "--activation", "tanh", "--depth", "5", "--cb", "0", "--cw", "1",
                   "--inputs", str(tmp_path / "x.npy"), "--save", str(tmp_path / "k.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "k.npz")
    assert saved["nngp"].shape == (5, 2, 2) and saved["ntk"].shape == (5, 2, 2)
    assert np.allclose(saved["nngp"][0], x @ x.T / 3)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([[np.nan, 1.0]]))
    out = dltheory("kernel", "--inputs", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_run_writes_results_and_report(tmp_path):
    out = dltheory("run", "criticality", "--out", str(tmp_path / "res"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "res" / "criticality" / "meta.json").is_file()
    assert (tmp_path / "res" / "report.html").is_file()
