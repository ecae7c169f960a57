"""The ``dltheory`` command.

Exit codes:

- 0 — done; FAIL (and INCONCLUSIVE) claims are results, not errors;
- 1 — an experiment errored (``run``, ``reproduce``); the error is recorded and shown in the report;
- 2 — bad input, or a failure of the environment (results directory missing its parent, not a
  directory, read-only when something must be written, full disk, Dask scheduler unreachable or
  not a Dask scheduler): one line on stderr naming the parameter or path and the cause, never a
  traceback, nothing partial left behind;
- 130 — interrupted (finished tasks are kept; re-run to resume).

``list``, ``--help``, ``--version`` and a mistyped experiment name answer at once: they read the
static catalog (:mod:`dltheory.experiments.catalog`) and never import torch, SciPy or pandas.
Without a terminal, tables are printed plain and untruncated (``--format plain|json``) and messages
are never wrapped.
"""

from __future__ import annotations

import ast
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from dltheory.errors import DLTheoryError

if TYPE_CHECKING:
    from rich.console import Console

    from dltheory.lab.executors import Executor
    from dltheory.lab.runner import RunRecord

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="rich" if sys.stdout.isatty() else None,  # plain help off a terminal
                  help="dltheory: deep-learning theory computed and checked against real networks.")


class _LazyConsole:
    """A Rich console made on first use (importing Rich costs start-up time that `list` does not need).

    Messages are never wrapped (``soft_wrap``): a pipe gets one line per message.
    """

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        """The Rich console itself."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    @property
    def is_terminal(self) -> bool:
        stream = sys.stderr if self._stderr else sys.stdout
        if self._console is None:
            return bool(getattr(stream, "isatty", lambda: False)())
        return bool(self._console.is_terminal)


console: Any = _LazyConsole()
err_console: Any = _LazyConsole(stderr=True)


def _table(title: str | None = None) -> Any:
    from rich.table import Table

    return Table(title=title)


def _print_version(value: bool) -> None:
    if value:
        from dltheory import __version__

        print(f"dltheory {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """dltheory: deep-learning theory computed and checked against real networks."""


# -- output: a table on a terminal, plain untruncated text or JSON otherwise ------------------------------------------
FormatOpt = Annotated[Optional[str], typer.Option(
    "--format", help="table (default on a terminal), plain (default otherwise: aligned, untruncated) or json")]
_FORMATS = ("table", "plain", "json")


def _output_format(fmt: str | None, accepted: tuple[str, ...] = _FORMATS) -> str:
    if fmt is None:
        return "table" if console.is_terminal else "plain"
    if fmt not in accepted:
        raise DLTheoryError(f"--format must be one of {', '.join(accepted)}; got {fmt!r}")
    return fmt


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _num(value)
    return " ".join(str(value).split())  # one line per row, whatever the text


def _emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str | None = None) -> None:
    """Print ``rows`` (dicts keyed by ``columns``) as a Rich table, plain aligned text or JSON."""
    if fmt == "json":
        import json

        print(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, default=str))
        return
    if fmt == "table":
        table = _table(title)
        for col in columns:
            table.add_column(col)
        for r in rows:
            table.add_row(*(_cell(r.get(c)) for c in columns))
        console.print(table)
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[k]) for row in cells]) for k, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` items as config overrides: each VALUE is a Python literal (a list becomes a
    tuple) or, if it is not one, the string itself; the config's constraints then check it."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise DLTheoryError(f"--set takes KEY=VALUE (e.g. --set widths=[64,128]); got {item!r}"[:300])
        try:
            value = ast.literal_eval(raw) if len(raw) <= 10_000 else raw
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = raw
        out[key.strip()] = tuple(value) if isinstance(value, list) else value
    return out


ExecutorOpt = Annotated[str, typer.Option("--executor", help="serial, local (process pool on this machine) or dask")]
WorkersOpt = Annotated[Optional[int], typer.Option(min=1, help="worker processes (default min(2, CPUs))")]
SchedulerOpt = Annotated[Optional[str], typer.Option(help="Dask scheduler address tcp://host:port "
                                                          "(default: start a LocalCluster on 127.0.0.1)")]
ForceOpt = Annotated[bool, typer.Option("--force", help="redo tasks even if valid results are stored")]
AllowLargeOpt = Annotated[bool, typer.Option("--allow-large", help="run even if the estimated memory exceeds what is "
                                                                   "available or the time exceeds the limit")]
ConnectTimeoutOpt = Annotated[Optional[float], typer.Option(
    "--connect-timeout", help="seconds to connect and handshake with --scheduler (default 20); "
                              "the scheduler must be trusted: Dask unpickles what it sends")]


def _executor(name: str, workers: int | None, scheduler: str | None, connect_timeout: float | None = None) -> Executor:
    from dltheory.lab.executors import make_executor

    return make_executor(name, workers=workers, scheduler=scheduler, connect_timeout=connect_timeout)


def _report_after_run(out: Path) -> Path | None:
    """Rebuild the report and return its path, unless the results directory is read-only (then say how
    to write it elsewhere) or nothing is published yet."""
    from dltheory.lab.store import ResultsStore
    from dltheory.report import build_report

    store = ResultsStore(out)
    if not store.prepare():
        console.print(f"results directory {out} is read-only ({store.readonly_cause}): stored results were "
                      f"verified and reused, not published; report not rebuilt "
                      f"(`dltheory report --out {out} --output FILE` writes it elsewhere)", highlight=False)
        return None
    if not store.published():
        console.print(f"no canonical results in {out} yet (exploration runs only): report not built", highlight=False)
        return None
    return build_report(out)


def _exploration_note(rec: RunRecord) -> str:
    return (f"{rec.name}: exploration run ({rec.exploration}), stored as {rec.label}; the canonical report is "
            f"unchanged (`dltheory report --include {rec.label}` shows it beside the report)")


def _interrupted(state: Any) -> NoReturn:
    """After Ctrl-C: say what was kept and exit with code 130 at once.

    The executor has already stopped its workers and every finished task is stored (written
    atomically), so the interpreter's clean-up (seconds for torch, SciPy and pandas on a loaded
    machine) is skipped: the process ends within the 2 s a user waits for.
    """
    sys.stdout.flush()
    sys.stderr.write(f"interrupted; {state.finished} of {state.total} tasks finished and kept; re-run to resume\n")
    sys.stderr.flush()
    os._exit(130)


@app.command("list")
def list_experiments(fmt: FormatOpt = None) -> None:
    """List the registered experiments (built-in and plug-ins), without importing any of them."""
    from dltheory.experiments.catalog import catalog

    fmt = _output_format(fmt)
    rows = [{"name": e.name, "pillar": e.pillar, "title": e.title, "source": e.source, "module": e.module}
            for e in catalog().values()]
    columns = ["name", "pillar", "title"] + (["source"] if any(r["source"] != "builtin" for r in rows) else [])
    _emit(rows, columns if fmt != "json" else ["name", "pillar", "title", "source", "module"], fmt,
          "dltheory experiments")


def _known(name: str) -> None:
    """A one-line error with "did you mean" for an unknown experiment name, before anything heavy is imported."""
    from dltheory.experiments.catalog import check_name

    check_name(name)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="experiment name (see `dltheory list`)")],
    out: Annotated[Path, typer.Option(help="results directory (for the recorded wall times)")] = Path("results"),
    fmt: FormatOpt = None,
) -> None:
    """Config fields of an experiment with their quick and full values and constraints, and its recorded cost."""
    _known(name)
    fmt = _output_format(fmt)
    from dltheory.experiments import get_experiment
    from dltheory.lab.constraints import constraints_of

    exp = get_experiment(name)
    quick, full = exp.config_cls.quick().to_dict(), exp.config_cls.full().to_dict()
    constraints = constraints_of(exp.config_cls)
    rows = [{"field": f, "quick": quick[f], "full": full[f],
             "constraint": constraints[f].describe() if f in constraints else ""} for f in quick]
    costs = _recorded_costs(out)
    wall = {s: costs.get((name, s)) for s in ("quick", "full")}
    if fmt == "json":
        import json

        print(json.dumps({"name": exp.name, "pillar": exp.pillar, "title": exp.title, "module": exp.module,
                          "description": exp.description, "fields": rows, "wall_time_s": wall}, indent=2, default=str))
        return
    measured = ", ".join(f"{s} {_num(v)} s" if v is not None else f"{s} not run yet" for s, v in wall.items())
    header = [f"{exp.name} ({exp.pillar}): {exp.title}", " ".join(exp.description.split()),
              f"module {exp.module}; measured wall time in {out}: {measured}"]
    for line in header:
        console.print(line, highlight=False, markup=False)
    for r in rows:
        r["quick"], r["full"] = _json(r["quick"]), _json(r["full"])
    _emit(rows, ["field", "quick", "full", "constraint"], fmt, f"{exp.name} config")


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _recorded_costs(out: Path) -> dict[tuple[str, str], float]:
    """Recorded wall times per (experiment, scale) in results directory ``out`` (nothing if there is none)."""
    if not (out / "manifest.json").is_file() and not (out / "runs").is_dir():
        return {}
    from dltheory.lab.store import ResultsStore

    return ResultsStore(out).recorded_costs()


@app.command("results")
def results(
    out: Annotated[Path, typer.Option(help="results directory")] = Path("results"),
    fmt: Annotated[Optional[str], typer.Option(
        "--format", help="csv, json, md, plain (default off a terminal) or table (default on one)")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="also exploration runs (not in the canonical report)")
                        ] = False,
) -> None:
    """Every stored claim, one row each (the same as dltheory.load_results()), read through the verifying store."""
    fmt = _output_format(fmt, ("table", "plain", "json", "csv", "md"))
    import warnings

    from dltheory.lab.results import COLUMNS, load_results

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        frame = load_results(out, exploration=all_runs)
    skipped = frame.attrs.get("skipped", {})
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2) + "\n")
    elif fmt == "md":
        sys.stdout.write(_markdown(frame))
    else:
        rows = frame.to_dict(orient="records")
        columns = list(COLUMNS)
        if fmt == "table":  # the essentials, to fit a terminal; plain and the file formats have every column
            for r in rows:
                r["key"] = str(r["key"])[:12]
                r["measured"] = _num(r["measured"]) + (f" ± {_num(r['se'])}" if r["se"] == r["se"] else "")
            columns = (["experiment", "claim", "verdict", "measured", "target", "delta", "reason", "scale"]
                       + (["key", "overrides"] if all_runs else []))
        _emit(rows, columns, fmt, f"claims in {out}")
    for label, cause in skipped.items():
        err_console.print(f"not read: {label}: {cause}", highlight=False, markup=False)


def _markdown(frame: Any) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (pipes in cells escaped)."""
    def cell(v: Any) -> str:
        return _cell(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


_VERDICT_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow", "reported": "dim"}


def _print_claims(records: list[RunRecord]) -> str:
    """Print every claim (verdict, measured ± SE, target, δ, reason); return the summary line.

    A Rich table on a terminal; plain, untruncated rows otherwise.
    """
    from dltheory.lab.verdicts import count_verdicts, summary_line

    table = _table("claims")
    columns = ("experiment", "claim", "verdict", "measured ± SE", "target", "δ", "reason")
    for col in columns:
        table.add_column(col)
    claims, plain = [], []
    for rec in records:
        name = rec.label if rec.exploration else rec.name
        if not rec.ok:
            table.add_row(name, "(experiment errored)", "[red]error[/red]", "", "", "", rec.error or "")
            plain.append(dict(zip(columns, (name, "(experiment errored)", "error", "", "", "", rec.error))))
        for c in rec.claims:
            claims.append(c)
            measured = _num(c.measured) + (f" ± {_num(c.se)}" if c.se is not None else "")
            target, delta = "" if c.target is None else _num(c.target), "" if c.delta is None else _num(c.delta)
            style = _VERDICT_STYLE[c.verdict.value]
            table.add_row(name, c.name, f"[{style}]{c.verdict.value}[/{style}]", measured, target, delta, c.reason)
            plain.append(dict(zip(columns, (name, c.name, c.verdict.value, measured, target, delta, c.reason))))
    if console.is_terminal:
        console.print(table)
    else:
        _emit(plain, list(columns), "plain")
    return summary_line(count_verdicts(claims))


def _num(value: float | None) -> str:
    return f"{value:.4g}" if value is not None and math.isfinite(value) else "—"


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="experiment name (see `dltheory list`)")],
    scale: Annotated[str, typer.Option(help="quick or full")] = "quick",
    seed: Annotated[int, typer.Option(min=0, help="global seed")] = 0,
    out: Annotated[Path, typer.Option(help="results directory")] = Path("results"),
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override a config field: KEY=VALUE")] = None,
    report: Annotated[bool, typer.Option(help="rebuild the HTML report afterwards")] = True,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    connect_timeout: ConnectTimeoutOpt = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Run one experiment (reusing a valid stored result unless --force), and rebuild the report.

    The experiment runs in this process; its inner sweeps run on the executor. A stored result is
    verified (checksums) before it is reused; on a read-only results directory a valid one is
    reused without publishing it. A run with --set overrides, or at a scale other than the
    report's, is an exploration run: stored under its own key and left out of the canonical report
    (`dltheory report --include NAME@KEY` shows it). Exit code 1 if the experiment errored.
    """
    _known(name)  # a mistyped name fails at once, with a suggestion
    from dltheory.lab.store import check_results_dir

    check_results_dir(out)  # bad environment and options fail in ~1 s, before experiments are imported
    from dltheory.lab.executors import check_executor_args
    from dltheory.lab.progress import SweepState, progress_display
    from dltheory.lab.runner import make_task, run_sweep

    check_executor_args(executor, workers, scheduler, connect_timeout)
    task = make_task(name, scale=scale, seed=seed, overrides=parse_overrides(set_))

    def done(rec: RunRecord, skipped: bool) -> None:
        if skipped:
            console.print(f"{rec.label if rec.exploration else rec.name}: valid stored result reused (--force to "
                          "redo)", highlight=False)

    state = SweepState()
    try:
        with _executor(executor, workers, scheduler, connect_timeout) as ex, progress_display(console.get()):
            (record,) = run_sweep([task], out_dir=out, executor=ex, force=force, on_done=done, publish="auto",
                                  state=state, allow_large=allow_large)
    except KeyboardInterrupt:
        _interrupted(state)
    if not record.ok:
        err_console.print(f"[red]{record.name} errored:[/red] {record.error}", highlight=False)
    summary = _print_claims([record])
    console.print(f"{summary}; results in {record.directory} ({record.wall_time_s:.1f} s)", highlight=False)
    if record.exploration:
        console.print(_exploration_note(record), highlight=False, markup=False)
    if report and (path := _report_after_run(out)) is not None:
        console.print(f"report: {path}", highlight=False)
    if not record.ok:
        raise typer.Exit(1)


@app.command("reproduce")
def reproduce(
    quick: Annotated[bool, typer.Option("--quick/--full", help="quick (minutes) or full (research) scale")] = True,
    seed: Annotated[int, typer.Option(min=0, help="global seed")] = 0,
    out: Annotated[Path, typer.Option(help="results directory")] = Path("results"),
    only: Annotated[Optional[list[str]], typer.Option(help="run only these experiments (repeatable)")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    connect_timeout: ConnectTimeoutOpt = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Run every experiment and write the HTML report (results/report.html).

    Each experiment is one task on the executor; tasks whose valid results are stored (same
    experiment, config, code version and seed) are skipped unless --force, so an interrupted run
    (Ctrl-C) keeps its finished tasks and resumes where it stopped. Reproducing every experiment
    sets the canonical report's scale; with --only at another scale the runs are exploration runs.
    """
    from dltheory.experiments.catalog import catalog, check_name

    known = catalog()
    for n in only or []:
        check_name(n, known)  # a typo fails at once, with a suggestion
    from dltheory.lab.store import check_results_dir

    check_results_dir(out)
    from dltheory.experiments import get_experiment
    from dltheory.lab.executors import check_executor_args
    from dltheory.lab.progress import SweepState, progress_display
    from dltheory.lab.runner import make_task, run_sweep
    from dltheory.lab.store import ResultsStore

    check_executor_args(executor, workers, scheduler, connect_timeout)
    names = list(dict.fromkeys(only)) if only else list(known)
    scale = "quick" if quick else "full"
    tasks = [make_task(get_experiment(n), scale=scale, seed=seed) for n in names]
    if not tasks:
        raise DLTheoryError("no experiments are registered; nothing to reproduce")
    store = ResultsStore(out)
    if not only and store.prepare():
        store.set_canonical_scale(scale)  # everything is reproduced: this scale is the report's
    state = SweepState()

    def done(rec: RunRecord, skipped: bool) -> None:
        name = rec.label if rec.exploration else rec.name
        progress = f"[{state.finished}/{state.total}, ETA {_clock(state.eta_s())}]"
        if not rec.ok:
            err_console.print(f"[red]{name} errored:[/red] {rec.error} {progress}", highlight=False)
        elif skipped:
            console.print(f"{name}: valid stored result reused {progress}", highlight=False)
        else:
            console.print(f"{name}: done in {rec.wall_time_s:.1f} s {progress}", highlight=False)
        if rec.exploration and not skipped:
            console.print(_exploration_note(rec), highlight=False, markup=False)

    try:
        with _executor(executor, workers, scheduler, connect_timeout) as ex, progress_display(console.get()):
            console.print(f"{len(tasks)} experiment(s), {scale} scale, seed {seed}, executor {ex.name} "
                          f"({ex.workers} worker(s))", highlight=False)
            records = run_sweep(tasks, out_dir=out, executor=ex, force=force, on_done=done, publish="auto",
                                state=state, allow_large=allow_large)
    except KeyboardInterrupt:
        _interrupted(state)
    summary = _print_claims(records)
    path = _report_after_run(out)
    console.print(f"{summary}; report: {path if path is not None else 'not rebuilt'}", highlight=False)
    errored = sum(not r.ok for r in records)
    if errored:
        err_console.print(f"{errored} experiment(s) errored; see the report")
        raise typer.Exit(1)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@app.command("report")
