"""Running experiments and saving what they return, with provenance.

Layout of a run directory (default ``results/``)::

    results/<experiment>/table.parquet   tidy results
    results/<experiment>/meta.json       config, claims, seed, versions, machine, wall time
    results/<experiment>/<figure>.png    figures
    results/report.html                  written by :mod:`dltheory.report`
"""

from __future__ import annotations

import json
import os
import platform
import time
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dltheory.errors import DLTheoryError
from dltheory.experiments.base import Experiment, Outcome, json_ready
from dltheory.experiments.registry import get_experiment

__all__ = ["RunRecord", "experiment_rng", "provenance", "run_experiment", "load_record"]


@dataclass
class RunRecord:
    """The saved form of one experiment run (what ``meta.json`` holds)."""

    meta: dict[str, Any]
    directory: Path

    @property
    def ok(self) -> bool:
        return self.meta.get("status") == "ok"

    @property
    def claims(self) -> list[dict[str, Any]]:
        return list(self.meta.get("claims", []))


def experiment_rng(seed: int, name: str) -> np.random.Generator:
    """Independent generator for experiment ``name`` under the global ``seed``."""
    if seed < 0:
        raise DLTheoryError(f"seed must be a non-negative integer; got {seed}")
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def provenance() -> dict[str, Any]:
    """Versions of the libraries that produce numbers, and the machine."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("dltheory", "numpy", "scipy", "torch", "pandas", "matplotlib", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
    }


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _save_outcome(outcome: Outcome, directory: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(directory / "table.parquet", lambda p: outcome.table.to_parquet(p, index=False))
    names = []
    for name, fig in outcome.figures.items():
        _write_atomic(directory / f"{name}.png", lambda p, f=fig: f.savefig(p, format="png", dpi=110, bbox_inches="tight"))
        plt.close(fig)
        names.append(name)
    return names


def run_experiment(
    experiment: str | Experiment,
    scale: str = "quick",
    seed: int = 0,
    out_dir: str | os.PathLike = "results",
    overrides: dict[str, Any] | None = None,
    catch_errors: bool = False,
) -> RunRecord:
    """Run one experiment and save its table, figures and ``meta.json`` under ``out_dir/<name>``.

    Parameters
    ----------
    experiment : str or Experiment
    scale : {"quick", "full"}
    seed : int
        Global seed; the experiment's generator is derived from it and the experiment's name.
    out_dir : path
    overrides : dict, optional
        Config fields to change (validated).
    catch_errors : bool
        If true, an exception inside ``run`` is recorded in ``meta.json`` (status ``"error"``,
        with its traceback) instead of propagating, so a reproduce run carries on.
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    config = exp.config(scale, **(overrides or {}))
    directory = Path(out_dir) / exp.name
    meta: dict[str, Any] = {
        "name": exp.name,
        "title": exp.title,
        "pillar": exp.pillar,
        "description": exp.description,
        "scale": scale,
        "seed": seed,
        "config": config.to_dict(),
        **provenance(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    t0 = time.perf_counter()
    try:
        outcome = exp.run(config, experiment_rng(seed, exp.name))
        if not isinstance(outcome, Outcome):
            raise TypeError(f"{exp.name}.run returned {type(outcome).__name__}, expected Outcome")
        meta["wall_time_s"] = time.perf_counter() - t0
        meta["figures"] = _save_outcome(outcome, directory)
        meta["claims"] = [c.to_dict() for c in outcome.claims]
        meta["notes"] = list(outcome.notes)
        meta["status"] = "ok"
    except DLTheoryError:
        raise
    except Exception as exc:  # recorded, so one broken experiment does not hide the others
        if not catch_errors:
            raise
        meta["wall_time_s"] = time.perf_counter() - t0
        meta.update(status="error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(),
                    claims=[], figures=[], notes=[])
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json_ready(meta), indent=2)
    _write_atomic(directory / "meta.json", lambda p: p.write_text(text))
    return RunRecord(meta=meta, directory=directory)


def load_record(directory: str | os.PathLike) -> RunRecord:
    """Read a saved run from its directory."""
    directory = Path(directory)
    path = directory / "meta.json"
    if not path.is_file():
        raise DLTheoryError(f"no experiment results in {directory} (missing meta.json)")
    return RunRecord(meta=json.loads(path.read_text()), directory=directory)
