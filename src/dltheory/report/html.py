"""Render every saved experiment run into one self-contained HTML page (figures embedded)."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Claim
from dltheory.lab.runner import RunRecord
from dltheory.lab.store import ResultsStore, VerifiedRun, env_error, existing_results_dir, write_atomic
from dltheory.lab.verdicts import Verdict, count_verdicts, summary_line

__all__ = ["build_report", "collect_records"]

_ORDER = {"effective": 0, "richness": 1, "neurashed": 2, "weightspace": 3}


def _record(run: VerifiedRun, name: str) -> tuple[RunRecord, dict[str, bytes]]:
    """The record of a verified run (with the bytes of its files), or an ``"invalid"`` record naming the problem."""
    if run.meta is not None:
        return RunRecord.from_meta(run.meta, run.directory), run.files
    meta: dict[str, Any] = {"name": name, "title": name, "pillar": "", "description": "", "status": "invalid",
            "error": run.problem, "claims": [], "figures": [], "notes": []}
    return RunRecord.from_meta(meta, run.directory), {}


def _collect(root: Path) -> list[tuple[RunRecord, dict[str, bytes]]]:
    """Every published run under ``root``, verified, with the bytes of its verified files.

    See :meth:`dltheory.lab.store.ResultsStore.published`: a symbolic link or a directory whose
    ``meta.json`` fails :func:`~dltheory.lab.store.verify_run` becomes a record with status ``"invalid"`` and the
    problem as its ``error``, so the report shows it.
    """
    out = [_record(run, run.directory.name) for run in ResultsStore(root).published()]
    out.sort(key=lambda rf: (_ORDER.get(str(rf[0].meta.get("pillar")), 9), rf[0].meta["name"]))
    return out


def _collect_extras(root: Path, include: Sequence[str]) -> list[tuple[RunRecord, dict[str, bytes]]]:
    """The runs named ``NAME@KEY`` in ``include`` (verified), labelled as extras of the report."""
    from dltheory.lab.results import split_label

    store = ResultsStore(root)
    out = []
    for label in dict.fromkeys(include):
        name, key = split_label(label)
        if key is None:
            raise DLTheoryError(f"--include {label}: name a stored run as NAME@KEY (`dltheory results --all` "
                                "lists the keys)")
        record, files = _record(store.find_run(name, key), name)
        out.append((record, files))
    return out


def collect_records(results_dir: str | os.PathLike) -> list[RunRecord]:
    """All runs published under ``results_dir`` (one sub-directory with ``meta.json`` each), verified.

    A run that fails verification (see :func:`dltheory.lab.store.verify_run`) is returned with
    status ``"invalid"`` and the reason in ``meta["error"]``.
    """
    root = existing_results_dir(results_dir)
    return [record for record, _ in _collect(root)]


def _figure_data(files: dict[str, bytes], name: str) -> str | None:
    data = files.get(f"{name}.png")
    if data is None:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _provenance_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    machine = m.get("machine") or {}
    versions = m.get("versions") or {}
    rows = [
        ("scale", m.get("scale")),
        ("seed", m.get("seed")),
        ("wall time", None if m.get("wall_time_s") is None else f"{_fmt(m['wall_time_s'])} s"),
        ("started / finished", f"{m.get('started', '?')} / {m.get('finished', '?')}"),
        ("executor", m.get("executor")),
        ("machine", f"{machine.get('hostname', '?')} · {machine.get('platform', '?')} · {machine.get('cpus', '?')} CPUs"
                    f" · torch threads {machine.get('torch_threads', '—')}"),
        ("Python", m.get("python")),
        ("versions", " · ".join(f"{k} {v}" for k, v in versions.items())),
        ("code version", m.get("code_version")),
        ("task key", m.get("key")),
        ("run id", m.get("run_id")),
    ]
    return [(k, "—" if v is None else str(v)) for k, v in rows]


def _config_rows(config: Any) -> list[tuple[str, str]]:
    if not isinstance(config, dict):
        return []
    return [(str(k), json.dumps(v)) for k, v in config.items()]


@dataclass(frozen=True)
class _ClaimRow:
    """A claim as the report shows it: the typed claim, its experiment and its anchors."""

    claim: Claim
    experiment: str
    anchor: str
    figure_anchor: str | None


_SIZE_WORDS = ("n_", "samples", "seeds", "networks", "runs", "widths", "depth")


def _size_rows(config: Any) -> str:
    """The config entries that say how much was simulated (networks, samples, seeds, widths...)."""
    if not isinstance(config, dict):
        return ""
    keep = [(k, v) for k, v in config.items() if any(w in str(k) for w in _SIZE_WORDS)]
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in keep)


def _experiment(rec: RunRecord, files: dict[str, bytes], extra: bool = False) -> dict[str, Any]:
    """What the template shows of one run (``extra``: an exploration run shown on request)."""
    m = rec.meta
    name = rec.name
    anchor = rec.label.replace("@", "--at--") if extra else name
    rows = [_ClaimRow(claim=c, experiment=name, anchor=f"{anchor}--claim--{c.name}",
                      figure_anchor=f"{anchor}--{c.figure}" if c.figure else None) for c in rec.claims]
    figures = []
    for f in rec.figures:
        cited = [r for r in rows if r.claim.figure == f]
        figures.append({"name": f, "anchor": f"{anchor}--{f}", "src": _figure_data(files, f), "claims": cited})
    counts = count_verdicts([r.claim for r in rows])
    invalid = m.get("status") == "invalid"
    overrides = {} if invalid else rec.overrides
    return {"scale": None, "seed": None, "wall_time_s": None, **m, "anchor": anchor, "label": rec.label,
            "extra": extra, "figure_list": figures, "claim_list": rows,
            "ok": rec.ok, "invalid": invalid, "counts": {v.value: n for v, n in counts.items()},
            "provenance_rows": _provenance_rows(m), "config_rows": _config_rows(m.get("config")),
            "size": _size_rows(m.get("config")),
            "overrides": ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items()),
            "notes": rec.notes, "description": m.get("description", ""),
            "title": m.get("title", name), "pillar": m.get("pillar", "")}


def _scale_summary(experiments: list[dict[str, Any]]) -> str:
    by_scale: dict[str, list[str]] = {}
    for e in experiments:
        if e.get("scale"):
            by_scale.setdefault(str(e["scale"]), []).append(str(e["name"]))
    if len(by_scale) <= 1:
        return ", ".join(by_scale) or "—"
    parts = [f"{scale} ({len(names)}: {', '.join(names[:6])}{' …' if len(names) > 6 else ''})"
             for scale, names in sorted(by_scale.items(), key=lambda kv: -len(kv[1]))]
    return "MIXED — " + "; ".join(parts) + " (compare experiments with care)"


def _context(collected: list[tuple[RunRecord, dict[str, bytes]]], title: str,
             extras: list[tuple[RunRecord, dict[str, bytes]]] | None = None,
             n_exploration: int = 0) -> dict[str, Any]:
    experiments = [_experiment(rec, files) for rec, files in collected]
    extra_list = [_experiment(rec, files, extra=True) for rec, files in extras or []]
    summary = [r for e in experiments for r in e["claim_list"] if r.claim.gated]
    counts = count_verdicts([r.claim for r in summary])
    rank = {Verdict.FAIL: 0, Verdict.INCONCLUSIVE: 1}
    problems = sorted((r for r in summary if r.claim.verdict in rank), key=lambda r: rank[r.claim.verdict])
    errors = [e["name"] for e in experiments if not e["ok"] and not e["invalid"]]
    invalid = [e["name"] for e in experiments if e["invalid"]]
    hosts = sorted({str((e.get("machine") or {}).get("hostname", "?")) for e in experiments})
    seeds = sorted({str(e.get("seed")) for e in experiments})
    scales = sorted({str(e.get("scale")) for e in experiments if e.get("scale")})
    versions = experiments[0].get("versions") or {} if experiments else {}
    wall = sum(float(e.get("wall_time_s") or 0.0) for e in experiments)
    with_overrides = [e["name"] for e in experiments if e["overrides"]]
    overview = [("scale", _scale_summary(experiments)),
                ("seeds", ", ".join(seeds)),
                ("total wall time", f"{wall:.1f} s (sum over the {len(experiments)} experiments' runs)"),
                ("machines", ", ".join(hosts)),
                ("versions", " · ".join(f"{k} {v}" for k, v in versions.items()))]
    if with_overrides:
        overview.insert(1, ("config overrides", "published runs with --set overrides (older results): "
                                                + ", ".join(with_overrides)))
    shown = ", ".join(e["label"] for e in extra_list)
    overview.append(("other stored runs", f"{n_exploration} (exploration runs with --set or another scale, other "
                     "seeds, older code versions): not part of this report"
                     + (f"; shown below as labelled extras, never counted: {shown}" if shown else "")
                     + " (`dltheory results --all` lists them; `dltheory report --include NAME@KEY` shows one)"))
    return {
        "title": title,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "experiments": experiments,
        "extras": extra_list,
        "summary": summary,
        "problems": problems,
        "counts": {v.value: n for v, n in counts.items()},
        "summary_line": summary_line(count_verdicts([c for rec, _ in collected for c in rec.claims])),
        "errors": errors,
        "invalid": invalid,
        "scales": scales,
        "seeds": seeds,
        "total_wall_s": wall,
        "overview": overview,
    }


def build_report(results_dir: str | os.PathLike = "results", output: str | os.PathLike | None = None,
                 title: str = "dltheory report", include: Sequence[str] = ()) -> Path:
    """Write the HTML report of the published (canonical) runs under ``results_dir``.

    The top says the scale(s), seeds and total wall time; failing and inconclusive claims come first.

    Parameters
    ----------
    results_dir : path
        Directory of saved runs (see :mod:`dltheory.lab.runner`).
    output : path, optional
        Defaults to ``results_dir/report.html``.
    title : str
    include : sequence of str
        Exploration runs to show as clearly labelled extras after the canonical experiments, each
        ``NAME@KEY`` (task key or its first >= 6 hex digits). They are never counted.

    Returns
    -------
    pathlib.Path
        The written file (self-contained: figures are embedded as data URIs).
    """
    import jinja2

    root = existing_results_dir(results_dir)
    store = ResultsStore(root)
    with store.locked() if store.prepare() else contextlib.nullcontext():  # read-only: read without the lock
        collected = _collect(root)
        extras = _collect_extras(root, include)
        published = {rec.meta.get("key") for rec, _ in collected}
        n_exploration = sum(1 for info in store.read_manifest()["tasks"].values() if info.get("path", "").startswith(
            "runs/") and info.get("status") == "ok") - len(published - {None})
    if not collected and not extras:
        raise DLTheoryError(f"no experiment results under {results_dir}; run `dltheory run NAME` first")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dltheory.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _fmt
    html = env.get_template("report.html.j2").render(**_context(collected, title, extras, max(n_exploration, 0)))
    out = Path(output) if output is not None else root / "report.html"
    try:
        write_atomic(out, html.encode("utf-8"))  # exclusive no-follow temporary, then rename
    except OSError as exc:
        hint = "" if output is not None else " (write it elsewhere with --output FILE)"
        raise DLTheoryError(str(env_error("cannot write the report", out, exc)) + hint) from None
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)
