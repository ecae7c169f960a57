"""Rich progress bars for experiments and sweeps: tasks done / total and ETA; quiet off a terminal.

A driver (``dltheory reproduce``) opens one :func:`progress_display`; every :func:`sweep_progress`
inside it (the experiments sweep, an experiment's inner :func:`~dltheory.lab.executors.map_tasks`)
adds a bar to that display. Without a terminal nothing is drawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["progress_display", "sweep_progress"]

_DISPLAY: list = []


@contextlib.contextmanager
def progress_display(console=None) -> Iterator[object]:
    """A Rich ``Progress`` shared by the sweeps run inside the block (disabled off a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

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
def sweep_progress(description: str, total: int, keep: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar of ``total`` tasks; yields ``advance(n=1)``. No-op without a display.

    The bar is removed when the block ends unless ``keep``.
    """
    if not _DISPLAY or _DISPLAY[-1].disable:
        yield lambda n=1: None
        return
    progress = _DISPLAY[-1]
    task = progress.add_task(description, total=total)
    try:
        yield lambda n=1: progress.advance(task, n)
    finally:
        if not keep:
            progress.remove_task(task)
