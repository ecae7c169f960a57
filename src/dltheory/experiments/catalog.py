"""The experiment catalog: every experiment's name, module, pillar and title, known without importing it.

``dltheory list``, ``--help`` and a mistyped name must answer at once, so they never import an
experiment module (that would import torch, SciPy and pandas). They read this catalog instead:

- :data:`BUILTIN`, a static index of the package's own experiments (``tests/experiments/
  test_catalog.py`` asserts that it equals what :func:`dltheory.experiments.all_experiments`
  discovers, and prints the corrected literal when it drifts);
- plug-ins declared in the ``dltheory.experiments`` entry-point group of any installed package
  (:data:`ENTRY_POINT_GROUP`): the entry point's name *is* the experiment's name, so listing them
  reads only the packages' metadata;
- modules named in ``DLTHEORY_EXTRA_EXPERIMENTS`` (test-only or ad-hoc registration): their names
  are known only by importing them, which this catalog then does.

A plug-in is declared in its package's ``pyproject.toml``::

    [project.entry-points."dltheory.experiments"]
    my-experiment = "mylab.my_experiment"              # a module defining EXPERIMENT
    other-experiment = "mylab.more:OTHER_EXPERIMENT"    # or an Experiment object itself

This module imports nothing beyond the standard library.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dltheory.errors import DLTheoryError

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "EXTRA_ENV", "CatalogEntry", "catalog", "check_name", "plugin_entry_points",
           "suggest"]

ENTRY_POINT_GROUP = "dltheory.experiments"
"""Entry-point group under which installed packages declare experiments."""

EXTRA_ENV = "DLTHEORY_EXTRA_EXPERIMENTS"
"""Environment variable naming further experiment modules (comma-separated import paths)."""


@dataclass(frozen=True)
class CatalogEntry:
    """One experiment as the catalog knows it.

    Attributes
    ----------
    name : str
        The experiment's name (``dltheory run NAME``).
    module : str
        Import path of the module that defines it; for an entry point ``module:attribute``.
    pillar : str
        ``effective``, ``richness``, ``neurashed``, ``weightspace`` or, for a plug-in not yet
        imported, ``plugin``.
    title : str
        One-line title (for a plug-in not yet imported: where it comes from).
    source : str
        ``"builtin"``, ``"entry point (<distribution>)"`` or ``"DLTHEORY_EXTRA_EXPERIMENTS"``.
    """

    name: str
    module: str
    pillar: str
    title: str
    source: str = "builtin"


def _builtin(name: str, module: str, pillar: str, title: str) -> CatalogEntry:
    return CatalogEntry(name, f"dltheory.experiments.{module}", pillar, title)


BUILTIN: dict[str, CatalogEntry] = {e.name: e for e in (
    _builtin("aspect-ratio", "aspect_ratio", "effective", "Optimal aspect ratio r* = 4/((20 + 3n_L)ν)"),
    _builtin("criticality", "criticality", "effective", "Criticality and universality classes"),
    _builtin("four-point-vertex", "four_point_vertex", "effective", "Four-point vertex: V/(nK²) grows like ν ℓ/n"),
    _builtin("kernel-propagation", "kernel_propagation", "effective",
             "Kernel propagation: infinite-width recursion vs Monte Carlo"),
    _builtin("ntk-fluctuations", "ntk_fluctuations", "effective", "NTK fluctuations: Var Ĥ_ii = (A + 2B)/n"),
    _builtin("residual-criticality", "residual_criticality", "effective",
             "Residual MLPs: ν(γ) = (1 − γ²)[(1 − γ²)(3A₄/A₂² − 1) + 4γ²]"),
    _builtin("trained-vs-kernel", "trained_vs_kernel", "effective",
             "Trained finite-width networks vs the infinite-width NTK prediction"),
    _builtin("coord-check", "coord_check", "richness", "Coordinate check: μP is width-stable, SP is not"),
    _builtin("gauge-equivalence", "gauge_equivalence", "richness", "Three gauges, one network"),
    _builtin("lazy-vs-rich", "lazy_vs_rich", "richness", "Lazy vs rich: kernel movement, features and accuracy vs r"),
    _builtin("lr-transfer", "lr_transfer", "richness", "Learning-rate transfer across width: μP vs SP"),
    _builtin("richness-exponent", "richness_exponent", "richness", "Measured richness exponent vs configured r"),
    _builtin("width-invariance", "width_invariance", "richness", "μP loss curves converge as width grows"),
    _builtin("local-elasticity-real", "local_elasticity_real", "neurashed",
             "Local elasticity of a real two-layer network (He & Su protocol)"),
    _builtin("memorization-real", "memorization_real", "neurashed",
             "Real MLP on digits with label noise: clean first, then memorization"),
    _builtin("neurashed-implicit-regularization", "neurashed_implicit_regularization", "neurashed",
             "Neurashed: implicit regularization and benign memorization"),
    _builtin("neurashed-information-bottleneck", "neurashed_information_bottleneck", "neurashed",
             "Neurashed: fitting then compression in the information plane"),
    _builtin("neurashed-local-elasticity", "neurashed_local_elasticity", "neurashed",
             "Neurashed: local elasticity by semantic relation"),
    _builtin("inverse-ising-recovery", "inverse_ising_recovery", "weightspace",
             "Inverse Ising recovery and Bethe entropy"),
    _builtin("weight-space-landscape", "weight_space_landscape", "weightspace",
             "Weight-space landscapes of binary networks (C1–C5)"),
)}
"""The package's own experiments by name (a static index: importing none of them)."""


def plugin_entry_points() -> list[Any]:
    """The ``importlib.metadata`` entry points of the ``dltheory.experiments`` group, sorted by name.

    Reads installed packages' metadata only (nothing is imported).
    """
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _distribution(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "an installed package"


def extra_modules() -> list[str]:
    """The module paths named in ``DLTHEORY_EXTRA_EXPERIMENTS`` (empty when unset)."""
    return [p for p in (p.strip() for p in os.environ.get(EXTRA_ENV, "").split(",")) if p]


def catalog() -> dict[str, CatalogEntry]:
    """Every known experiment by name: built-ins, entry-point plug-ins, then ``DLTHEORY_EXTRA_EXPERIMENTS``.

    Built-ins and entry points are listed without importing anything; modules named in
    ``DLTHEORY_EXTRA_EXPERIMENTS`` are imported (through the registry) to learn their names.
    """
    out = dict(BUILTIN)
    for ep in plugin_entry_points():
        if ep.name not in out:
            dist = _distribution(ep)
            out[ep.name] = CatalogEntry(ep.name, ep.value, "plugin", f"plug-in from {dist}", f"entry point ({dist})")
    if extra_modules():
        from dltheory.experiments.registry import all_experiments

        for exp in all_experiments().values():
            if exp.name not in out:
                out[exp.name] = CatalogEntry(exp.name, exp.module, exp.pillar, exp.title, EXTRA_ENV)
    return out


def suggest(name: str, names: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``names`` (difflib), else ``""``."""
    close = difflib.get_close_matches(str(name), list(names), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def check_name(name: str, known: Mapping[str, Any] | None = None) -> Any:
    """``known[name]`` (default: the :func:`catalog` entry); a one-line :class:`DLTheoryError` with a
    "did you mean" suggestion when ``name`` is not known."""
    known = catalog() if known is None else known
    if name in known:
        return known[name]
    hint = suggest(name, list(known))
    raise DLTheoryError(f"unknown experiment {str(name)[:100]!r}{hint} (`dltheory list` shows all {len(known)})")
