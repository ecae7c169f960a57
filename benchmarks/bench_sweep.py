"""Sweep throughput: 64 small trainings on the serial executor, the local pool, a 2-worker Dask
LocalCluster, and a re-run of the completed sweep through the results store.

Each task trains a tiny torch MLP (64-32-10, full-batch Adam, 150 steps) on scikit-learn's digits
with its own seed; results go through ``run_sweep`` and the results store exactly as
``dltheory reproduce`` does. Serial runs with torch's default threads; pool and Dask workers with one
thread each. Prints a table; timings on a shared machine are noisy.

Usage: ``.venv/bin/python benchmarks/bench_sweep.py [--tasks 64] [--steps 150]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dltheory.lab.base import Experiment, Outcome, ScaledConfig  # noqa: E402
from dltheory.lab.verdicts import reported  # noqa: E402
from dltheory.lab.constraints import Int, declare  # noqa: E402


@dataclass(frozen=True)
class TrainConfig(ScaledConfig):
    steps: int = declare(150, Int(1, 10_000))
    width: int = declare(32, Int(1, 4096))


def train_digits(config: TrainConfig, rng: np.random.Generator) -> Outcome:
    """One small training: returns final train loss and test accuracy."""
    import torch
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    perm = torch.tensor(rng.permutation(len(x)))
    tr, te = perm[:1400], perm[1400:]
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    model = torch.nn.Sequential(torch.nn.Linear(64, config.width), torch.nn.ReLU(), torch.nn.Linear(config.width, 10))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(config.steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[tr]), y[tr])
        loss.backward()
        opt.step()
    acc = float((model(x[te]).argmax(1) == y[te]).float().mean())
    return Outcome(table=pd.DataFrame({"loss": [float(loss.detach())], "test_acc": [acc]}),
                   claims=[reported("test-acc", "test accuracy", acc, meaning="the MLP learns digits")])


EXPERIMENT = Experiment("bench-train", "effective", "bench", "64 small trainings", TrainConfig, train_digits)


def sweep(executor, out: Path, n: int, steps: int) -> tuple[float, list]:
    from dltheory.lab.runner import make_task, run_sweep

    tasks = [make_task(EXPERIMENT, seed=s, overrides={"steps": steps}) for s in range(n)]
    t0 = time.perf_counter()
    records = run_sweep(tasks, out_dir=out, executor=executor)
    return time.perf_counter() - t0, records


def main() -> None:
    from dltheory.lab.executors import DaskExecutor, LocalPoolExecutor, SerialExecutor

    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--serial-threads", type=int, default=1,
                        help="torch threads of the serial baseline (default 1: a fair per-core baseline; "
                             "torch's default of one thread per core oversubscribes a shared machine)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.serial_threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_serial, serial = sweep(SerialExecutor(), tmp / "serial", args.tasks, args.steps)
        per_task = t_serial / args.tasks
        rows.append((f"serial ({args.serial_threads} torch thread(s))", t_serial, 1.0, ""))
        with LocalPoolExecutor(2) as pool:
            t0 = time.perf_counter()
            list(pool.imap_unordered(abs, [-1, -2]))  # start the workers (spawn + imports)
            t_start = time.perf_counter() - t0
            t_pool, pooled = sweep(pool, tmp / "pool", args.tasks, args.steps)
        rows.append(("local pool, 2 workers (warm)", t_pool, t_serial / t_pool, f"pool start {t_start:.1f} s"))
        rows.append(("local pool, 2 workers (incl. start)", t_pool + t_start, t_serial / (t_pool + t_start), ""))
        t0 = time.perf_counter()
        with DaskExecutor(workers=2) as dask:
            t_cluster = time.perf_counter() - t0
            list(dask.imap_unordered(abs, [-1, -2]))
            t_dask, dasked = sweep(dask, tmp / "dask", args.tasks, args.steps)
            noop = list(range(args.tasks))
            t0 = time.perf_counter()
            list(dask.imap_unordered(abs, noop))
            t_noop = time.perf_counter() - t0
        overhead_ms = (t_dask - t_serial / 2) / args.tasks * 1e3
        rows.append(("dask LocalCluster, 2 workers", t_dask, t_serial / t_dask,
                     f"cluster start {t_cluster:.1f} s; overhead/task vs ideal 2x: {overhead_ms:.0f} ms; "
                     f"no-op round trip {t_noop / args.tasks * 1e3:.1f} ms/task"))
        t_rerun, rerun = sweep(SerialExecutor(), tmp / "serial", args.tasks, args.steps)
        rows.append(("re-run completed sweep (store)", t_rerun, t_serial / t_rerun,
                     f"{100 * t_rerun / t_serial:.2f} % of the first run"))
        same = [r.claims for r in serial] == [r.claims for r in dasked] == [r.claims for r in pooled]
        reused = [r.meta["run_id"] for r in rerun] == [r.meta["run_id"] for r in serial]
    print(f"{args.tasks} trainings, ~{per_task:.2f} s each serially; pool/dask claims identical to serial: {same}; "
          f"re-run reused every result: {reused}")
    print(f"{'executor':38s} {'time (s)':>9s} {'speed-up':>9s}  notes")
    for name, t, speedup, note in rows:
        print(f"{name:38s} {t:9.2f} {speedup:8.2f}x  {note}")


if __name__ == "__main__":
    main()
