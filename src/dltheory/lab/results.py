"""Results as data: every stored claim as one pandas DataFrame, and any run's table.

Everything is read through the verifying store (:mod:`dltheory.lab.store`): a run whose checksums
fail is never read, only named (``DataFrame.attrs["skipped"]`` and a warning).

>>> import dltheory
>>> claims = dltheory.load_results("results")            # doctest: +SKIP
>>> claims.query("verdict == 'fail'")[["experiment", "claim", "measured", "target", "delta", "se"]]  # doctest: +SKIP
>>> table = dltheory.load_table("kernel-propagation")    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from typing import Any

import pandas as pd

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Claim
from dltheory.lab.store import ResultsStore, existing_results_dir

__all__ = ["COLUMNS", "load_results", "load_table", "split_label"]

COLUMNS = ("experiment", "claim", "verdict", "measured", "se", "target", "delta", "z_star", "kind", "reason",
           "statistic", "criterion", "scale", "seed", "overrides", "canonical", "config_hash", "key", "code_version",
           "wall_time_s", "finished")
"""Columns of :func:`load_results`, in order."""


def config_hash(config: Any) -> str:
    """SHA-256 (12 hex digits) of a stored config's canonical JSON: equal configs, equal hashes."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _rows(meta: dict[str, Any], canonical: bool) -> list[dict[str, Any]]:
    overrides = meta.get("overrides")
    common = {"scale": meta.get("scale"), "seed": meta.get("seed"),
              "overrides": json.dumps(overrides, sort_keys=True) if isinstance(overrides, dict) and overrides else "",
              "canonical": canonical, "config_hash": config_hash(meta.get("config")), "key": meta.get("key"),
              "code_version": meta.get("code_version"), "wall_time_s": meta.get("wall_time_s"),
              "finished": meta.get("finished")}
    rows = []
    for stored in meta.get("claims", []):
        c = Claim.from_dict(stored)
        rows.append({"experiment": meta["name"], "claim": c.name, "verdict": c.verdict.value, "measured": c.measured,
                     "se": c.se, "target": c.target, "delta": c.delta, "z_star": c.z_star, "kind": c.kind,
                     "reason": c.reason, "statistic": c.statistic, "criterion": c.criterion, **common})
    return rows


def load_results(path: str | os.PathLike = "results", *, exploration: bool = False) -> pd.DataFrame:
    """Every claim of the stored runs as one DataFrame, one row per claim.

    Parameters
    ----------
    path : path
        A results directory (``dltheory run``/``reproduce --out``).
    exploration : bool
        Also include exploration runs (config overrides or another scale; stored under ``runs/``
        but not published to the canonical report). Default: the canonical report's runs only.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``experiment``, ``claim``, ``verdict`` (``pass``, ``fail``,
        ``inconclusive``, ``reported``), ``measured``, ``se``, ``target``, ``delta`` (δ),
        ``z_star``, ``kind``, ``reason``, ``statistic``, ``criterion``, ``scale``, ``seed``,
        ``overrides`` (JSON of the config fields changed from the scale's, ``""`` if none),
        ``canonical`` (published to the report), ``config_hash`` (12 hex digits of the config),
        ``key`` (the task key: ``NAME@KEY`` names the run), ``code_version``, ``wall_time_s``
        (of the whole run), ``finished``. Missing numbers are NaN. Runs that failed
        verification or errored have no claims: they are listed in ``attrs["skipped"]``
        (name or ``NAME@KEY`` -> cause) and a warning names them.

    Raises
    ------
    DLTheoryError
        ``path`` does not exist or is not a directory.
    """
    store = ResultsStore(existing_results_dir(path))
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    published_keys = set()
    for run in store.published():
        if run.meta is None:
            skipped[run.directory.name] = str(run.problem)
            continue
        published_keys.add(run.meta["key"])
        _add(run.meta, True, rows, skipped)
    if exploration:
        for run in store.all_runs():
            if run.meta is not None and run.meta["key"] not in published_keys:
                _add(run.meta, False, rows, skipped)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("measured", "se", "target", "delta", "z_star", "wall_time_s"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame.attrs["skipped"] = skipped
    if skipped:
        shown = "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:5])
        warnings.warn(f"load_results: {len(skipped)} run(s) without claims left out ({shown})", stacklevel=2)
    return frame


def _add(meta: dict[str, Any], canonical: bool, rows: list[dict[str, Any]], skipped: dict[str, str]) -> None:
    label = meta["name"] if canonical else f"{meta['name']}@{str(meta['key'])[:12]}"
    if meta.get("status") != "ok":
        skipped[label] = f"the run errored: {meta.get('error')}"
        return
    try:
        rows.extend(_rows(meta, canonical))
    except DLTheoryError as exc:
        skipped[label] = str(exc)


def split_label(label: str) -> tuple[str, str | None]:
    """``"NAME@KEY"`` -> ``(NAME, KEY)``; ``"NAME"`` -> ``(NAME, None)``."""
    name, sep, key = str(label).partition("@")
    if not name or (sep and not key):
        raise DLTheoryError(f"expected NAME or NAME@KEY (a task key or its first >= 6 hex digits); got {label!r}")
    return name, (key if sep else None)


def load_table(name: str, path: str | os.PathLike = "results") -> pd.DataFrame:
    """The tidy table of a stored run, read through the verifying store.

    Parameters
    ----------
    name : str
        An experiment name (its published run, as in the report) or ``NAME@KEY`` for any stored
        run, e.g. an exploration run (``KEY``: the task key or its first >= 6 hex digits, as
        :func:`load_results` and ``dltheory run`` show it).
    path : path
        The results directory.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DLTheoryError
        No such run, a run that fails verification, or an errored run (it has no table).
    """
    experiment, key = split_label(name)
    store = ResultsStore(existing_results_dir(path))
    if key is not None:
        run = store.find_run(experiment, key)
    else:
        found = [r for r in store.published() if r.directory.name == experiment]
        if not found:
            raise DLTheoryError(f"no published run of {experiment!r} in {path} (`dltheory results` lists the runs; "
                                "NAME@KEY reads an exploration run)")
        run = found[0]
        if not run.ok:
            raise DLTheoryError(f"{experiment}: the stored run failed verification ({run.problem})")
    meta = run.meta or {}
    if meta.get("status") != "ok" or "table.parquet" not in run.files:
        raise DLTheoryError(f"{name}: the run errored and has no table ({meta.get('error')})")
    return pd.read_parquet(io.BytesIO(run.files["table.parquet"]))
