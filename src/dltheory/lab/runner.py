"""Running experiments and saving what they return, with provenance.

Each (experiment, config, seed) is a :class:`Task`; :func:`run_sweep` runs tasks on an executor
(:mod:`dltheory.lab.executors`) through the results store
(:mod:`dltheory.lab.store`), skipping tasks whose valid results are stored.
Layout of a results directory (default ``results/``)::

    results/runs/<key>/...               every task's result, by content hash (exploration runs too)
    results/manifest.json                index of the store
    results/<experiment>/table.parquet   published (canonical) run of each experiment: tidy results
    results/<experiment>/meta.json       config, claims, seed, versions, machine, wall time
    results/<experiment>/<figure>.png    figures
    results/report.html                  written by :mod:`dltheory.report`
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import sys
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from dltheory.errors import DLTheoryError
from dltheory.experiments.registry import get_experiment
from dltheory.lab.base import Claim, Experiment, Outcome, ScaledConfig
from dltheory.lab.executors import Executor, SerialExecutor, TaskFailed, make_executor, use_executor
from dltheory.lab.progress import SweepState, expected_costs, sweep_progress
from dltheory.lab.resources import TIME_LIMIT_S, check_resources
from dltheory.lab.store import ResultsStore, code_version, task_key

__all__ = ["RunRecord", "Task", "check_task_resources", "config_overrides", "execute_task", "experiment_rng",
           "exploration_reason", "load_record", "make_task", "provenance", "run_experiment", "run_sweep"]


@dataclass
class RunRecord:
    """One stored run, read back from its ``meta.json``.

    ``claims`` are typed :class:`~dltheory.lab.base.Claim` objects and :attr:`config` the typed
    config; ``meta`` holds the rest of ``meta.json`` (identity, status, provenance; its ``config``
    entry is the stored JSON form, and it has no ``claims`` entry: use :attr:`claims`).
    Make one with :meth:`from_meta` or :func:`load_record`.
    """

    meta: dict[str, Any]
    directory: Path
    claims: list[Claim] = field(default_factory=list)
    config_cls: type[ScaledConfig] | None = field(default=None, repr=False)
    exploration: str | None = None
    """Why the run was not published to the canonical report (config overrides, another scale), or None."""

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], directory: Path,
                  config_cls: type[ScaledConfig] | None = None) -> RunRecord:
        """The record of the parsed ``meta.json`` ``meta`` stored in ``directory``.

        ``config_cls`` is the experiment's config class (looked up in the registry by name when
        omitted). A malformed ``meta`` is a :class:`DLTheoryError` naming the directory.
        """
        if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
            raise DLTheoryError(f"{directory / 'meta.json'} is not a run record (no experiment name)")
        rest = dict(meta)
        stored = rest.pop("claims", [])
        if not isinstance(stored, list):
            raise DLTheoryError(f"{directory / 'meta.json'}: claims must be a list; got {type(stored).__name__}")
        try:
            claims = [Claim.from_dict(c) for c in stored]
        except DLTheoryError as exc:
            raise DLTheoryError(f"{directory / 'meta.json'}: {exc}") from None
        return cls(meta=rest, directory=Path(directory), claims=claims, config_cls=config_cls)

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def label(self) -> str:
        """``NAME@KEY12``: how ``dltheory report --include`` and :func:`dltheory.load_table` name this run."""
        return f"{self.name}@{str(self.meta.get('key', ''))[:12]}"

    @property
    def overrides(self) -> dict[str, Any]:
        """Config fields that differ from the run's scale (stored in ``meta.json``; computed for older runs)."""
        stored = self.meta.get("overrides")
        if isinstance(stored, dict):
            return stored
        config, scale = self.config, self.meta.get("scale")
        if config is None or scale not in ("quick", "full"):
            return {}
        return config_overrides(config, scale)

    @property
    def ok(self) -> bool:
        return self.meta.get("status") == "ok"

    @property
    def error(self) -> str | None:
        """``"ExceptionType: message"`` of an errored run, else ``None``."""
        return self.meta.get("error")

    @property
    def wall_time_s(self) -> float:
        value = self.meta.get("wall_time_s")
        return float(value) if isinstance(value, (int, float)) else math.nan

    @property
    def figures(self) -> list[str]:
        return [str(f) for f in self.meta.get("figures", [])]

    @property
    def notes(self) -> list[str]:
        return [str(n) for n in self.meta.get("notes", [])]

    @cached_property
    def config(self) -> ScaledConfig | None:
        """The typed config of the run, or ``None`` if its experiment is not registered here or the
        stored config no longer fits the experiment's config class (a result of older code)."""
        config_cls = self.config_cls
        if config_cls is None:
            try:
                config_cls = get_experiment(self.name).config_cls
            except DLTheoryError:
                return None
        try:
            return config_cls.from_dict(self.meta.get("config"))  # type: ignore[arg-type]
        except DLTheoryError:
            return None


