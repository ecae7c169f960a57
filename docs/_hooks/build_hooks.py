"""MkDocs hooks of the dltheory site: pages generated at build time.

- ``experiments.md``: every registered experiment (name, pillar, title, description, config fields
  at the quick and full scales) read from :func:`dltheory.experiments.all_experiments`, with the
  claims, verdicts and wall times of a committed results table when ``docs/results/`` holds one;
- ``api/*.md``: one API-reference page per public subpackage or top-level module of
  ``src/dltheory``, found by walking the package tree, so a new module appears by itself;
- on every page, a cross-reference written with the public import path, e.g.
  ``[kernel_recursion][dltheory.effective.kernel_recursion]``, is pointed at the place where the
  object is defined and documented (``dltheory.effective.kernels.kernel_recursion``), so pages cite
  the names users import and keep working when a definition moves between modules. A name that
  does not exist fails the strict build.

Committed results (``docs/results/``, optional): ``*.csv``, ``*.json`` (a list of records, or an
object with a ``claims`` list) or ``*.parquet`` files with one row per claim. Recognised columns:
``experiment``, ``claim`` (or ``name``), ``verdict`` (or a boolean ``passed``), ``measured``,
``delta`` (or ``δ``), ``se``, ``target``, ``scale``, ``wall_time_s`` (or ``wall_time``). Missing
columns are shown as blanks; an empty or absent directory gives a page without results.

Nothing here needs the network; the build fails (strict mode) if the registry cannot be imported.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
import json
import logging
import math
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.dltheory")

PACKAGE = "dltheory"
API_NAV_TITLE = "API reference"
# Modules left out of the API reference: the CLI (documented on the getting-started page) and the
# experiment modules (documented on the generated experiments page); their machinery is in `lab`.
SKIP_MODULES = {"dltheory.cli", "dltheory.__main__"}
EXPERIMENT_PACKAGE = "dltheory.experiments"
EXPERIMENT_PACKAGE_KEEP = {"dltheory.experiments.registry"}
ORDER = ["effective", "nets", "data", "activations", "stats", "richness", "neurashed", "weightspace",
         "lab", "experiments", "report", "errors"]
PILLARS = {
    "effective": ("Effective theory", "theory/effective.md"),
    "richness": ("Richness", "theory/richness.md"),
    "neurashed": ("Neurashed", "theory/neurashed.md"),
    "weightspace": ("Weight space", "theory/weight-space.md"),
}


# --------------------------------------------------------------------------------------- package tree
def _package_dir(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent / "src" / PACKAGE


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def _modules_under(directory: Path, dotted: str) -> list[str]:
    """Dotted names of the public modules and subpackages below ``directory`` (depth first, sorted)."""
    out: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.is_dir() and (path / "__init__.py").is_file() and _is_public(path.name):
            out.append(f"{dotted}.{path.name}")
            out.extend(_modules_under(path, f"{dotted}.{path.name}"))
        elif path.suffix == ".py" and path.stem != "__init__" and _is_public(path.stem):
            out.append(f"{dotted}.{path.stem}")
    return out


def api_pages(package_dir: Path) -> list[tuple[str, str, list[str]]]:
    """``(title, page path, [module, ...])`` per top-level public entry of the package."""
    entries: list[tuple[str, str, list[str]]] = []
    for path in sorted(package_dir.iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        if not _is_public(name) or name == "__init__":
            continue
        dotted = f"{PACKAGE}.{name}"
        if path.is_dir() and (path / "__init__.py").is_file():
            modules = [dotted] + _modules_under(path, dotted)
        elif path.suffix == ".py":
            modules = [dotted]
        else:
            continue
        modules = [m for m in modules if m not in SKIP_MODULES and (
            not m.startswith(EXPERIMENT_PACKAGE + ".") or m in EXPERIMENT_PACKAGE_KEEP)]
        if modules:
            entries.append((dotted, f"api/{name}.md", modules))
    rank = {n: i for i, n in enumerate(ORDER)}
    entries.sort(key=lambda e: (rank.get(e[0].split(".")[1], len(ORDER)), e[0]))
    return entries


def _api_page(title: str, modules: list[str]) -> str:
    root, *rest = modules
    lines = [f"# `{title}`", ""]
    pillar = PILLARS.get(root.split(".")[1])
    if pillar:
        lines += [f"The theory behind this package, in words and equations: [{pillar[0]}](../{pillar[1]}).", ""]
    # the root's docstring (and, for a single module, its members) under the page title; then each
    # submodule of a package with its own heading
    lines += [f"::: {root}", "    options:", "      show_root_heading: false"]
    lines += ["      members: false", ""] if rest else [""]
    for module in rest:
        lines += [f"::: {module}", ""]
    return "\n".join(lines)


def _api_index(entries: list[tuple[str, str, list[str]]]) -> str:
    lines = [
        "# API reference",
        "",
        ("Generated from the numpydoc docstrings of the package, one page per public subpackage or module "
         "(names starting with `_` are private and not shown). Shapes and the equations each function "
         "implements are in its docstring; the theory pages explain the equations."),
        "",
        ("Docstrings cite sections of the project's specifications, e.g. `effective-theory.md §5.3` or "
         "`richness.md §10`. The specifications are not part of the package; the theory pages "
         "([effective theory](../theory/effective.md), [richness](../theory/richness.md), "
         "[neurashed](../theory/neurashed.md), [weight space](../theory/weight-space.md)) carry the same "
         "section numbers in their headings. Labels such as [DER] (derived for this project), [BOOK] (the "
         "book as reconstructed), [MC] / [NUM] (verified by Monte Carlo / numerically) and *(reconstruction)* "
         "say what is a paper's and what is ours; each theory page explains its labels."),
        "",
        "| page | modules |",
        "|---|---|",
    ]
    for title, page, modules in entries:
        shown = ", ".join(f"`{m}`" for m in modules[:8]) + (" …" if len(modules) > 8 else "")
        lines.append(f"| [`{title}`]({Path(page).name}) | {shown} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- MkDocs events
_STATE: dict[str, Any] = {}


def on_config(config: Any) -> Any:
    """Put the generated API pages into the navigation (the ``API reference`` entry)."""
    _STATE.clear()  # `mkdocs serve` rebuilds: re-read the package tree
    entries = api_pages(_package_dir(config))
    _STATE["api"] = entries
    api_nav: list[Any] = [{"Overview": "api/index.md"}] + [{title: page} for title, page, _ in entries]
    nav = config.nav or []
    for i, item in enumerate(nav):
        if isinstance(item, dict) and API_NAV_TITLE in item:
            nav[i] = {API_NAV_TITLE: api_nav}
            break
    else:
        nav.append({API_NAV_TITLE: api_nav})
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages (API reference, experiment list)."""
    entries = _STATE.get("api") or api_pages(_package_dir(config))
    generated = {"api/index.md": _api_index(entries)}
    for title, page, modules in entries:
        generated[page] = _api_page(title, modules)
    generated["experiments.md"] = experiments_page(Path(config.docs_dir) / "results", _package_dir(config))
    for uri, content in generated.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files


