"""Regenerate the stored quick-scale tables that the power test re-evaluates.

    .venv/bin/python -m tests.experiments.make_quick_tables [NAME ...]

For each experiment (all converted ones by default) this runs ``measure`` at quick scale with the
seed-0 generator of ``dltheory reproduce`` and writes ``quick_tables/<name>.parquet`` and
``quick_tables/<name>.json`` (the config). Re-run it for an experiment whenever its ``measure`` or
table layout changes; ``test_power.py``'s slow freshness test says when a stored table is stale.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dltheory.experiments import all_experiments
from dltheory.lab.runner import experiment_rng

DIR = Path(__file__).with_name("quick_tables")


def measure_quick(name: str):
    """``(table, config)`` of experiment ``name`` at quick scale, seed 0."""
    exp = all_experiments()[name]
    config = exp.config("quick")
    assert exp.measure is not None, f"{name} has no measure function"
    return exp.measure(config, experiment_rng(0, name)), config


def main(names: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    experiments = all_experiments()
    names = names or [n for n, e in experiments.items() if e.measure is not None]
    DIR.mkdir(exist_ok=True)
    for name in names:
        t0 = time.perf_counter()
        table, config = measure_quick(name)
        table.to_parquet(DIR / f"{name}.parquet", index=False)
        (DIR / f"{name}.json").write_text(json.dumps({"config": config.to_dict()}, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {len(table)} rows in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