def report(
    out: Annotated[Path, typer.Option(help="results directory")] = Path("results"),
    output: Annotated[Optional[Path], typer.Option(help="report file (default OUT/report.html)")] = None,
    include: Annotated[Optional[list[str]], typer.Option(
        help="also show this exploration run, NAME@KEY (repeatable; `dltheory results --all` lists keys)")] = None,
) -> None:
    """Rebuild the HTML report from saved results (verified; invalid ones are marked, not shown).

    The report shows the canonical runs; exploration runs (--set, another scale) appear only with
    --include, as labelled extras that are never counted.
    """
    from dltheory.report import build_report

    console.print(f"report: {build_report(out, output=output, include=include or ())}", highlight=False)


@app.command("criticality")
def criticality(activation: Annotated[str, typer.Argument(help="activation name, e.g. gelu")]) -> None:
    """Universality class, critical (C_b, C_W), fixed point K* and susceptibilities there."""
    import numpy as np

    from dltheory.effective import critical_point, universality_class

    cls = universality_class(activation)
    table = _table(f"criticality of {activation}")
    table.show_header = False
    table.add_row("universality class", cls.name)
    cp = critical_point(activation)
    if cls.name == "none":
        table.add_row("critical point", "none: χ_∥ = χ_⊥ = 1 has no solution with C_b ≥ 0")
    else:
        k_star = "any (scale-invariant: χ = 1 for every K)" if np.isnan(cp.k_star) else f"{cp.k_star:.9f}"
        for label, value in (("C_b", f"{cp.cb:.9f}"), ("C_W", f"{cp.cw:.9f}"), ("K*", k_star),
                             ("chi_parallel(K*)", f"{cp.chi_parallel:.9f}"), ("chi_perp(K*)", f"{cp.chi_perp:.9f}")):
            table.add_row(label, value)
        if cls.name == "half-stable":
            table.add_row("f''(K*)", f"{cp.f_second:.4g} (stable from {cp.stable_side})")
    for label in ("a1", "b1"):
        coefficient = getattr(cls, label, None)
        if coefficient is not None and np.isfinite(coefficient) and cls.name in ("K*=0", "half-stable"):
            table.add_row(label, f"{coefficient:.6g}")
    console.print(table)


