"""Ctrl-C in `dltheory reproduce` stops within 2 s, keeps the finished tasks, says so, and a re-run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys,tests.experiments.slow_toy",
       "MPLBACKEND": "Agg"}
ONLY = ["--only", "toy-a", "--only", "toy-b", "--only", "toy-slow-1", "--only", "toy-slow-2"]


def test_sigint_stops_reproduce_within_two_seconds_and_keeps_finished_tasks(tmp_path):
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "dltheory.cli", "reproduce", "--out", str(out), "--workers", "2", *ONLY]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while sum(" done in " in line for line in lines) < 2:  # the two quick toys; the slow ones sleep 120 s
            assert proc.poll() is None and time.monotonic() < deadline, ("".join(lines), proc.stderr.read())
            time.sleep(0.05)
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)  # to the driver only: it must stop its workers itself
        code = proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert code == 130, err
    assert took <= 2.0, f"exited {took:.2f} s after SIGINT"
    assert "interrupted; 2 of 4 tasks finished and kept; re-run to resume" in err, err
    assert "Traceback" not in err
    resumed = subprocess.run([sys.executable, "-m", "dltheory.cli", "reproduce", "--out", str(out),
                              "--only", "toy-a", "--only", "toy-b"], capture_output=True, text=True, env=ENV,
                             cwd=ROOT, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("valid stored result reused") == 2, resumed.stdout
    assert "2 PASS · 0 FAIL · 0 INCONCLUSIVE" in resumed.stdout and "report: " in resumed.stdout
