"""Named experiments, one module each: a tidy table, figures and claims (see :mod:`dltheory.lab.base`).

Every module in this package that defines ``EXPERIMENT`` is registered automatically, and so are
plug-ins of other packages declared in the ``dltheory.experiments`` entry-point group
(:mod:`dltheory.experiments.registry`); :mod:`dltheory.experiments.catalog` names them all without
importing them. The machinery that runs and stores experiments is :mod:`dltheory.lab`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dltheory.experiments.registry import all_experiments, get_experiment

__all__ = ["all_experiments", "get_experiment"]


def __getattr__(name: str) -> Any:
    # lazy: importing the catalog (``dltheory list``) must not import the experiments' machinery
    if name in __all__:
        from dltheory.experiments import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'dltheory.experiments' has no attribute {name!r}")