# ------------------------------------------------------------------------------- cross-references
_XREF = re.compile(r"\]\[(?P<path>dltheory(?:\.\w+)+)\]")


def _griffe_package(config: Any) -> Any:
    if "griffe" not in _STATE:
        import griffe

        _STATE["griffe"] = griffe.load(PACKAGE, search_paths=[str(_package_dir(config).parent)],
                                       docstring_parser=None)
    return _STATE["griffe"]


def canonical_path(package: Any, path: str) -> str | None:
    """Where the object imported as ``path`` is defined (following re-exports), or None."""
    try:
        obj = package[path[len(PACKAGE) + 1:]] if path != PACKAGE else package
        return obj.final_target.path if obj.is_alias else obj.path
    except Exception:  # noqa: BLE001 - unknown name or an alias that leaves the package
        return None


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Point public-path cross-references at the documented definition."""
    if "][dltheory" not in markdown:
        return markdown
    package = _griffe_package(config)

    def replace(match: re.Match[str]) -> str:
        target = canonical_path(package, match["path"])
        if target is None:
            log.warning("%s: no object %s in the package (cross-reference left unresolved)",
                        page.file.src_uri, match["path"])
            return match[0]
        return f"][{target}]"

    return _XREF.sub(replace, markdown)


# ------------------------------------------------------------------------------------- experiments page
def _ensure_importable(package_dir: Path) -> None:
    if PACKAGE not in sys.modules:
        src = str(package_dir.parent)
        if src not in sys.path:
            sys.path.insert(0, src)


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_fmt_value(v) for v in value)
        return f"({inner}{',' if len(value) == 1 and isinstance(value, tuple) else ''})" \
            if isinstance(value, tuple) else f"[{inner}]"
    return repr(value) if isinstance(value, str) else str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_text(text: str, table: bool = True) -> str:
    """Plain text shown as Markdown: emphasis characters escaped (``r*``, ``n_L``), and ``|`` in tables."""
    out = str(text).replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
    return _cell(out) if table else out


def _type_name(tp: Any) -> str:
    if isinstance(tp, str):
        return tp
    text = getattr(tp, "__name__", None) if not getattr(tp, "__args__", None) else None
    return text or str(tp).replace("typing.", "")


def _config_table(config_cls: type) -> list[str]:
    try:
        quick, full = config_cls.quick(), config_cls.full()
    except Exception as exc:  # noqa: BLE001 - shown on the page and logged (fails a strict build)
        log.warning("experiments page: %s.quick()/full() failed: %s", config_cls.__qualname__, exc)
        return [f"*Configuration unavailable: {type(exc).__name__}: {exc}*"]
    lines = ["| field | type | quick | full |", "|---|---|---|---|"]
    for f in dataclasses.fields(quick):
        q, fl = getattr(quick, f.name), getattr(full, f.name)
        mark = "**" if q != fl else ""
        lines.append(f"| {mark}`{f.name}`{mark} | {_cell(_type_name(f.type))} | `{_cell(_fmt_value(q))}` "
                     f"| `{_cell(_fmt_value(fl))}` |")
    return lines


_ALIASES = {
    "claim": ("claim", "name"),
    "verdict": ("verdict", "status", "result"),
    "measured": ("measured", "value"),
    "delta": ("delta", "δ", "effect_size"),
    "se": ("se", "SE", "standard_error"),
    "target": ("target", "theory"),
    "scale": ("scale",),
    "wall_time_s": ("wall_time_s", "wall_time", "wall_s"),
    "experiment": ("experiment", "experiment_name"),
}


def _normalise(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, names in _ALIASES.items():
        for n in names:
            if n in record and record[n] is not None and not (isinstance(record[n], float) and math.isnan(record[n])):
                out[key] = record[n]
                break
    if "verdict" not in out and "passed" in record and record["passed"] is not None:
        out["verdict"] = "pass" if bool(record["passed"]) else "fail"
    if "verdict" in out:
        out["verdict"] = str(getattr(out["verdict"], "value", out["verdict"])).lower()
    return out


def load_committed_results(results_dir: Path) -> list[dict[str, Any]]:
    """Claim rows of every results file in ``results_dir`` (empty list when there are none)."""
    rows: list[dict[str, Any]] = []
    if not results_dir.is_dir():
        return rows
    for path in sorted(results_dir.iterdir()):
        records: Iterable[dict[str, Any]] = []
        try:
            if path.suffix == ".csv":
                import pandas as pd

                records = pd.read_csv(path).to_dict("records")
            elif path.suffix == ".parquet":
                import pandas as pd

                records = pd.read_parquet(path).to_dict("records")
            elif path.suffix == ".json":
                data = json.loads(path.read_text(encoding="utf-8"))
                records = data.get("claims", []) if isinstance(data, dict) else data
            else:
                continue
        except Exception as exc:  # noqa: BLE001 - a broken committed file must fail the strict build
            log.warning("docs/results/%s cannot be read: %s", path.name, exc)
            continue
        for rec in records:
            if isinstance(rec, dict):
                row = _normalise(rec)
                if "experiment" in row and "claim" in row:
                    row["source"] = path.name
                    rows.append(row)
    return rows


def _num(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _cell(value)
    return f"{x:.4g}" if math.isfinite(x) else "—"


def _wall(seconds: Any) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(s):
        return ""
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


_VERDICT_ORDER = ("pass", "fail", "inconclusive", "reported")


def _counts(rows: list[dict[str, Any]]) -> str:
    verdicts = [r.get("verdict", "") for r in rows]
    parts = [f"{verdicts.count(v)} {v}" for v in _VERDICT_ORDER if verdicts.count(v)]
    other = len([v for v in verdicts if v not in _VERDICT_ORDER])
    return ", ".join(parts + ([f"{other} other"] if other else []))


def _results_section(rows: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    scales = sorted({str(r.get("scale", "")) for r in rows})
    for scale in scales:
        sub = [r for r in rows if str(r.get("scale", "")) == scale]
        walls = [float(r["wall_time_s"]) for r in sub if _wall(r.get("wall_time_s"))]
        head = f"**Committed results{f', {scale} scale' if scale else ''}**"
        head += f" ({_counts(sub)}" + (f"; wall time {_wall(max(walls))}" if walls else "") + ")"
        lines += [head, "", "| claim | verdict | measured | target | δ | SE |", "|---|---|---|---|---|---|"]
        for r in sub:
            lines.append(f"| `{_cell(r['claim'])}` | {_cell(r.get('verdict', ''))} | {_num(r.get('measured'))} "
                         f"| {_num(r.get('target'))} | {_num(r.get('delta'))} | {_num(r.get('se'))} |")
        lines.append("")
    return lines


_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`<>]+?)`")


def _roles_to_links(text: str, module: str) -> str:
    """Sphinx roles in a module docstring become optional autorefs links (plain code if unresolved)."""
    def replace(match: re.Match[str]) -> str:
        target = match["target"].strip().rstrip("()")
        shown = target.split(".")[-1] if match["tilde"] else target
        identifier = target if target.startswith(PACKAGE + ".") else f"{module}.{target}"
        return f'<autoref identifier="{html.escape(identifier)}" optional><code>{html.escape(shown)}</code></autoref>'

    return _ROLE.sub(replace, text)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def experiments_page(results_dir: Path, package_dir: Path) -> str:
    """Markdown of the experiments page (see the module docstring)."""
    _ensure_importable(package_dir)
    head = [
        "# Experiments",
        "",
        ("Every experiment registered in `dltheory.experiments`, generated from the registry when this site "
         "was built. Each one is run by `dltheory run NAME --scale quick|full` (or all of them by "
         "`dltheory reproduce`), stores a tidy table and figures, and decides its claims as described in "
         "[How verdicts work](verdicts.md). Config fields that differ between the two scales are in bold; "
         "any field can be overridden with `--set FIELD=VALUE`."),
        "",
    ]
    try:
        from dltheory.experiments import all_experiments

        experiments = [e for e in all_experiments().values()
                       if getattr(e.config_cls, "__module__", "").startswith(EXPERIMENT_PACKAGE + ".")]
    except Exception as exc:  # noqa: BLE001 - logged as a warning: fails the strict build, on purpose
        log.warning("experiments page: the registry could not be imported: %s: %s", type(exc).__name__, exc)
        return "\n".join(head + [f"*The experiment registry could not be imported: {type(exc).__name__}.*", ""])

    rows = load_committed_results(results_dir)
    by_exp: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_exp.setdefault(str(r["experiment"]), []).append(r)
    known = {e.name for e in experiments}
    for name in sorted(set(by_exp) - known):
        log.warning("docs/results: results for unknown experiment %r", name)
    if rows:
        head += ["Claims, verdicts and wall times below come from the committed results tables in "
                 "`docs/results/` (" + ", ".join(sorted({r['source'] for r in rows})) + ").", ""]
    else:
        head += [("No results table is committed yet (`docs/results/` is empty), so claims and wall times are "
                  "not listed here: run an experiment to see them in `results/report.html`."), ""]

    def wall_for(name: str, scale: str) -> str:
        walls = [float(r["wall_time_s"]) for r in by_exp.get(name, [])
                 if str(r.get("scale", "")) == scale and _wall(r.get("wall_time_s"))]
        return _wall(max(walls)) if walls else "—"

    if rows:
        summary = ["| experiment | pillar | what it checks | quick wall time | full wall time | verdicts |",
                   "|---|---|---|---|---|---|"]
        for e in experiments:
            summary.append(f"| [`{e.name}`](#{e.name}) | {e.pillar} | {_md_text(e.title)} "
                           f"| {wall_for(e.name, 'quick')} | {wall_for(e.name, 'full')} "
                           f"| {_counts(by_exp.get(e.name, [])) or '—'} |")
    else:
        summary = ["| experiment | pillar | what it checks |", "|---|---|---|"]
        summary += [f"| [`{e.name}`](#{e.name}) | {e.pillar} | {_md_text(e.title)} |" for e in experiments]
    body: list[str] = []
    pillar_titles = {"effective": "Effective theory", "richness": "Richness", "neurashed": "Neurashed",
                     "weightspace": "Weight space"}
    current = None
    for e in experiments:
        if e.pillar != current:
            current = e.pillar
            title, page = PILLARS.get(e.pillar, (pillar_titles.get(e.pillar, e.pillar), None))
            body += [f"## {title}", ""]
            if page:
                body += [f"Theory: [{title}]({page}).", ""]
        body += [f"### `{e.name}` {{ #{e.name} }}", "", f"**{_md_text(e.title)}**", "",
                 _md_text(e.description.strip(), table=False), ""]
        module = sys.modules.get(e.config_cls.__module__)
        doc = inspect.getdoc(module) if module else None
        if doc:
            notes = _indent(_roles_to_links(doc, e.config_cls.__module__))
            body += [f'??? note "Design notes (`{e.config_cls.__module__}`)"', "", notes, ""]
        body += ["Configuration (`" + e.config_cls.__qualname__ + "`):", ""]
        body += _config_table(e.config_cls) + [""]
        if by_exp.get(e.name):
            body += _results_section(by_exp[e.name])
    return "\n".join(head + summary + [""] + body) + "\n"
