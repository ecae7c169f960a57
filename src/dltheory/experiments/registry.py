"""Discovery of experiments: every module of :mod:`dltheory.experiments` that defines ``EXPERIMENT``.

Plugins: the environment variable ``DLTHEORY_EXTRA_EXPERIMENTS`` may name further modules
(comma-separated import paths, e.g. ``mylab.experiments,tests.experiments.toys``); each must define
``EXPERIMENT`` (an :class:`Experiment`) or ``EXPERIMENTS`` (a list of them). Worker processes
inherit the variable, so plugin experiments run on every executor.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from functools import cache

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Experiment

__all__ = ["all_experiments", "get_experiment"]

EXTRA_ENV = "DLTHEORY_EXTRA_EXPERIMENTS"


def _extra_experiments() -> list[Experiment]:
    found: list[Experiment] = []
    for path in filter(None, (p.strip() for p in os.environ.get(EXTRA_ENV, "").split(","))):
        try:
            module = importlib.import_module(path)
        except ImportError as exc:
            raise DLTheoryError(f"{EXTRA_ENV}: cannot import {path!r} ({exc})") from None
        items = list(getattr(module, "EXPERIMENTS", []))
        if isinstance(getattr(module, "EXPERIMENT", None), Experiment):
            items.append(module.EXPERIMENT)
        if not items or not all(isinstance(e, Experiment) for e in items):
            raise DLTheoryError(f"{EXTRA_ENV}: module {path!r} defines no EXPERIMENT or EXPERIMENTS list")
        found.extend(items)
    return found


@cache
def all_experiments() -> dict[str, Experiment]:
    """All registered experiments by name, ordered by pillar then name.

    Every public module of :mod:`dltheory.experiments` is imported; those that define
    ``EXPERIMENT`` are registered (this module defines none).
    """
    import dltheory.experiments as package

    found: list[Experiment] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if isinstance(experiment, Experiment):
            found.append(experiment)
    found.extend(_extra_experiments())
    order = {"effective": 0, "richness": 1, "neurashed": 2, "weightspace": 3}
    found.sort(key=lambda e: (order.get(e.pillar, 9), e.name))
    names = [e.name for e in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate experiment names: {sorted(duplicates)}")
    return {e.name: e for e in found}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; a clear error lists the known names otherwise."""
    experiments = all_experiments()
    if name not in experiments:
        raise DLTheoryError(f"unknown experiment {name!r}; known: {', '.join(experiments)}")
    return experiments[name]
