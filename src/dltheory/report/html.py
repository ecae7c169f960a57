"""Render every saved experiment run into one self-contained HTML page (figures embedded)."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

from dltheory.errors import DLTheoryError
from dltheory.experiments.runner import RunRecord, load_record

__all__ = ["build_report", "collect_records"]


def collect_records(results_dir: str | os.PathLike) -> list[RunRecord]:
    """All runs saved under ``results_dir`` (one sub-directory with ``meta.json`` each)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise DLTheoryError(f"results directory {root} does not exist; run `dltheory run NAME` first")
    records = [load_record(d) for d in sorted(root.iterdir()) if (d / "meta.json").is_file()]
    order = {"effective": 0, "richness": 1, "neurashed": 2, "weightspace": 3}
    records.sort(key=lambda r: (order.get(r.meta.get("pillar"), 9), r.meta["name"]))
    return records


def _figure_data(record: RunRecord, name: str) -> str | None:
    path = record.directory / f"{name}.png"
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _context(records: list[RunRecord], title: str) -> dict[str, Any]:
    experiments = []
    summary = []
    for rec in records:
        m = rec.meta
        figures = [{"name": f, "anchor": f"{m['name']}--{f}", "src": _figure_data(rec, f)} for f in m.get("figures", [])]
        claims = []
        for c in m.get("claims", []):
            c = dict(c)
            c["anchor"] = f"{m['name']}--claim--{c['name']}"
            c["figure_anchor"] = f"{m['name']}--{c['figure']}" if c.get("figure") else None
            claims.append(c)
            summary.append({**c, "experiment": m["name"], "experiment_title": m.get("title", m["name"])})
        experiments.append({**m, "anchor": m["name"], "figure_list": figures, "claim_list": claims})
    n_pass = sum(c["passed"] for c in summary)
    errors = [e["name"] for e in experiments if e.get("status") != "ok"]
    return {
        "title": title,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "experiments": experiments,
        "summary": summary,
        "n_pass": n_pass,
        "n_fail": len(summary) - n_pass,
        "errors": errors,
    }


def build_report(results_dir: str | os.PathLike = "results", output: str | os.PathLike | None = None,
                 title: str = "dltheory report") -> Path:
    """Write the HTML report of every run under ``results_dir``.

    Parameters
    ----------
    results_dir : path
        Directory of saved runs (see :mod:`dltheory.experiments.runner`).
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
    if value is None:
        return "—"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)
