"""Processes for the store's safety tests (run as ``python -m tests.lab.store_workers MODE ...``).

``sweep ROOT SECONDS SEED``
    Run sweeps of three toy experiments on ROOT until SECONDS have passed (at least two rounds),
    alternating seeds and ``force``; print one JSON line: the (key, run_id) of every finished run.
``killpoints ROOT MODE``
    A single-threaded fork server: for k = 1, 2, ... fork a child that re-saves the stored toy run
    (same key, new run id) and SIGKILLs itself at its k-th file-system call; after each kill,
    clean up as a new process would and check that the run and its published copy are intact (old
    or new, never neither). MODE ``exchange`` uses ``renameat2``; ``fallback`` the move-aside path.
    Prints one JSON line with the number of kill points and any problems.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def sweep(root: str, seconds: float, seed: int) -> None:
    from dltheory.lab.runner import make_task, run_sweep
    from tests.experiments.toys import EXPERIMENTS

    finished = []
    start, rounds = time.monotonic(), 0
    while rounds < 2 or time.monotonic() - start < seconds:
        tasks = [make_task(e, seed=(seed + rounds) % 2, overrides={"sleep_s": 0.0, "n": 50, "n_chunks": 2})
                 for e in EXPERIMENTS[:3]]
        for rec in run_sweep(tasks, out_dir=root, force=rounds % 2 == 1):
            assert rec.ok, rec.meta.get("error")
            finished.append((rec.meta["key"], rec.meta["run_id"]))
        rounds += 1
    print(json.dumps({"finished": finished, "rounds": rounds}))


_CALLS = ("open", "write", "fsync", "close", "rename", "replace", "mkdir", "unlink", "rmdir", "scandir", "lstat")


def _arm(k: int) -> None:
    """In a child: SIGKILL this process at its k-th call of a file-system function."""
    import dltheory.lab.store as store

    count = [0]

    def wrap(fn):
        def wrapped(*args, **kwargs):
            count[0] += 1
            if count[0] == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapped

    for name in _CALLS:
        setattr(os, name, wrap(getattr(os, name)))
    store.rename_exchange = wrap(store.rename_exchange)


def killpoints(root: str, mode: str) -> None:
    import uuid

    import dltheory.lab.store as store

    results = store.ResultsStore(root)
    results.prepare()
    (key,) = [e.name for e in os.scandir(results.runs) if not e.name.startswith(".")]
    base = results.verify(key)
    meta = {k: v for k, v in base.meta.items() if k not in ("files", "checksum")}
    known = {base.meta["run_id"]}
    problems, kills = [], 0
    for k in range(1, 500):
        run_id = uuid.uuid4().hex
        known.add(run_id)
        pid = os.fork()
        if pid == 0:  # child: never returns
            try:
                if mode == "fallback":
                    store.rename_exchange = lambda a, b: False
                _arm(k)
                store.ResultsStore(root).save({**meta, "run_id": run_id}, base.files)
                os._exit(0)
            except BaseException:  # noqa: BLE001
                os._exit(3)
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status):
            if os.WEXITSTATUS(status) != 0:
                problems.append(f"k={k}: child exited {os.WEXITSTATUS(status)}")
            break
        kills += 1
        results.clean_stale()  # what the next run does first
        run = results.verify(key)
        published = store.verify_run(results.root / meta["name"], name=meta["name"])
        if not run.ok or run.meta["run_id"] not in known:
            problems.append(f"k={k}: run lost or corrupt: {run.problem}")
        if os.path.lexists(published.directory) and (not published.ok or published.meta["run_id"] not in known):
            problems.append(f"k={k}: published copy corrupt: {published.problem}")
        manifest = results.read_manifest()
        if key not in manifest["tasks"]:
            problems.append(f"k={k}: manifest lost the task")
        leftovers = [e.name for d in (results.root, results.runs) for e in os.scandir(d) if e.name.endswith(".tmp")]
        if leftovers:
            problems.append(f"k={k}: temporaries left after clean-up: {leftovers}")
    final = results.verify(key)
    if not final.ok or final.meta["run_id"] != run_id:
        problems.append("the last, uninterrupted save is not the stored run")
    print(json.dumps({"kills": kills, "problems": problems}))


if __name__ == "__main__":
    if sys.argv[1] == "sweep":
        sweep(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "killpoints":
        killpoints(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
