"""Rich progress bars for experiments and sweeps: tasks done / total and ETA; quiet off a terminal.

A driver (``dltheory reproduce``) opens one :func:`progress_display`; every :func:`sweep_progress`
inside it (the experiments sweep, an experiment's inner :func:`~dltheory.lab.executors.map_tasks`)
adds a bar to that display. Without a terminal nothing is drawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["Advance", "progress_display", "sweep_progress"]


class Advance(Protocol):
    """``advance(n=1)``: mark ``n`` more tasks of a bar done."""

    def __call__(self, n: int = 1) -> None: ...

_DISPLAY: list[Any] = []


@contextlib.contextmanager
def progress_display(console: Any = None) -> Iterator[object]:
    """A Rich ``Progress`` shared by the sweeps run inside the block (disabled off a terminal)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = console or Console()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                        console=console, disable=not console.is_terminal, transient=False)
    with progress:
        _DISPLAY.append(progress)
        try:
            yield progress
        finally:
            _DISPLAY.pop()


@contextlib.contextmanager
def sweep_progress(description: str, total: int, keep: bool = False) -> Iterator[Advance]:
    """A progress bar of ``total`` tasks; yields ``advance(n=1)``. No-op without a display.

    The bar is removed when the block ends unless ``keep``.
    """
    def nothing(n: int = 1) -> None:
        pass

    if not _DISPLAY or _DISPLAY[-1].disable:
        yield nothing
        return
    progress = _DISPLAY[-1]
    task = progress.add_task(description, total=total)

    def advance(n: int = 1) -> None:
        progress.advance(task, n)

    try:
        yield advance
    finally:
        if not keep:
            progress.remove_task(task)
