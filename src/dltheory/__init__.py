"""dltheory: deep-learning theory computed and checked against real networks.

Subpackages (imported on first use, so ``import dltheory`` stays cheap):

- :mod:`dltheory.effective` — effective theory of deep MLPs (NumPy/SciPy, float64)
- :mod:`dltheory.nets` — torch building blocks: random-MLP ensembles, empirical NTKs, trainers
- :mod:`dltheory.data` — offline datasets
- :mod:`dltheory.experiments` — named experiments returning tidy results, figures and claims
- :mod:`dltheory.report` — the HTML report
"""

from __future__ import annotations

import importlib
from typing import Any

from dltheory.errors import DLTheoryError

__version__ = "0.1.0"
__all__ = ["DLTheoryError", "__version__"]

_SUBPACKAGES = {"effective", "nets", "data", "experiments", "report", "richness", "neurashed", "weightspace"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"dltheory.{name}")
    raise AttributeError(f"module 'dltheory' has no attribute {name!r}")
