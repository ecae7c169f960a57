"""The store under concurrency, kills, tampering and a hostile environment (issue 13 items 1-4)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dltheory.lab.store as store_module
from dltheory.errors import DLTheoryError
from dltheory.lab.runner import make_task, run_sweep
from dltheory.lab.store import STALE_AGE_S, ResultsStore, temp_path, verify_run
from tests.experiments.toys import BROKEN, EXPERIMENTS

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys", "OPENBLAS_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
QUICK = {"sleep_s": 0.0, "n": 50, "n_chunks": 2}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _sweep(root: Path, exps=EXPERIMENTS[:2], seed: int = 0, force: bool = False):
    return run_sweep([make_task(e, seed=seed, overrides=QUICK) for e in exps], out_dir=root, force=force)


def _temps(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.name.endswith(".tmp")]


# -- 1. concurrency ---------------------------------------------------------------------------------
def test_only_temporaries_of_dead_owners_are_cleaned(tmp_path):
    store = ResultsStore(tmp_path)
    store.prepare()
    mine = temp_path(tmp_path / "toy-a")
    assert f"~{os.getpid()}~" in mine.name and mine.name.startswith(".") and mine.name.endswith(".tmp")
    mine.mkdir()
    dead = tmp_path / mine.name.replace(f"~{os.getpid()}~", f"~{_dead_pid()}~")
    dead.mkdir()
    host = mine.name.split("~")[2]
    foreign_young = tmp_path / mine.name.replace(f"~{host}~", "~otherhost~")
    foreign_young.write_bytes(b"x")
    foreign_old = tmp_path / f".toy-b~new~otherhost~{os.getpid()}~0123abcd.tmp"
    foreign_old.write_bytes(b"x")
    unowned_old = tmp_path / "legacy.1234.tmp"
    unowned_old.write_bytes(b"x")
    old = time.time() - STALE_AGE_S - 60
    for p in (foreign_old, unowned_old):
        os.utime(p, (old, old))
    removed = store.clean_stale()
    assert sorted(p.name for p in removed) == sorted([dead.name, foreign_old.name, unowned_old.name])
    assert mine.is_dir() and foreign_young.is_file()  # a live owner's, and another host's recent one, stay


def test_an_old_copy_moved_aside_by_a_killed_process_is_restored(tmp_path):
    (rec,) = _sweep(tmp_path, EXPERIMENTS[:1])
    store = ResultsStore(tmp_path)
    run = store.run_dir(rec.meta["key"])
    aside = temp_path(run, kind="old")
    aside = aside.with_name(aside.name.replace(f"~{os.getpid()}~", f"~{_dead_pid()}~"))
    os.rename(run, aside)  # the fallback swap was killed between its two renames
    store.clean_stale()
    assert store.load_valid(rec.meta["key"])["run_id"] == rec.meta["run_id"] and not _temps(tmp_path)


def _run_concurrent_sweeps(root: Path, n: int, seconds: float) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "tests.lab.store_workers", "sweep", str(root), str(seconds),
                               str(i)], env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(n)]
    finished: dict[str, set[str]] = {}
    n_runs = 0
    for proc in procs:
        out, err = proc.communicate(timeout=120 + 4 * seconds)
        assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]
        report = json.loads(out.strip().splitlines()[-1])
        assert report["rounds"] >= 2
        n_runs += len(report["finished"])
        for key, run_id in report["finished"]:
            finished.setdefault(key, set()).add(run_id)
    print(f"{n} processes finished {n_runs} task runs ({sum(map(len, finished.values()))} distinct) on one directory")
    store = ResultsStore(root)
    runs = {e.name for e in os.scandir(store.runs) if not e.name.startswith(".")}
    assert runs == set(finished)  # every finished task has its run, and nothing else is there
    for key in runs:  # intact, and one of the runs some process finished (none lost half-way)
        verified = store.verify(key)
        assert verified.ok, verified.problem
        assert verified.meta["run_id"] in finished[key]
    for exp in EXPERIMENTS[:3]:
        published = verify_run(root / exp.name, name=exp.name)
        assert published.ok and published.meta["key"] in runs, published.problem
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["checksum"] == store_module.canonical_checksum(manifest)
    assert set(manifest["tasks"]) == runs
    assert not _temps(root)


def test_concurrent_sweeps_on_one_directory_lose_nothing(tmp_path):
    """Three real processes sweep three toys on one directory at once (seeds alternate, every other
    round with --force), each cleaning stale files at start: no crash, every finished run intact."""
    _run_concurrent_sweeps(tmp_path / "results", n=3, seconds=1.0)


@pytest.mark.slow
def test_concurrent_sweeps_on_one_directory_lose_nothing_long(tmp_path):
    _run_concurrent_sweeps(tmp_path / "results", n=6, seconds=30.0)


# -- kill windows under --force ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_no_kill_point_of_a_forced_save_drops_the_run_being_replaced(tmp_path, mode):
    """SIGKILL at every file-system call of a save that replaces a stored run (a fork server)."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    if mode == "exchange":
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        if not store_module.rename_exchange(tmp_path / "a", tmp_path / "b"):
            pytest.skip("renameat2(RENAME_EXCHANGE) is not supported here; the fallback is tested")
        (tmp_path / "a").rmdir()
        (tmp_path / "b").rmdir()
    _sweep(tmp_path, EXPERIMENTS[:1])
    out = subprocess.run([sys.executable, "-m", "tests.lab.store_workers", "killpoints", str(tmp_path), mode],
                         env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["problems"] == []
    assert report["kills"] >= 20


# -- 2. self-verifying results ---------------------------------------------------------------------------
def _rewrite_meta(path: Path, change, recompute: bool = False) -> None:
    meta = json.loads(path.read_text())
    change(meta)
    if recompute:
        meta["checksum"] = store_module.canonical_checksum(meta)
    path.write_text(json.dumps(meta, indent=2))


def _flip_claim(meta):
    meta["claims"][0]["measured"] = 99.0
    meta["claims"][0]["verdict"] = "fail" if meta["claims"][0]["verdict"] == "pass" else "pass"


CORRUPTIONS = {
    "edited claim": lambda run: _rewrite_meta(run / "meta.json", _flip_claim),
    "edited field": lambda run: _rewrite_meta(run / "meta.json", lambda m: m.update(wall_time_s=0.001)),
    "checksum removed": lambda run: _rewrite_meta(run / "meta.json", lambda m: m.pop("checksum")),
    "torn meta.json": lambda run: (run / "meta.json").write_bytes((run / "meta.json").read_bytes()[:100]),
    "truncated parquet": lambda run: (run / "table.parquet").write_bytes((run / "table.parquet").read_bytes()[:-7]),
    "junk png": lambda run: (run / "chunk_means.png").write_bytes(os.urandom(2000)),
    "png replaced by a link to a copy": lambda run: (
        shutil.copy(run / "chunk_means.png", run.parent / "elsewhere.png"), (run / "chunk_means.png").unlink(),
        (run / "chunk_means.png").symlink_to(run.parent / "elsewhere.png")),
    "figure name ../ with recomputed checksum": lambda run: _rewrite_meta(
        run / "meta.json", lambda m: m.update(figures=["../elsewhere"]), recompute=True),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_every_corruption_of_a_stored_run_is_detected_and_redone(tmp_path, corruption):
    (rec,) = _sweep(tmp_path, EXPERIMENTS[:1])
    store = ResultsStore(tmp_path)
    key = rec.meta["key"]
    CORRUPTIONS[corruption](store.run_dir(key))
    problem = store.verify(key).problem
    assert problem is not None  # detected
    (again,) = _sweep(tmp_path, EXPERIMENTS[:1])
    assert again.meta["run_id"] != rec.meta["run_id"]  # redone, not reused
    assert store.verify(key).ok and again.claims == rec.claims


def test_a_corrupt_manifest_is_rebuilt_from_all_run_directories(tmp_path):
    records = _sweep(tmp_path, EXPERIMENTS[:3]) + _sweep(tmp_path, EXPERIMENTS[:2], seed=1)
    keys = {r.meta["key"] for r in records}
    manifest = tmp_path / "manifest.json"
    for damage in (lambda: manifest.write_text("{not json"), lambda: manifest.unlink(),
                   lambda: _rewrite_meta(manifest, lambda m: m["tasks"].popitem())):
        damage()
        assert set(ResultsStore(tmp_path).read_manifest()["tasks"]) == keys
        _sweep(tmp_path, EXPERIMENTS[3:4])  # the next write rebuilds it with every run, not just its own
        keys |= {make_task(EXPERIMENTS[3], seed=0, overrides=QUICK).key}
        saved = json.loads(manifest.read_text())
        assert set(saved["tasks"]) == keys
        assert saved["latest"]["toy-a"] == make_task(EXPERIMENTS[0], seed=1, overrides=QUICK).key


def test_hidden_and_temporary_directories_are_never_results(tmp_path):
    (rec,) = _sweep(tmp_path, EXPERIMENTS[:1])
    for name in (".toy-a~new~h~1~abcdef01.tmp", ".hidden", "toy-z.tmp"):
        shutil.copytree(tmp_path / "toy-a", tmp_path / name)
        shutil.copytree(tmp_path / "toy-a", tmp_path / "runs" / name)
    from dltheory.report import collect_records

    assert [r.meta["name"] for r in collect_records(tmp_path)] == ["toy-a"]
    assert set(ResultsStore(tmp_path).rebuild_manifest()["tasks"]) == {rec.meta["key"]}


# -- 4. the environment ------------------------------------------------------------------------------------
def _cli(*args, cwd=None, user=None, env=None):
    cmd = [sys.executable, "-m", "dltheory.cli", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env or ENV, cwd=cwd or ROOT)
    return out, time.monotonic() - t0


def _one_line_error(out, *needles):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.stderr, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("command", ["run", "reproduce", "report"])
def test_missing_parent_or_a_file_as_results_directory_is_one_line_exit_2(tmp_path, command):
    (tmp_path / "file").write_text("x")
    args = {"run": ["run", "toy-a"], "reproduce": ["reproduce", "--only", "toy-a"], "report": ["report"]}[command]
    out, _ = _cli(*args, "--out", str(tmp_path / "missing" / "results"))
    _one_line_error(out, str(tmp_path / "missing"))
    out, _ = _cli(*args, "--out", str(tmp_path / "file"))
    _one_line_error(out, str(tmp_path / "file"), "not a directory")
    assert sorted(os.listdir(tmp_path)) == ["file"]  # nothing created


def test_a_full_disk_is_one_line_exit_2_and_leaves_nothing_partial(tmp_path, monkeypatch, capsys, request):
    from dltheory import cli

    results = tmp_path / "results"
    _sweep(results, EXPERIMENTS[:1])
    before = sorted(str(p.relative_to(results)) for p in results.rglob("*"))
    real_write = os.write

    def full(fd, data):
        if fd > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    from dltheory.experiments.registry import all_experiments

    monkeypatch.setenv("DLTHEORY_EXTRA_EXPERIMENTS", "tests.experiments.toys")
    all_experiments.cache_clear()  # registered with the toys for this test only
    request.addfinalizer(all_experiments.cache_clear)
    monkeypatch.setattr(os, "write", full)
    for argv in (["run", "toy-b", "--out", str(results), "--executor", "serial", "--set", "sleep_s=0"],
                 ["run", "toy-a", "--out", str(results), "--executor", "serial", "--set", "sleep_s=0", "--set", "n=50",
                  "--set", "n_chunks=2", "--force"],
                 ["report", "--out", str(results)]):
        monkeypatch.setattr(sys, "argv", ["dltheory", *argv])
        with pytest.raises(SystemExit) as exc:
            cli.main()
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and "No space left on device" in err[0], err
        assert str(results) in err[0]
    monkeypatch.setattr(os, "write", real_write)
    assert sorted(str(p.relative_to(results)) for p in results.rglob("*")) == before  # nothing partial
    assert not _temps(results)


def _reader_uid():
    """Run as another user that cannot write the results (root ignores permissions)."""
    if os.geteuid() != 0:
        return None
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a directory read-only for the test")
    return 65534


def test_a_read_only_results_directory_serves_valid_results_and_fails_cleanly_otherwise(tmp_path):
    base = Path(os.environ.get("TMPDIR", "/tmp"))
    work = Path(__import__("tempfile").mkdtemp(dir=base))
    try:
        os.chmod(work, 0o755)
        results = work / "results"
        # the canonical run (a --set run would be an exploration run, not published to the report)
        out, _ = _cli("run", "toy-a", "--out", str(results), "--executor", "serial")
        assert out.returncode == 0, out.stderr
        before = {str(p): p.stat().st_mtime_ns for p in results.rglob("*")}
        user = _reader_uid()
        if user is None:
            for p in [results, *results.rglob("*")]:
                os.chmod(p, 0o555 if p.is_dir() else 0o444)
        env = {**ENV, "MPLCONFIGDIR": str(work / "mpl"), "HOME": str(work)}
        (work / "mpl").mkdir(mode=0o777)
        os.chmod(work / "mpl", 0o777)
        # valid stored result: verified and reused, nothing written, exit 0
        out, _ = _cli("run", "toy-a", "--out", str(results), "--executor", "serial", user=user, env=env)
        assert out.returncode == 0, out.stderr
        assert "valid stored result reused" in out.stdout and "read-only" in out.stdout
        # no stored result: one line naming the directory and the cause, before running anything
        out, elapsed = _cli("run", "toy-a", "--seed", "7", "--out", str(results), "--executor", "serial",
                            user=user, env=env)
        _one_line_error(out, str(results), "not writable")
        out, _ = _cli("report", "--out", str(results), user=user, env=env)
        _one_line_error(out, "report.html", "--output")
        out, _ = _cli("report", "--out", str(results), "--output", str(work / "mpl" / "r.html"), user=user, env=env)
        assert out.returncode == 0 and (work / "mpl" / "r.html").is_file(), out.stderr
        assert {str(p): p.stat().st_mtime_ns for p in results.rglob("*")} == before
    finally:
        for p in [work, *work.rglob("*")]:
            if not p.is_symlink():
                os.chmod(p, 0o755)
        shutil.rmtree(work)


def test_an_errored_experiment_makes_run_exit_1(tmp_path):
    env = {**ENV, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys,tests.experiments.broken_toy"}
    out, _ = _cli("run", BROKEN.name, "--out", str(tmp_path / "r"), "--executor", "serial", env=env)
    assert out.returncode == 1 and "toy failure" in out.stderr, (out.stdout, out.stderr)
    assert (tmp_path / "r" / "report.html").is_file()


def test_unwritable_results_need_not_be_reached_when_everything_is_stored(tmp_path, monkeypatch):
    """In-process check of the same decision: a read-only store reuses and refuses to write."""
    _sweep(tmp_path, EXPERIMENTS[:2])
    monkeypatch.setattr(ResultsStore, "prepare", lambda self: setattr(self, "readonly_cause", "Read-only file system")
                        or setattr(self, "writable", False) or False)
    records = _sweep(tmp_path, EXPERIMENTS[:2])
    assert all(r.directory.parent.name == "runs" for r in records)
    with pytest.raises(DLTheoryError, match="not writable .Read-only file system.; 1 task"):
        _sweep(tmp_path, EXPERIMENTS[:3])


def test_a_damaged_published_copy_is_replaced_from_the_verified_run_on_reuse(tmp_path):
    (rec,) = _sweep(tmp_path, EXPERIMENTS[:1])
    _rewrite_meta(tmp_path / "toy-a" / "meta.json", _flip_claim)
    (tmp_path / "toy-a" / "extra.png").write_bytes(b"planted")
    assert not verify_run(tmp_path / "toy-a", name="toy-a").ok
    (again,) = _sweep(tmp_path, EXPERIMENTS[:1])
    assert again.meta["run_id"] == rec.meta["run_id"]  # the stored run is valid: reused, not redone
    published = verify_run(tmp_path / "toy-a", name="toy-a")
    assert published.ok and published.meta["run_id"] == rec.meta["run_id"]
    assert not (tmp_path / "toy-a" / "extra.png").exists()