def experiment_rng(seed: int, name: str) -> np.random.Generator:
    """Independent generator for experiment ``name`` under the global ``seed``."""
    if seed < 0:
        raise DLTheoryError(f"seed must be a non-negative integer; got {seed}")
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def provenance() -> dict[str, Any]:
    """Versions of the libraries that produce numbers, and the machine."""
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for pkg in ("dltheory", "numpy", "scipy", "torch", "pandas", "matplotlib", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    torch = sys.modules.get("torch")  # only if the experiment used it: importing it costs seconds
    threads = torch.get_num_threads() if torch is not None else None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
                    "hostname": platform.node(), "pid": os.getpid(), "torch_threads": threads},
    }


def config_overrides(config: ScaledConfig, scale: str) -> dict[str, Any]:
    """The fields of ``config`` that differ from its class's ``scale`` configuration (JSON form)."""
    base = type(config).at_scale(scale).to_dict()
    return {k: v for k, v in config.to_dict().items() if base.get(k) != v}


def exploration_reason(task: Task, canonical_scale: str | None) -> str | None:
    """Why ``task`` is an exploration run rather than part of the canonical report, or None.

    An exploration run has config overrides (``--set``) or a scale other than ``canonical_scale``.
    """
    parts = []
    overrides = task.overrides
    if overrides:
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items())
        parts.append(f"config overrides {shown}"[:300])
    if canonical_scale is not None and task.scale != canonical_scale:
        parts.append(f"scale {task.scale} (the report's is {canonical_scale})")
    return "; ".join(parts) or None


@dataclass(frozen=True)
class Task:
    """One unit of work for an executor: an experiment at a config and seed.

    Its :attr:`key` is the content hash under which the results store keeps its result.
    """

    experiment: Experiment
    config: ScaledConfig
    scale: str
    seed: int

    @property
    def code_version(self) -> str:
        return code_version(self.experiment)

    @property
    def key(self) -> str:
        return task_key(self.experiment.name, self.config.to_dict(), self.code_version, self.seed)

    @property
    def overrides(self) -> dict[str, Any]:
        """Config fields that differ from the experiment's ``scale`` configuration (JSON form)."""
        return config_overrides(self.config, self.scale)


def make_task(experiment: str | Experiment, scale: str = "quick", seed: int = 0,
              overrides: dict[str, Any] | None = None) -> Task:
    """The task of running ``experiment`` at ``scale`` with ``overrides`` (validated) and ``seed``."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DLTheoryError(f"seed must be a non-negative integer; got {seed!r}")
    config = exp.config(scale, **(overrides or {}))
    return Task(experiment=exp, config=config, scale=scale, seed=seed)


def check_task_resources(tasks: list[Task], allow_large: bool = False,
                         time_limit_s: float | None = TIME_LIMIT_S) -> None:
    """Refuse, before anything runs, a task whose declared estimate exceeds this machine or the time limit.

    Each task's :meth:`~dltheory.lab.base.Experiment.resources` estimate (if its experiment
    declares one) is checked by :func:`dltheory.lab.resources.check_resources` against the memory
    available now and ``time_limit_s``; the first that does not fit is a one-line
    :class:`DLTheoryError` naming the fields that drive it. ``allow_large`` skips the check.
    """
    if allow_large:
        return
    for task in tasks:
        estimate = task.experiment.resources(task.config)
        if estimate is not None:
            check_resources(task.experiment.name, estimate, time_limit_s=time_limit_s)


def _base_meta(task: Task) -> dict[str, Any]:
    exp = task.experiment
    return {
        "name": exp.name,
        "title": exp.title,
        "pillar": exp.pillar,
        "description": exp.description,
        "scale": task.scale,
        "seed": task.seed,
        "config": task.config,  # typed until the store serializes the run
        "overrides": task.overrides,
        "code_version": task.code_version,
        "key": task.key,
        "run_id": uuid.uuid4().hex,
        **provenance(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _outcome_files(outcome: Outcome) -> tuple[dict[str, bytes], list[str]]:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    outcome.table.to_parquet(buf, index=False)
    files = {"table.parquet": buf.getvalue()}
    names = []
    for name, fig in outcome.figures.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        files[f"{name}.png"] = buf.getvalue()
        names.append(name)
    return files, names


def execute_task(task: Task, catch_errors: bool = True) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run ``task`` and return ``(meta, files)``: no I/O, so it can run on any worker.

    ``meta`` holds the typed config (``meta["config"]``) and claims (``meta["claims"]``, a list of
    :class:`~dltheory.lab.base.Claim`); :meth:`~dltheory.lab.store.ResultsStore.write` serializes
    them. ``files`` maps file names (``table.parquet``, ``<figure>.png``) to their bytes. With
    ``catch_errors`` an exception inside the experiment (other than :class:`DLTheoryError`) is
    recorded in ``meta`` (status ``"error"`` with its traceback) instead of propagating.
    """
    import matplotlib

    matplotlib.use("Agg")
    exp = task.experiment
    meta = _base_meta(task)
    t0 = time.perf_counter()
    files: dict[str, bytes] = {}
    try:
        outcome = exp.execute(task.config, experiment_rng(task.seed, exp.name))
        if not isinstance(outcome, Outcome):
            raise TypeError(f"{exp.name}.run returned {type(outcome).__name__}, expected Outcome")
        meta["wall_time_s"] = time.perf_counter() - t0
        files, meta["figures"] = _outcome_files(outcome)
        meta["claims"] = list(outcome.claims)  # typed until the store serializes the run
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
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return meta, files


