"""Named experiments, one module each: a tidy table, figures and claims (see :mod:`dltheory.lab.base`).

Every module in this package that defines ``EXPERIMENT`` is registered automatically
(:mod:`dltheory.experiments.registry`); the machinery that runs and stores them is :mod:`dltheory.lab`.
"""

from dltheory.experiments.registry import all_experiments, get_experiment

__all__ = ["all_experiments", "get_experiment"]
