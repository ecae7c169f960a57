"""The results store: every task's result under a content hash, written atomically, with a manifest.

A *task* is one (experiment, config, seed) run. Its key is the SHA-256 of the JSON of
``{experiment, config, code_version, seed}`` where ``code_version`` is the dltheory version plus a
hash of the experiment module's source file, so editing an experiment invalidates its results.

Layout under the results directory ``root``::

    root/runs/<key>/meta.json        config, claims, seed, provenance, and the size and SHA-256 of
    root/runs/<key>/table.parquet    every other file of the run
    root/runs/<key>/<figure>.png
    root/<experiment>/...            copy of the latest run of each experiment (what the report reads)
    root/manifest.json               index: key -> experiment, seed, scale, status, path; latest run per experiment

Every file is written to a temporary name and renamed into place (``os.replace``), and a run
directory is assembled under a temporary name and renamed as a whole, so a process killed at any
point leaves either the old state or the new one; leftovers named ``*.tmp*`` are removed by
:meth:`ResultsStore.clean_stale`. A run is *valid* only if its ``meta.json`` parses, its recorded
key matches both the directory and the hash recomputed from its identity fields, and every file it
lists exists with the recorded size and SHA-256.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from dltheory.lab.base import Experiment, json_ready

__all__ = ["ResultsStore", "code_version", "task_key"]

_TMP = ".tmp"


def code_version(experiment: Experiment) -> str:
    """``"<dltheory version>+<12 hex of the SHA-256 of the experiment module's source>"``."""
    import dltheory

    module = sys.modules.get(getattr(experiment.run, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    if path is None:
        try:
            path = inspect.getsourcefile(experiment.run)
        except TypeError:
            path = None
    digest = "nosource"
    if path and os.path.isfile(path):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return f"{dltheory.__version__}+{digest}"


def task_key(experiment: str, config: dict[str, Any], code: str, seed: int) -> str:
    """Content hash (64 hex digits) of a task's identity."""
    ident = {"experiment": experiment, "config": json_ready(config), "code_version": code, "seed": int(seed)}
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and ``os.replace``."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}{_TMP}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _replace_dir(src: Path, dst: Path) -> None:
    """Move directory ``src`` to ``dst``, replacing ``dst`` (old copy moved aside, then removed)."""
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.old{_TMP}")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class ResultsStore:
    """Content-addressed results under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.manifest_path = self.root / "manifest.json"

    # -- reading -------------------------------------------------------------------------------
    def run_dir(self, key: str) -> Path:
        return self.runs / key

    def load_valid(self, key: str) -> dict[str, Any] | None:
        """The ``meta.json`` of run ``key`` if the run is valid (see module docstring), else None."""
        directory = self.run_dir(key)
        try:
            meta = json.loads((directory / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("key") != key:
            return None
        try:
            recomputed = task_key(meta["name"], meta["config"], meta["code_version"], meta["seed"])
        except (KeyError, TypeError, ValueError):
            return None
        if recomputed != key:
            return None
        files = meta.get("files")
        if not isinstance(files, dict):
            return None
        for name, info in files.items():
            path = directory / name
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if not isinstance(info, dict) or len(data) != info.get("bytes") or _sha256(data) != info.get("sha256"):
                return None
        return meta

    def completed(self, key: str) -> dict[str, Any] | None:
        """The ``meta.json`` of run ``key`` if it is valid and succeeded (errored runs are redone)."""
        meta = self.load_valid(key)
        return meta if meta is not None and meta.get("status") == "ok" else None

    def read_manifest(self) -> dict[str, Any]:
        """The manifest (an empty one if missing or unreadable: it is an index, rebuilt on writes)."""
        try:
            manifest = json.loads(self.manifest_path.read_text())
            if isinstance(manifest, dict) and isinstance(manifest.get("tasks"), dict):
                manifest.setdefault("latest", {})
                return manifest
        except (OSError, ValueError):
            pass
        return {"format": 1, "tasks": {}, "latest": {}}

    # -- writing -------------------------------------------------------------------------------
    def clean_stale(self) -> list[Path]:
        """Remove temporary files and directories left by an interrupted run; returns them."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for path in sorted(self.root.rglob(f"*{_TMP}"), key=lambda p: len(p.parts)):
            if not path.exists() and not path.is_symlink():
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)
            removed.append(path)
        return removed

    def write(self, meta: dict[str, Any], files: dict[str, bytes]) -> Path:
        """Write run ``meta["key"]`` (``meta.json`` plus ``files``) atomically; returns its directory."""
        key = meta["key"]
        self.runs.mkdir(parents=True, exist_ok=True)
        tmp_dir = self.runs / f".{key}.{uuid.uuid4().hex[:8]}{_TMP}"
        tmp_dir.mkdir()
        try:
            listing = {}
            for name, data in files.items():
                if "/" in name or name in ("meta.json", "") or name.startswith("."):
                    raise ValueError(f"invalid result file name {name!r}")
                write_atomic(tmp_dir / name, data)
                listing[name] = {"bytes": len(data), "sha256": _sha256(data)}
            meta = {**meta, "files": listing}
            write_atomic(tmp_dir / "meta.json", json.dumps(json_ready(meta), indent=2).encode())
            _replace_dir(tmp_dir, self.run_dir(key))
        finally:
            if tmp_dir.exists():
                shutil.rmtree(tmp_dir, ignore_errors=True)
        return self.run_dir(key)

    def publish(self, key: str) -> Path:
        """Copy run ``key`` to ``root/<experiment>/`` (replacing the previous copy) and index it."""
        meta = json.loads((self.run_dir(key) / "meta.json").read_text())
        name = meta["name"]
        if name in ("runs", "manifest.json", "report.html") or "/" in name or name.startswith("."):
            raise ValueError(f"experiment name {name!r} cannot be published")
        dst = self.root / name
        tmp_dir = self.root / f".{name}.{uuid.uuid4().hex[:8]}{_TMP}"
        shutil.copytree(self.run_dir(key), tmp_dir)
        try:
            _replace_dir(tmp_dir, dst)
        finally:
            if tmp_dir.exists():
                shutil.rmtree(tmp_dir, ignore_errors=True)
        self._index(meta)
        return dst

    def _index(self, meta: dict[str, Any]) -> None:
        manifest = self.read_manifest()
        manifest["tasks"][meta["key"]] = {
            "experiment": meta["name"], "scale": meta.get("scale"), "seed": meta.get("seed"),
            "code_version": meta.get("code_version"), "status": meta.get("status"),
            "run_id": meta.get("run_id"), "finished": meta.get("finished"),
            "path": f"runs/{meta['key']}",
        }
        manifest["latest"][meta["name"]] = meta["key"]
        write_atomic(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True).encode())