def _error_result(task: Task, exc: BaseException) -> tuple[dict[str, Any], dict[str, bytes]]:
    meta = _base_meta(task)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    meta.update(status="error", error=f"{type(exc).__name__}: {exc}", traceback=tb, claims=[], figures=[],
                notes=[], wall_time_s=0.0, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return meta, {}


def _execute_caught(task: Task) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        return execute_task(task, catch_errors=True)
    except DLTheoryError as exc:
        return _error_result(task, exc)


def _save(store: ResultsStore, task: Task, result: tuple[dict[str, Any], dict[str, bytes]], executor: str,
          exploration: str | None = None) -> RunRecord:
    meta, files = result
    saved, directory = store.save({**meta, "executor": executor}, files, publish=exploration is None)
    record = RunRecord.from_meta(saved, directory, task.experiment.config_cls)
    record.exploration = exploration
    return record


def _reused(store: ResultsStore, task: Task, exploration: str | None = None) -> RunRecord | None:
    """The record of ``task``'s valid stored result (published when the directory is writable and the
    run is not an exploration), else None."""
    reused = store.reuse(task.key, publish=exploration is None)
    if reused is None:
        return None
    record = RunRecord.from_meta(reused[0], reused[1], task.experiment.config_cls)
    record.exploration = exploration
    return record


def run_experiment(
    experiment: str | Experiment,
    scale: str = "quick",
    seed: int = 0,
    out_dir: str | os.PathLike = "results",
    overrides: dict[str, Any] | None = None,
    catch_errors: bool = False,
    force: bool = True,
    executor: Executor | str | None = None,
    publish: bool = True,
    allow_large: bool = False,
) -> RunRecord:
    """Run one experiment in this process; save its table, figures and ``meta.json``.

    The run is kept in the results store under ``out_dir/runs/<key>/`` and copied to
    ``out_dir/<name>/`` (see :mod:`dltheory.lab.store`).

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
    force : bool
        Run even if a valid result of the same task is stored (default). With ``False`` a valid
        stored result is reused.
    executor : Executor or {"serial", "local", "dask"}, optional
        Made active while the experiment runs, so its inner :func:`~dltheory.lab.executors.map_tasks`
        sweeps use it. A name makes the executor here and closes it afterwards. Default: serial.
    publish : bool
        Copy the run to ``out_dir/<name>/`` (the canonical report). ``False`` keeps it only under
        ``runs/<key>`` as an exploration run (``dltheory report --include NAME@KEY`` shows it).
    allow_large : bool
        Run even if the experiment's resource estimate exceeds this machine's available memory or
        the time limit (see :func:`check_task_resources`).
    """
    task = make_task(experiment, scale, seed, overrides)
    store = ResultsStore(out_dir)
    store.prepare()
    why = None if publish else "not published (publish=False)"
    if not force and (record := _reused(store, task, why)) is not None:
        return record
    store.require_writable(f"no valid stored result of {task.experiment.name} to reuse")
    check_task_resources([task], allow_large)
    if isinstance(executor, str):
        with make_executor(executor) as ex, use_executor(ex):
            result = execute_task(task, catch_errors=catch_errors)
    else:
        ex = executor if executor is not None else SerialExecutor()
        with use_executor(ex):
            result = execute_task(task, catch_errors=catch_errors)
    return _save(store, task, result, ex.name, why)


def run_sweep(
    tasks: list[Task],
    out_dir: str | os.PathLike = "results",
    executor: Executor | None = None,
    force: bool = False,
    on_done: Callable[[RunRecord, bool], None] | None = None,
    publish: bool | str = True,
    state: SweepState | None = None,
    allow_large: bool = False,
) -> list[RunRecord]:
    """Run ``tasks`` on ``executor`` through the results store; returns their records in order.

    A task whose valid result is already stored (verified: see :func:`dltheory.lab.store.verify_run`)
    is skipped unless ``force``; on a read-only results directory it is reused without publishing,
    and a task that would need running there is a one-line :class:`DLTheoryError` before anything
    runs. Stale temporaries of dead processes are removed first. Results are written
    by this process as tasks complete (so an interruption loses only unfinished tasks). Errors
    inside a task are recorded as runs with status ``"error"``. A single pending task runs in this
    process with ``executor`` active, so that its inner sweeps can use the executor's workers.
    ``on_done(record, skipped)`` is called after each task. Before any task runs, the resource
    estimates of the tasks to run are checked (:func:`check_task_resources`) unless ``allow_large``.

    Parameters
    ----------
    publish : bool or "auto"
        ``True``: publish every run to ``out_dir/<experiment>/`` (the canonical report).
        ``"auto"`` (the CLI): publish only runs without config overrides at the directory's
        canonical scale (:meth:`~dltheory.lab.store.ResultsStore.canonical_scale`; when none is
        recorded, the scale of the first task without overrides); the others are *exploration*
        runs, stored under ``runs/<key>`` with :attr:`RunRecord.exploration` saying why.
        ``False``: publish nothing.
    state : SweepState, optional
        Filled as tasks finish (count, and an ETA weighted by each experiment's recorded wall time).
    """
    if publish not in (True, False, "auto"):
        raise DLTheoryError(f"publish must be True, False or 'auto'; got {publish!r}")
    ex = executor if executor is not None else SerialExecutor()
    state = state if state is not None else SweepState()
    store = ResultsStore(out_dir)
    if store.prepare():  # a read-only directory can still serve valid stored results
        store.clean_stale()
    canonical = None
    if publish == "auto":
        canonical = store.canonical_scale()
        if canonical is None:
            canonical = next((t.scale for t in tasks if not t.overrides), None)
    exploration: dict[str, str | None] = {}
    records: list[RunRecord | None] = [None] * len(tasks)
    pending: list[int] = []
    first_index: dict[str, int] = {}
    for i, task in enumerate(tasks):
        key = task.key
        if key in first_index:  # the same task twice: run once
            continue
        first_index[key] = i
        if publish == "auto":
            exploration[key] = exploration_reason(task, canonical)
        else:
            exploration[key] = None if publish else "not published (publish=False)"
        if not force and (record := _reused(store, task, exploration[key])) is not None:
            records[i] = record
        else:
            pending.append(i)
    recorded = store.recorded_costs() if pending else {}
    costs = dict(zip(pending, expected_costs([(tasks[i].experiment.name, tasks[i].scale) for i in pending], recorded)))
    state.start(len(first_index), costs, ex.workers if len(pending) > 1 else 1)
    for record in records:
        if record is not None:
            state.finish()
            if on_done:
                on_done(record, True)
    if pending:
        store.require_writable(f"{len(pending)} task(s) have no valid stored result to reuse")
        check_task_resources([tasks[i] for i in pending], allow_large)
    with sweep_progress("experiments", sum(costs.values()), keep=True, state=state) as advance:

        def finished(i: int, result: tuple[dict[str, Any], dict[str, bytes]]) -> None:
            records[i] = record = _save(store, tasks[i], result, ex.name, exploration[tasks[i].key])
            state.finish(i, record.wall_time_s)
            advance(costs[i])
            if on_done:
                on_done(record, False)

        if len(pending) == 1 or isinstance(ex, SerialExecutor):
            for i in pending:
                with use_executor(ex):
                    finished(i, _execute_caught(tasks[i]))
        elif pending:
            for j, result in ex.imap_unordered(_execute_caught, [tasks[i] for i in pending]):
                i = pending[j]
                if isinstance(result, TaskFailed):
                    result = _error_result(tasks[i], result.exc)
                finished(i, result)
    for i, task in enumerate(tasks):
        if records[i] is None:
            records[i] = records[first_index[task.key]]
    return [r for r in records if r is not None]


def load_record(directory: str | os.PathLike) -> RunRecord:
    """Read a saved run from its directory."""
    directory = Path(directory)
    path = directory / "meta.json"
    if not path.is_file():
        raise DLTheoryError(f"no experiment results in {directory} (missing meta.json)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DLTheoryError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}") from None
    return RunRecord.from_meta(meta, directory)
