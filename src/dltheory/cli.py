"""The ``dltheory`` command.

Exit codes:

- 0 — done; FAIL (and INCONCLUSIVE) claims are results, not errors;
- 1 — an experiment errored (``run``, ``reproduce``); the error is recorded and shown in the report;
- 2 — bad input, or a failure of the environment (results directory missing its parent, not a
  directory, read-only when something must be written, full disk, Dask scheduler unreachable or
  not a Dask scheduler): one line on stderr naming the parameter or path and the cause, never a
  traceback, nothing partial left behind;
- 130 — interrupted (finished tasks are kept; re-run to resume).
"""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from dltheory.errors import DLTheoryError

if TYPE_CHECKING:
    from dltheory.lab.executors import Executor
    from dltheory.lab.runner import RunRecord

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="dltheory: deep-learning theory computed and checked against real networks.")
console = Console()
err_console = Console(stderr=True)


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


def _report_after_run(out: Path) -> None:
    """Rebuild the report, unless the results directory is read-only (then say how to write it elsewhere)."""
    from dltheory.lab.store import ResultsStore
    from dltheory.report import build_report

    store = ResultsStore(out)
    if not store.prepare():
        console.print(f"results directory {out} is read-only ({store.readonly_cause}): stored results were "
                      f"verified and reused, not published; report not rebuilt "
                      f"(`dltheory report --out {out} --output FILE` writes it elsewhere)", highlight=False)
        return
    console.print(f"report: {build_report(out)}")


@app.command("list")
def list_experiments() -> None:
    """List the registered experiments."""
    from dltheory.experiments import all_experiments

    table = Table(title="dltheory experiments")
    for col in ("name", "pillar", "title"):
        table.add_column(col)
    for exp in all_experiments().values():
        table.add_row(exp.name, exp.pillar, exp.title)
    console.print(table)


_VERDICT_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow", "reported": "dim"}


def _print_claims(records: list[RunRecord]) -> str:
    """Print every claim (verdict, measured ± SE, target, δ, reason); return the summary line."""
    from dltheory.lab.verdicts import count_verdicts, summary_line

    table = Table(title="claims")
    for col in ("experiment", "claim", "verdict", "measured ± SE", "target", "δ", "reason"):
        table.add_column(col)
    claims = []
    for rec in records:
        if not rec.ok:
            table.add_row(rec.name, "(experiment errored)", "[red]error[/red]", "", "", "", rec.error or "")
        for c in rec.claims:
            claims.append(c)
            measured = _num(c.measured) + (f" ± {_num(c.se)}" if c.se is not None else "")
            style = _VERDICT_STYLE[c.verdict.value]
            table.add_row(rec.name, c.name, f"[{style}]{c.verdict.value}[/{style}]", measured,
                          "" if c.target is None else _num(c.target), "" if c.delta is None else _num(c.delta),
                          c.reason)
    console.print(table)
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
    reused without publishing it. Exit code 1 if the experiment errored.
    """
    from dltheory.lab.progress import progress_display
    from dltheory.lab.runner import make_task, run_sweep
    from dltheory.lab.executors import check_executor_args
    from dltheory.lab.store import check_results_dir

    check_results_dir(out)  # bad environment and options fail in ~1 s, before experiments are imported
    check_executor_args(executor, workers, scheduler, connect_timeout)
    task = make_task(name, scale=scale, seed=seed, overrides=parse_overrides(set_))

    def done(rec: RunRecord, skipped: bool) -> None:
        if skipped:
            console.print(f"{rec.name}: valid stored result reused (--force to redo)")

    with _executor(executor, workers, scheduler, connect_timeout) as ex, progress_display(console):
        (record,) = run_sweep([task], out_dir=out, executor=ex, force=force, on_done=done, allow_large=allow_large)
    if not record.ok:
        err_console.print(f"[red]{record.name} errored:[/red] {record.error}")
    summary = _print_claims([record])
    console.print(f"{summary}; results in {record.directory} ({record.wall_time_s:.1f} s)", highlight=False)
    if report:
        _report_after_run(out)
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
    resumes where it stopped.
    """
    from dltheory.experiments import all_experiments, get_experiment
    from dltheory.lab.progress import progress_display
    from dltheory.lab.runner import make_task, run_sweep
    from dltheory.lab.executors import check_executor_args
    from dltheory.lab.store import check_results_dir

    check_results_dir(out)
    check_executor_args(executor, workers, scheduler, connect_timeout)
    names = list(dict.fromkeys(only)) if only else list(all_experiments())
    scale = "quick" if quick else "full"
    tasks = [make_task(get_experiment(n), scale=scale, seed=seed) for n in names]
    if not tasks:
        raise DLTheoryError("no experiments are registered; nothing to reproduce")

    def done(rec: RunRecord, skipped: bool) -> None:
        if not rec.ok:
            err_console.print(f"[red]{rec.name} errored:[/red] {rec.error}", highlight=False)
        elif skipped:
            console.print(f"{rec.name}: valid stored result reused", highlight=False)
        else:
            console.print(f"{rec.name}: done in {rec.wall_time_s:.1f} s", highlight=False)

    with _executor(executor, workers, scheduler, connect_timeout) as ex, progress_display(console):
        console.print(f"{len(tasks)} experiment(s), {scale} scale, seed {seed}, executor {ex.name} "
                      f"({ex.workers} worker(s))", highlight=False)
        records = run_sweep(tasks, out_dir=out, executor=ex, force=force, on_done=done, allow_large=allow_large)
    summary = _print_claims(records)
    _report_after_run(out)
    console.print(summary, highlight=False)
    errored = sum(not r.ok for r in records)
    if errored:
        err_console.print(f"{errored} experiment(s) errored; see the report")
        raise typer.Exit(1)


@app.command("report")
def report(
    out: Annotated[Path, typer.Option(help="results directory")] = Path("results"),
    output: Annotated[Optional[Path], typer.Option(help="report file (default OUT/report.html)")] = None,
) -> None:
    """Rebuild the HTML report from saved results (verified; invalid ones are marked, not shown)."""
    from dltheory.report import build_report

    console.print(f"report: {build_report(out, output=output)}")


@app.command("criticality")
def criticality(activation: Annotated[str, typer.Argument(help="activation name, e.g. gelu")]) -> None:
    """Universality class, critical (C_b, C_W), fixed point K* and susceptibilities there."""
    import numpy as np

    from dltheory.effective import critical_point, universality_class

    cls = universality_class(activation)
    table = Table(title=f"criticality of {activation}", show_header=False)
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
    except typer.Abort:
        sys.stderr.write("interrupted\n")
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
