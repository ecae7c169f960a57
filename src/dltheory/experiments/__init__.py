"""Named experiments: each returns a tidy table, figures and claims (see :mod:`.base`).

Every module in this package that defines ``EXPERIMENT`` is registered automatically.
"""

from dltheory.experiments.base import Claim, Experiment, Outcome, ScaledConfig
from dltheory.experiments.registry import all_experiments, get_experiment
from dltheory.experiments.runner import RunRecord, load_record, run_experiment

__all__ = [
    "Claim",
    "Experiment",
    "Outcome",
    "RunRecord",
    "ScaledConfig",
    "all_experiments",
    "get_experiment",
    "load_record",
    "run_experiment",
]