@app.command("kernel")
def kernel(
    activation: Annotated[str, typer.Option(help="activation name")] = "relu",
    depth: Annotated[int, typer.Option(help="number of layers L")] = 10,
    cb: Annotated[float, typer.Option(help="bias variance C_b")] = 0.0,
    cw: Annotated[float, typer.Option(help="weight variance C_W")] = 2.0,
    inputs: Annotated[Optional[Path], typer.Option(help=".npy file of inputs, shape (P, n0)")] = None,
    lambda_b: Annotated[float, typer.Option(help="bias learning-rate weight")] = 1.0,
    lambda_w: Annotated[float, typer.Option(help="weight learning-rate weight")] = 1.0,
    save: Annotated[Optional[Path], typer.Option(help="save K and Theta (depth, P, P) to this .npz")] = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """NNGP kernel K^(l) and mean NTK Theta^(l) per layer for the given inputs (bounded: see dltheory.lab.inputs)."""
    import numpy as np

    from dltheory.lab.inputs import check_kernel_estimate, check_kernel_options, read_inputs

    opts = check_kernel_options(activation=activation, depth=depth, cb=cb, cw=cw, lambda_b=lambda_b,
                                lambda_w=lambda_w)  # before the math is imported: bad input fails fast
    x = np.eye(2, 4) + 0.5 if inputs is None else read_inputs(inputs)
    check_kernel_estimate(activation, depth, x.shape[0], x.shape[1], allow_large)
    from dltheory.effective import ntk_recursion

    k, theta = ntk_recursion(x, opts["depth"], opts["activation"], opts["cb"], opts["cw"], lambda_b=opts["lambda_b"],
                             lambda_w=opts["lambda_w"])  # every layer checked: overflow is a one-line error
    if save is not None:
        np.savez(save, nngp=k, ntk=theta, inputs=x)
        console.print(f"saved nngp and ntk, shape {k.shape}, to {save}")
        return
    np.set_printoptions(precision=6, suppress=True, linewidth=120)
    for layer in range(depth):
        console.print(f"[bold]layer {layer + 1}[/bold]\nNNGP K:\n{k[layer]}\nNTK Theta:\n{theta[layer]}")


def _one_line_error(message: str) -> None:
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")  # one line, never wrapped
    sys.stderr.flush()
    sys.exit(2)


def main() -> None:
    """Entry point: run the Typer app; bad input exits with code 2 and a one-line message."""
    try:
        code = app(standalone_mode=False)  # usage errors come back as exceptions: printed as one line below
    except typer.Abort:  # Ctrl-C outside run/reproduce's sweeps (which say what they kept)
        sys.stderr.write("interrupted; finished tasks are kept; re-run to resume\n")
        sys.exit(130)
    except DLTheoryError as exc:
        _one_line_error(str(exc))
    except OSError as exc:  # an environment failure not caught closer to its cause
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _one_line_error(f"{where}{exc.strerror or exc}")
    except Exception as exc:  # click's (or typer's vendored click's) usage errors, by their interface
        if not (callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # `dltheory` alone: the help (already printed)
            if exc.format_message().strip():
                sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        _one_line_error(f"{exc.format_message()}{hint}")
    except KeyboardInterrupt:
        err_console.print("interrupted; finished tasks are saved, re-run to resume", highlight=False)
        sys.exit(130)
    else:
        sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
