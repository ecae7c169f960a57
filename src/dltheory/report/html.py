"""Render every saved experiment run into one self-contained HTML page (figures embedded)."""

from __future__ import annotations

import base64
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Claim
from dltheory.lab.runner import RunRecord, load_record

__all__ = ["build_report", "collect_records"]


def collect_records(results_dir: str | os.PathLike) -> list[RunRecord]:
    """All runs saved under ``results_dir`` (one sub-directory with ``meta.json`` each)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise DLTheoryError(f"results directory {root} does not exist; run `dltheory run NAME` first")
    records = [load_record(d) for d in sorted(root.iterdir()) if (d / "meta.json").is_file()]
    order = {"effective": 0, "richness": 1, "neurashed": 2, "weightspace": 3}
    records.sort(key=lambda r: (order.get(str(r.meta.get("pillar")), 9), r.name))
    return records


def _figure_data(record: RunRecord, name: str) -> str | None:
    path = record.directory / f"{name}.png"
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


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


def _context(records: list[RunRecord], title: str) -> dict[str, Any]:
    experiments = []
    summary: list[_ClaimRow] = []
    for rec in records:
        m = rec.meta
        name = rec.name
        rows = [_ClaimRow(claim=c, experiment=name, anchor=f"{name}--claim--{c.name}",
                          figure_anchor=f"{name}--{c.figure}" if c.figure else None) for c in rec.claims]
        summary.extend(rows)
        figures = []
        for f in rec.figures:
            cited = [r for r in rows if r.claim.figure == f]
            figures.append({"name": f, "anchor": f"{name}--{f}", "src": _figure_data(rec, f), "claims": cited})
        n_pass = sum(r.claim.passed for r in rows)
        experiments.append({**m, "anchor": name, "figure_list": figures, "claim_list": rows,
                            "ok": rec.ok, "n_pass": n_pass, "n_fail": len(rows) - n_pass,
                            "provenance_rows": _provenance_rows(m), "config_rows": _config_rows(m.get("config")),
                            "notes": rec.notes, "description": m.get("description", ""),
                            "title": m.get("title", name), "pillar": m.get("pillar", "")})
    n_pass = sum(r.claim.passed for r in summary)
    errors = [e["name"] for e in experiments if not e["ok"]]
    hosts = sorted({str((e.get("machine") or {}).get("hostname", "?")) for e in experiments})
    seeds = sorted({str(e.get("seed")) for e in experiments})
    versions = experiments[0].get("versions") or {} if experiments else {}
    wall = sum(float(e.get("wall_time_s") or 0.0) for e in experiments)
    return {
        "title": title,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "experiments": experiments,
        "summary": summary,
        "n_pass": n_pass,
        "n_fail": len(summary) - n_pass,
        "errors": errors,
        "overview": [("machines", ", ".join(hosts)), ("seeds", ", ".join(seeds)),
                     ("total wall time", f"{wall:.1f} s (sum over experiments)"),
                     ("versions", " · ".join(f"{k} {v}" for k, v in versions.items()))],
    }


def build_report(results_dir: str | os.PathLike = "results", output: str | os.PathLike | None = None,
                 title: str = "dltheory report") -> Path:
    """Write the HTML report of every run under ``results_dir``.

    Parameters
    ----------
    results_dir : path
        Directory of saved runs (see :mod:`dltheory.lab.runner`).
    output : path, optional
        Defaults to ``results_dir/report.html``.

    Returns
    -------
    pathlib.Path
        The written file (self-contained: figures are embedded as data URIs).
    """
    import jinja2

    records = collect_records(results_dir)
    if not records:
        raise DLTheoryError(f"no experiment results under {results_dir}; run `dltheory run NAME` first")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dltheory.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _fmt
    html = env.get_template("report.html.j2").render(**_context(records, title))
    out = Path(output) if output is not None else Path(results_dir) / "report.html"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)
