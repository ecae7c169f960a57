"""Discovery of experiments: the package's own modules, entry-point plug-ins and ``DLTHEORY_EXTRA_EXPERIMENTS``.

- Every module of :mod:`dltheory.experiments` that defines ``EXPERIMENT`` is registered.
- **Plug-ins**: every installed package may declare experiments in the ``dltheory.experiments``
  entry-point group (see :mod:`dltheory.experiments.catalog`). The entry point's name must be the
  experiment's name; its value is a module defining ``EXPERIMENT`` or an attribute holding an
  :class:`~dltheory.lab.base.Experiment`.
- The environment variable ``DLTHEORY_EXTRA_EXPERIMENTS`` may name further modules (comma-separated
  import paths, e.g. ``mylab.experiments,tests.experiments.toys``); each must define ``EXPERIMENT``
  (an :class:`Experiment`) or ``EXPERIMENTS`` (a list of them). Worker processes inherit the
  variable, so these experiments run on every executor.

:func:`get_experiment` imports only the module of the experiment asked for (found in the catalog);
:func:`all_experiments` imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from dltheory.errors import DLTheoryError
from dltheory.experiments.catalog import BUILTIN, EXTRA_ENV, check_name, extra_modules, plugin_entry_points
from dltheory.lab.base import Experiment

__all__ = ["all_experiments", "get_experiment"]

_ORDER = {"effective": 0, "richness": 1, "neurashed": 2, "weightspace": 3}


def _extra_experiments() -> list[Experiment]:
    found: list[Experiment] = []
    for path in extra_modules():
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


def _load_entry_point(ep: Any) -> Experiment:
    """The experiment an entry point declares; its name must be the entry point's name."""
    where = f"entry point {ep.name!r} = {ep.value!r} of group dltheory.experiments"
    try:
        obj = ep.load()
    except Exception as exc:  # noqa: BLE001 - a broken plug-in is the user's input: one line, not a traceback
        cause = " ".join(str(exc).split())[:200]
        raise DLTheoryError(f"{where}: cannot load it ({type(exc).__name__}: {cause})") from None
    if not isinstance(obj, Experiment):
        obj = getattr(obj, "EXPERIMENT", None)
    if not isinstance(obj, Experiment):
        raise DLTheoryError(f"{where}: neither an Experiment nor a module defining EXPERIMENT")
    if obj.name != ep.name:
        raise DLTheoryError(f"{where}: the experiment is called {obj.name!r}; the entry point must carry its name")
    return obj


def _builtin_experiments() -> list[Experiment]:
    import dltheory.experiments as package

    found: list[Experiment] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if isinstance(experiment, Experiment):
            found.append(experiment)
    return found


@cache
def all_experiments() -> dict[str, Experiment]:
    """All registered experiments by name, ordered by pillar then name.

    Every public module of :mod:`dltheory.experiments` is imported; those that define
    ``EXPERIMENT`` are registered; then entry-point plug-ins and ``DLTHEORY_EXTRA_EXPERIMENTS``.
    Two experiments of the same name are an error.
    """
    found = _builtin_experiments()
    found.extend(_load_entry_point(ep) for ep in plugin_entry_points())
    found.extend(_extra_experiments())
    found.sort(key=lambda e: (_ORDER.get(e.pillar, 9), e.name))
    names = [e.name for e in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DLTheoryError(f"duplicate experiment names: {', '.join(sorted(duplicates))} (a plug-in or "
                            f"{EXTRA_ENV} module reuses a registered name)")
    return {e.name: e for e in found}


@cache
def _one(name: str) -> Experiment | None:
    """The experiment ``name`` found by importing only its own module (catalog), else None."""
    entry = BUILTIN.get(name)
    if entry is not None:
        experiment = getattr(importlib.import_module(entry.module), "EXPERIMENT", None)
        return experiment if isinstance(experiment, Experiment) and experiment.name == name else None
    if extra_modules():
        return None  # their names are known only through the full discovery
    for ep in plugin_entry_points():
        if ep.name == name:
            return _load_entry_point(ep)
    return None


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``.

    Only its own module is imported when the catalog knows it; an unknown name is a one-line
    :class:`DLTheoryError` with the closest names ("did you mean").
    """
    if not isinstance(name, str):
        raise DLTheoryError(f"experiment name must be a string; got {type(name).__name__}")
    found = _one(name)
    if found is not None:
        return found
    if not extra_modules():
        check_name(name)  # an unknown name fails here, before any experiment is imported
    return check_name(name, all_experiments())  # raises with a suggestion when unknown
