"""Rich progress bars for experiments and sweeps: tasks done / total and ETA; quiet off a terminal.

A driver (``dltheory reproduce``) opens one :func:`progress_display`; every :func:`sweep_progress`
inside it (the experiments sweep, an experiment's inner :func:`~dltheory.lab.executors.map_tasks`)
adds a bar to that display. Without a terminal nothing is drawn.

The experiments sweep tracks a :class:`SweepState`: how many tasks are finished and kept, and an ETA
weighted by each task's expected cost (its experiment's last recorded wall time, see
:meth:`~dltheory.lab.store.ResultsStore.recorded_costs`), so that one long experiment left for last
does not make the ETA short by the ratio of the costs.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

__all__ = ["DEFAULT_COST_S", "Advance", "SweepState", "progress_display", "sweep_progress", "weighted_eta"]

DEFAULT_COST_S = {"quick": 30.0, "full": 600.0}
"""Expected wall time (s) of a task whose experiment has no recorded run at its scale and no other
recorded run to take the median of."""


def weighted_eta(remaining_costs: list[float], workers: int, speed: float = 1.0, since_last_s: float = 0.0) -> float:
    """Seconds left for tasks of expected costs ``remaining_costs`` (seconds each) on ``workers`` workers.

    ``speed * max(sum / min(workers, len), max)``: the work is shared by at most as many workers as
    tasks remain, and the longest task bounds it from below; ``speed`` is the measured ratio of the
    actual to the expected wall time of the tasks finished so far (the machine's load now); the time
    since the last task finished (``since_last_s``, already spent on the running tasks) is taken
    off. Never negative; 0 when nothing remains.
    """
    if not remaining_costs:
        return 0.0
    parallel = max(1, min(int(workers), len(remaining_costs)))
    estimate = speed * max(sum(remaining_costs) / parallel, max(remaining_costs))
    return max(estimate - since_last_s, 0.0)


class SweepState:
    """Progress of a sweep of tasks: finished-and-kept count and a cost-weighted ETA.

    :func:`~dltheory.lab.runner.run_sweep` fills it; a driver reads :attr:`finished`, :attr:`total`
    and :meth:`eta_s` (e.g. to say "interrupted; 3 of 20 tasks finished and kept").
    """

    def __init__(self) -> None:
        self.total = 0
        self.finished = 0
        self.workers = 1
        self._costs: dict[int, float] = {}
        self._pending: set[int] = set()
        self._actual = 0.0
        self._expected = 0.0
        self._last = time.monotonic()

    def start(self, total: int, costs: Mapping[int, float], workers: int) -> None:
        """``total`` tasks; ``costs`` maps the index of each task still to run to its expected seconds."""
        self.total, self.workers = int(total), max(1, int(workers))
        self._costs = {int(i): float(c) for i, c in costs.items()}
        self._pending = set(self._costs)
        self._last = time.monotonic()

    def finish(self, index: int | None = None, wall_time_s: float | None = None) -> None:
        """Task ``index`` finished and was kept (``None``: a task that did not run, e.g. a reused result)."""
        self.finished += 1
        if index is None or index not in self._pending:
            return
        self._pending.discard(index)
        if wall_time_s is not None and math.isfinite(wall_time_s) and wall_time_s > 0:
            self._actual += wall_time_s
            self._expected += self._costs[index]
        self._last = time.monotonic()

    @property
    def expected_total_s(self) -> float:
        """Sum of the expected costs of the tasks that were to run."""
        return float(sum(self._costs.values()))

    @property
    def done_cost_s(self) -> float:
        """Sum of the expected costs of the tasks that ran and finished."""
        return float(sum(c for i, c in self._costs.items() if i not in self._pending))

    def eta_s(self, now: float | None = None) -> float:
        """Seconds left (see :func:`weighted_eta`)."""
        now = time.monotonic() if now is None else now
        speed = min(max(self._actual / self._expected, 0.2), 5.0) if self._expected > 0 else 1.0
        return weighted_eta([self._costs[i] for i in self._pending], self.workers, speed, now - self._last)


def expected_costs(names_scales: list[tuple[str, str]], recorded: Mapping[tuple[str, str], float]) -> list[float]:
    """Expected seconds per (experiment, scale): its recorded wall time, else the median recorded at that
    scale, else :data:`DEFAULT_COST_S`."""
    out = []
    for name, scale in names_scales:
        cost = recorded.get((name, scale))
        if cost is None:
            same = [v for (_, s), v in recorded.items() if s == scale]
            cost = statistics.median(same) if same else DEFAULT_COST_S.get(scale, DEFAULT_COST_S["quick"])
        out.append(max(float(cost), 0.1))
    return out


class Advance(Protocol):
    """``advance(n=1)``: mark ``n`` more tasks (or seconds of expected cost) of a bar done."""

    def __call__(self, n: float = 1) -> None: ...

_DISPLAY: list[Any] = []


@contextlib.contextmanager
def progress_display(console: Any = None) -> Iterator[object]:
    """A Rich ``Progress`` shared by the sweeps run inside the block (disabled off a terminal)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class _Count(ProgressColumn):
        def render(self, task: Any) -> Text:
            state = task.fields.get("state")
            if isinstance(state, SweepState):
                return Text(f"{state.finished}/{state.total}")
            return MofNCompleteColumn().render(task)

    class _ETA(ProgressColumn):
        max_refresh = 0.5

        def render(self, task: Any) -> Text:
            state = task.fields.get("state")
            if isinstance(state, SweepState):
                left = state.eta_s()
                return Text(time.strftime("%H:%M:%S", time.gmtime(left)) if not task.finished else "0:00:00")
            return TimeRemainingColumn().render(task)

    console = console or Console()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), _Count(),
                        TimeElapsedColumn(), TextColumn("ETA"), _ETA(),
                        console=console, disable=not console.is_terminal, transient=False)
    with progress:
        _DISPLAY.append(progress)
        try:
            yield progress
        finally:
            _DISPLAY.pop()


@contextlib.contextmanager
def sweep_progress(description: str, total: float, keep: bool = False,
                   state: SweepState | None = None) -> Iterator[Advance]:
    """A progress bar of ``total`` tasks; yields ``advance(n=1)``. No-op without a display.

    With ``state`` the bar's length is in expected seconds (``total`` = the sum of the tasks'
    expected costs, ``advance(cost)`` per task) and it shows ``state``'s count and weighted ETA.
    The bar is removed when the block ends unless ``keep``.
    """
    def nothing(n: float = 1) -> None:
        pass

    if not _DISPLAY or _DISPLAY[-1].disable:
        yield nothing
        return
    progress = _DISPLAY[-1]
    task = progress.add_task(description, total=total, state=state)

    def advance(n: float = 1) -> None:
        progress.advance(task, n)

    try:
        yield advance
    finally:
        if not keep:
            progress.remove_task(task)
