"""Your own experiments: a package declaring one in the ``dltheory.experiments`` entry-point group is found by
``dltheory list``, runs, and appears in the report and in ``dltheory results``; exploring it with ``--set``
leaves the canonical report's counts unchanged.

The plug-in is ``tests/plugin_pkg``: a package and the ``.dist-info`` that ``pip install`` would write
(``entry_points.txt``), made visible to a subprocess through ``PYTHONPATH`` only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments.registry import _load_entry_point

PLUGIN_PATH = Path(__file__).resolve().parent / "plugin_pkg"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_PATH), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "dltheory.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def _totals(report: Path) -> tuple[int, int, int]:
    html = report.read_text(encoding="utf-8")
    found = re.search(r'id="totals".*?(\d+) PASS.*?(\d+) FAIL.*?(\d+) INCONCLUSIVE', html, flags=re.DOTALL)
    assert found, "no verdict totals in the report"
    return tuple(int(g) for g in found.groups())  # type: ignore[return-value]


def test_plugin_is_listed_run_reported_and_exploration_leaves_the_report(tmp_path):
    out = tmp_path / "results"
    listed = cli("list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^demo-plugin\s+plugin\s+plug-in from dltheory-demo-plugin", listed.stdout, flags=re.M)

    ran = cli("run", "demo-plugin", "--out", str(out), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "1 PASS · 0 FAIL · 0 INCONCLUSIVE" in ran.stdout and "report:" in ran.stdout
    report = out / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "Demo plug-in: the mean of Gaussian draws is 0" in html and "mean-is-zero" in html
    assert _totals(report) == (1, 0, 0) and 'id="scope"><b>Scale: quick</b>' in html

    # n = 100 draws: the claim has no power (INCONCLUSIVE); as an exploration it must not touch the report
    explored = cli("run", "demo-plugin", "--out", str(out), "--set", "n=100", cwd=tmp_path)
    assert explored.returncode == 0, explored.stderr
    assert "0 PASS · 0 FAIL · 1 INCONCLUSIVE" in explored.stdout and "exploration run" in explored.stdout
    label = re.search(r"stored as (demo-plugin@[0-9a-f]{12})", explored.stdout).group(1)
    assert _totals(report) == (1, 0, 0)
    full = cli("run", "demo-plugin", "--out", str(out), "--scale", "full", cwd=tmp_path)
    assert full.returncode == 0 and "scale full (the report's is quick)" in full.stdout
    assert _totals(report) == (1, 0, 0) and "Scale: quick</b>" in report.read_text(encoding="utf-8")

    canonical = json.loads(cli("results", "--out", str(out), "--format", "json", cwd=tmp_path).stdout)
    assert [(r["experiment"], r["verdict"], r["canonical"]) for r in canonical] == [("demo-plugin", "pass", True)]
    everything = json.loads(cli("results", "--out", str(out), "--format", "json", "--all", cwd=tmp_path).stdout)
    assert sorted(r["verdict"] for r in everything) == ["inconclusive", "pass", "pass"]

    shown = cli("report", "--out", str(out), "--include", label, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    html = report.read_text(encoding="utf-8")
    assert _totals(report) == (1, 0, 0)  # an extra is never counted
    assert "Exploration runs (shown on request, not counted)" in html and label in html and "n=100" in html

    show = cli("show", "demo-plugin", "--out", str(out), cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    assert re.search(r"measured wall time in .*: quick [0-9.]+ s, full [0-9.]+ s", show.stdout), show.stdout
    assert re.search(r"^n\s+5000\s+20000\s+an int in \[10, 10_000_000\]", show.stdout, flags=re.M), show.stdout


def test_entry_point_must_carry_the_experiment_name():
    wrong = EntryPoint(name="not-its-name", value="tests.experiments.toys:BROKEN", group="dltheory.experiments")
    with pytest.raises(DLTheoryError, match="the experiment is called 'toy-broken'"):
        _load_entry_point(wrong)
    missing = EntryPoint(name="gone", value="no_such_module_dltheory", group="dltheory.experiments")
    with pytest.raises(DLTheoryError, match="cannot load it"):
        _load_entry_point(missing)
    not_one = EntryPoint(name="numbers", value="math", group="dltheory.experiments")
    with pytest.raises(DLTheoryError, match="neither an Experiment nor a module defining EXPERIMENT"):
        _load_entry_point(not_one)
