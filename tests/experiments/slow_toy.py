"""Two slow toys for the Ctrl-C test (``DLTHEORY_EXTRA_EXPERIMENTS=tests.experiments.slow_toy``).

Each sleeps ``sleep_s`` seconds (default 120) in its worker, so an interrupted sweep has tasks
running when the interrupt comes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Claim, Experiment, ScaledConfig
from dltheory.lab.constraints import Float, declare
from dltheory.lab.verdicts import reported


@dataclass(frozen=True)
class SlowConfig(ScaledConfig):
    sleep_s: float = declare(120.0, Float(0, 3600))


def slow_measure(config: SlowConfig, rng: np.random.Generator) -> pd.DataFrame:
    time.sleep(config.sleep_s)
    return pd.DataFrame({"slept_s": [config.sleep_s]})


def slow_claims(table: pd.DataFrame, config: SlowConfig) -> list[Claim]:
    return [reported("slept", "seconds slept", float(table["slept_s"].iloc[0]), meaning="how long the toy slept")]


def slow_figures(table: pd.DataFrame, config: SlowConfig) -> dict:
    return {}


EXPERIMENTS = [Experiment(name=f"toy-slow-{i}", pillar="effective", title=f"Slow toy {i}", description="Sleeps.",
                          config_cls=SlowConfig, measure=slow_measure, claims=slow_claims,
                          figures=slow_figures) for i in (1, 2)]
