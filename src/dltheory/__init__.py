"""dltheory: deep-learning theory computed and checked against real networks.

Subpackages and modules (imported on first use, so ``import dltheory`` stays cheap):

- :mod:`dltheory.effective` — effective theory of deep MLPs (pure NumPy/SciPy, float64; never torch)
- :mod:`dltheory.nets` — torch building blocks shared by all: random-MLP ensembles, empirical NTKs,
  vmapped training, thread limits
- :mod:`dltheory.data` — offline datasets
- :mod:`dltheory.richness` — the richness scale from lazy (NTK) to rich (μP) training
- :mod:`dltheory.neurashed` — neurashed, a hierarchical model of training, and its real-network counterparts
- :mod:`dltheory.weightspace` — the weight space of trained binary networks: an Ising model fitted to their
  synapses (Zou & Huang)
- :mod:`dltheory.lab` — experiment machinery: base types, runner, store, executors, progress
- :mod:`dltheory.experiments` — the registry and one module per named experiment (tables, figures, claims)
- :mod:`dltheory.report` — the HTML report
- :mod:`dltheory.stats` — standard errors, jackknife, bootstrap, Bonferroni z*, width fits, slope tests
- :mod:`dltheory.activations` — the one activation registry (NumPy and torch forms, derivatives, kernels)
- :mod:`dltheory.errors` — :class:`DLTheoryError`, the one exception type for bad input

Results as data: :func:`load_results` (every stored claim as a pandas DataFrame) and :func:`load_table`
(a run's tidy table), from :mod:`dltheory.lab.results`.
"""

from __future__ import annotations

import importlib
from typing import Any

from dltheory.errors import DLTheoryError

__version__ = "0.1.0"
__all__ = ["DLTheoryError", "__version__", "load_results", "load_table"]

_SUBPACKAGES = {"effective", "nets", "data", "experiments", "report", "richness", "neurashed", "weightspace", "lab",
                "stats", "activations"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"dltheory.{name}")
    if name in ("load_results", "load_table"):
        return getattr(importlib.import_module("dltheory.lab.results"), name)
    raise AttributeError(f"module 'dltheory' has no attribute {name!r}")
