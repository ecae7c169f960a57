"""The CLI answers at once: `list`, `--help`, `--version` and a mistyped name import no torch, SciPy or pandas;
output off a terminal is plain and untruncated; a mistyped name gets a "did you mean" on one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dltheory.experiments.catalog import BUILTIN

HEAVY = ("torch", "scipy", "pandas", "matplotlib")
ENV = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}


def cli(*args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "dltheory.cli", *args], capture_output=True, text=True,
                          env=ENV, timeout=120)


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in stderr.splitlines()
            if line.startswith("import time")}


@pytest.mark.parametrize("args", [["list"], ["--help"], ["--version"], ["run", "kernel-propogation"],
                                  ["show", "critcality"], ["reproduce", "--only", "criticality", "--only", "nope"],
                                  ["list", "--format", "json"]])
def test_fast_paths_import_no_heavy_module(args):
    out = cli(*args, importtime=True)
    heavy = sorted(_imported(out.stderr) & set(HEAVY))
    assert heavy == [], f"`dltheory {' '.join(args)}` imported {heavy}"


def test_list_is_plain_and_untruncated_off_a_terminal():
    out = cli("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["name", "pillar", "title"]
    assert "│" not in out.stdout and "…" not in out.stdout  # no box drawing, no ellipsis
    for entry in BUILTIN.values():
        assert any(line.startswith(entry.name + " ") and line.rstrip().endswith(entry.title) for line in lines), entry
    listed = json.loads(cli("list", "--format", "json").stdout)
    assert [e["name"] for e in listed] == list(BUILTIN)
    assert {"name", "pillar", "title", "source", "module"} <= set(listed[0])


def test_version_and_help():
    from dltheory import __version__

    assert cli("--version").stdout.strip() == f"dltheory {__version__}"
    help_text = cli("--help").stdout
    for command in ("list", "show", "results", "run", "reproduce", "report"):
        assert command in help_text


@pytest.mark.parametrize("args,suggestion", [
    (["run", "kernel-propogation"], "did you mean 'kernel-propagation'"),
    (["show", "critcality"], "did you mean 'criticality'"),
    (["reproduce", "--only", "lazy-vs-ritch"], "did you mean 'lazy-vs-rich'"),
])
def test_mistyped_names_get_a_suggestion_on_one_line(args, suggestion):
    out = cli(*args)
    assert out.returncode == 2 and suggestion in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_bad_format_is_a_one_line_error():
    out = cli("list", "--format", "xml")
    assert out.returncode == 2 and "--format must be one of table, plain, json" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_show_prints_every_field_with_quick_full_and_constraint(tmp_path):
    from dltheory.experiments import get_experiment
    from dltheory.lab.constraints import constraints_of

    out = cli("show", "kernel-propagation", "--format", "json", "--out", str(tmp_path / "no-results"))
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    cls = get_experiment("kernel-propagation").config_cls
    quick, full = cls.quick().to_dict(), cls.full().to_dict()
    assert [f["field"] for f in shown["fields"]] == list(quick)
    for f in shown["fields"]:
        assert f["quick"] == quick[f["field"]] and f["full"] == full[f["field"]]
        assert f["constraint"] == constraints_of(cls)[f["field"]].describe()
    assert shown["wall_time_s"] == {"quick": None, "full": None}  # no results directory here
