"""The results store: content hashes, validity checks, skip-if-valid, --force, and SIGKILL resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dltheory.lab.executors import SerialExecutor
from dltheory.lab.runner import make_task, run_experiment, run_sweep
from dltheory.lab.store import ResultsStore, code_version, task_key
from tests.experiments.toys import BROKEN, EXPERIMENTS

ROOT = Path(__file__).resolve().parents[2]


def test_key_depends_on_every_part_of_the_identity():
    base = task_key("a", {"n": 1, "w": [1, 2]}, "0.1.0+abc", 0)
    assert base == task_key("a", {"w": [1, 2], "n": 1}, "0.1.0+abc", 0)  # field order is irrelevant
    others = [task_key("b", {"n": 1, "w": [1, 2]}, "0.1.0+abc", 0), task_key("a", {"n": 2, "w": [1, 2]}, "0.1.0+abc", 0),
              task_key("a", {"n": 1, "w": [1, 2]}, "0.1.0+abd", 0), task_key("a", {"n": 1, "w": [1, 2]}, "0.1.0+abc", 1)]
    assert len({base, *others}) == 5
    cv = code_version(EXPERIMENTS[0])
    assert cv.startswith("0.1.0+") and len(cv.split("+")[1]) == 12


def test_task_key_covers_the_whole_library(tmp_path):
    """Editing a function in dltheory/effective/ (in a copy of the package) changes kernel-propagation's key."""
    import shutil

    import dltheory

    task = make_task("kernel-propagation")
    copy = tmp_path / "dltheory"
    shutil.copytree(Path(dltheory.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def key_with(package_dir):
        return task_key(task.experiment.name, task.config.to_dict(), code_version(task.experiment, package_dir),
                        task.seed)

    assert key_with(copy) == task.key  # an unedited copy hashes like the installed package
    target = copy / "effective" / "kernels.py"
    source = target.read_text()
    assert "\ndef " in source
    target.write_text(source.replace("\ndef ", "\ndef added_by_the_test():\n    return 1\n\n\ndef ", 1))
    assert key_with(copy) != task.key
    target.write_text(source.replace("return", "return  ", 1))  # a whitespace edit inside a function body
    assert key_with(copy) != task.key
    target.write_text(source)
    assert key_with(copy) == task.key


def test_sweep_skips_valid_results_and_force_redoes_them(tmp_path):
    tasks = [make_task(e, seed=1, overrides={"sleep_s": 0.0}) for e in EXPERIMENTS[:2]]
    first = run_sweep(tasks, out_dir=tmp_path)
    again = run_sweep(tasks, out_dir=tmp_path)
    assert [r.meta["run_id"] for r in again] == [r.meta["run_id"] for r in first]
    forced = run_sweep(tasks, out_dir=tmp_path, force=True)
    assert all(a.meta["run_id"] != b.meta["run_id"] for a, b in zip(first, forced, strict=True))
    assert [r.claims for r in forced] == [r.claims for r in first]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["tasks"]) == {t.key for t in tasks}
    assert manifest["latest"] == {t.experiment.name: t.key for t in tasks}
    # a new seed is a new task; the published copy follows the latest run
    other = run_experiment(EXPERIMENTS[0], seed=2, out_dir=tmp_path, overrides={"sleep_s": 0.0})
    assert other.meta["key"] != tasks[0].key and (tmp_path / "runs" / tasks[0].key).is_dir()
    assert json.loads((tmp_path / "toy-a" / "meta.json").read_text())["seed"] == 2


def test_corrupt_or_tampered_results_are_invalid_and_rerun(tmp_path):
    task = make_task(EXPERIMENTS[0], seed=0, overrides={"sleep_s": 0.0})
    (rec,) = run_sweep([task], out_dir=tmp_path)
    store = ResultsStore(tmp_path)
    run = store.run_dir(task.key)
    assert store.load_valid(task.key) is not None
    png = run / "chunk_means.png"
    png.write_bytes(png.read_bytes()[:-10])  # truncated figure
    assert store.load_valid(task.key) is None
    (rec2,) = run_sweep([task], out_dir=tmp_path)
    assert rec2.meta["run_id"] != rec.meta["run_id"] and store.load_valid(task.key) is not None
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "seed": 5}))  # identity no longer matches the key
    assert store.load_valid(task.key) is None
    (run / "meta.json").write_text(json.dumps(meta)[:50])  # torn JSON
    assert store.load_valid(task.key) is None
    (run / "table.parquet").unlink()
    (run / "meta.json").write_text(json.dumps(meta))
    assert store.load_valid(task.key) is None


def test_errored_tasks_are_recorded_and_retried(tmp_path):
    task = make_task(BROKEN, seed=0)
    (rec,) = run_sweep([task], out_dir=tmp_path)
    assert not rec.ok and "toy failure" in rec.meta["error"]
    (rec2,) = run_sweep([task], out_dir=tmp_path)
    assert rec2.meta["run_id"] != rec.meta["run_id"]


def _valid_runs(results: Path) -> dict[str, str]:
    store = ResultsStore(results)
    out = {}
    if store.runs.is_dir():
        for d in store.runs.iterdir():
            meta = store.load_valid(d.name)
            if meta is not None:
                out[d.name] = meta["run_id"]
    return out


@pytest.mark.parametrize("executor", ["serial", pytest.param("local", marks=pytest.mark.slow)])
def test_sigkill_mid_sweep_loses_no_finished_task_and_leaves_no_corrupt_file(tmp_path, executor):
    """A real `dltheory reproduce` subprocess killed with SIGKILL mid-sweep, then resumed."""
    env = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    results = tmp_path / "results"
    only = [a for e in EXPERIMENTS for a in ("--only", e.name)]
    cmd = [sys.executable, "-m", "dltheory.cli", "reproduce", "--out", str(results), "--executor", executor,
           "--workers", "2", *only]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(_valid_runs(results)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    finished = _valid_runs(results)
    assert 2 <= len(finished) < len(EXPERIMENTS)
    mtimes = {k: (results / "runs" / k / "meta.json").stat().st_mtime_ns for k in finished}

    out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("valid stored result reused") == len(finished)
    after = _valid_runs(results)
    assert len(after) == len(EXPERIMENTS)
    assert {k: after[k] for k in finished} == finished  # finished tasks were not redone
    assert {k: (results / "runs" / k / "meta.json").stat().st_mtime_ns for k in finished} == mtimes
    assert not [p for p in results.rglob("*") if p.name.endswith(".tmp")]
    for meta in results.rglob("meta.json"):
        json.loads(meta.read_text())  # every meta.json parses
    manifest = json.loads((results / "manifest.json").read_text())
    assert set(manifest["tasks"]) == set(after) and (results / "report.html").is_file()
