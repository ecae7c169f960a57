"""The ``kernel`` command's inputs are bounded before they allocate (issue 13 item 5)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.lab.inputs import (
    KERNEL_OPTIONS,
    KERNEL_TIME_LIMIT_S,
    MAX_INPUTS,
    check_kernel_estimate,
    check_kernel_options,
    kernel_estimate,
    read_inputs,
)
from dltheory.lab.resources import GIB, check_resources

ROOT = Path(__file__).resolve().parents[2]


def _header_only(path: Path, shape, body: bytes = b"") -> Path:
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})
        fh.write(body)
    return path


def test_every_kernel_option_declares_a_maximum():
    for option, constraint in KERNEL_OPTIONS.items():
        assert constraint.above_maximum(), option
        for bad in constraint.above_maximum():
            with pytest.raises(DLTheoryError, match=f"^{option} must be"):
                constraint.coerce(bad, option)


def test_options_are_checked_before_the_activation_is_resolved(monkeypatch):
    import dltheory.lab.constraints as constraints

    def boom(name):
        raise AssertionError("the activation registry was consulted before --depth was checked")

    monkeypatch.setattr(constraints, "_resolve_activation", boom)
    with pytest.raises(DLTheoryError, match=r"--depth must be an int in \[1, 100_000\]; got 1000000000"):
        check_kernel_options(activation="relu", depth=10**9, cb=0.0, cw=2.0, lambda_b=1.0, lambda_w=1.0)


@pytest.mark.parametrize("make, match", [
    (lambda p: p.write_bytes(b""), "not a .npy array file"),
    (lambda p: np.save(p, np.array([["a", "b"]])), "real numbers"),
    (lambda p: np.save(p, np.ones((2, 2)) + 1j), "real numbers"),
    (lambda p: np.save(p, np.zeros(2, dtype=[("a", "<f8")])), "real numbers"),
    (lambda p: np.save(p, np.ones(3)), "shape"),
    (lambda p: np.save(p, np.ones((MAX_INPUTS + 1, 2))), "shape"),
    (lambda p: _header_only(p, (10**12, 10**6)), "shape"),
    (lambda p: _header_only(p, (100, 10), b"\0" * 80), "truncated"),
    (lambda p: np.save(p, np.array([[1.0, np.inf]])), "non-finite"),
])
def test_bad_input_files_are_refused_from_their_header(tmp_path, make, match):
    path = tmp_path / "x.npy"
    make(path)
    with pytest.raises(DLTheoryError, match=match) as info:
        read_inputs(path)
    assert "\n" not in str(info.value) and str(info.value).startswith("--inputs: ")


def test_npz_and_missing_files(tmp_path):
    np.savez(tmp_path / "x.npz", x=np.ones((2, 2)))
    with pytest.raises(DLTheoryError, match="not a .npy array file"):
        read_inputs(tmp_path / "x.npz")
    with pytest.raises(DLTheoryError, match="no such file"):
        read_inputs(tmp_path / "missing.npy")
    np.save(tmp_path / "ok.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    x = read_inputs(tmp_path / "ok.npy")
    assert x.dtype == np.float64 and x.shape == (2, 3)


def test_kernel_estimate_scales_with_depth_and_inputs():
    small = kernel_estimate(10, 2, 4, closed_form=True)
    assert small.memory_bytes < GIB and small.seconds < 1
    deep = kernel_estimate(100_000, 4096, 10, closed_form=True)
    assert deep.memory_bytes == pytest.approx(2 * 100_000 * 4096**2 * 8, rel=0.01)  # K and Θ
    with pytest.raises(DLTheoryError, match=r"dltheory kernel would need .* make --depth or --inputs \(P\) smaller"):
        check_resources("dltheory kernel", deep, memory_available=24 * GIB)
    slow = kernel_estimate(100_000, 64, 10, closed_form=False)
    assert slow.seconds > KERNEL_TIME_LIMIT_S
    with pytest.raises(DLTheoryError, match="limit of 10 min"):
        check_kernel_estimate("tanh", 100_000, 64, 10, allow_large=False)
    check_kernel_estimate("tanh", 100_000, 64, 10, allow_large=True)


def _kernel(*args, cwd):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "dltheory.cli", "kernel", *args], capture_output=True, text=True,
                         timeout=300, cwd=cwd)
    return out, time.perf_counter() - t0


@pytest.mark.parametrize("args, match", [
    (["--depth", "1000000000"], "--depth must be an int"),
    (["--activation", "erf", "--cw", "1e300"], "--cw must be a float"),
    (["--activation", "erf", "--cw", "3", "--depth", "3000"], r"NTK Θ overflows at layer 2227 \(erf, C_b = 0, C_W = 3\)"),
])
def test_kernel_command_refuses_in_one_line(tmp_path, args, match):
    out, _ = _kernel(*args, "--save", str(tmp_path / "k.npz"), cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert re.search(match, lines[0]), lines[0]
    assert not (tmp_path / "k.npz").exists()  # nothing saved


def test_thirty_thousand_inputs_are_refused_before_they_are_read(tmp_path):
    np.save(tmp_path / "big.npy", np.ones((30_000, 2)))
    out, _ = _kernel("--inputs", str(tmp_path / "big.npy"), cwd=tmp_path)
    assert out.returncode == 2 and "got shape (30000, 2)" in out.stderr, out.stderr
