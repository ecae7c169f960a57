"""The experiment machinery: types, runner, results store, executors and progress.

An experiment (a module of :mod:`dltheory.experiments`) only computes; everything else lives here:

- :mod:`dltheory.lab.base` — :class:`Experiment`, :class:`Claim`, :class:`Outcome`, :class:`ScaledConfig`;
- :mod:`dltheory.lab.constraints` — declarative, bounded constraints on config fields (:func:`declare`);
- :mod:`dltheory.lab.runner` — running tasks and saving them with provenance;
- :mod:`dltheory.lab.store` — the content-hashed results store;
- :mod:`dltheory.lab.executors` — serial, local process pool and Dask executors, :func:`map_tasks`;
- :mod:`dltheory.lab.progress` — progress bars on a terminal.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Claim": "base", "Experiment": "base", "Outcome": "base", "ScaledConfig": "base",
    "RunRecord": "runner", "load_record": "runner", "run_experiment": "runner", "run_sweep": "runner",
}

__all__ = [
    "Claim",
    "Experiment",
    "Outcome",
    "RunRecord",
    "ScaledConfig",
    "load_record",
    "run_experiment",
    "run_sweep",
]


def __getattr__(name: str) -> Any:
    # lazy, so that importing one machinery module (e.g. ``lab.base`` from the registry) does not
    # import the runner, and so that ``import dltheory.lab`` stays cheap
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"dltheory.lab.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'dltheory.lab' has no attribute {name!r}")
