"""Quick toy experiments for testing executors, the results store and the CLI.

Registered only when ``DLTHEORY_EXTRA_EXPERIMENTS=tests.experiments.toys`` (see the registry's
plugin mechanism); never part of ``dltheory reproduce`` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Claim, Experiment, ScaledConfig
from dltheory.lab.constraints import Float, Int, declare
from dltheory.lab.executors import map_tasks
from dltheory.lab.verdicts import decide


@dataclass(frozen=True)
class ToySleepConfig(ScaledConfig):
    n: int = declare(400, Int(2, 100_000))
    n_chunks: int = declare(4, Int(1, 64))
    sleep_s: float = declare(0.5, Float(0, 30))

    @classmethod
    def quick(cls):
        return cls()


def chunk_mean(item: tuple[int, int, float]) -> tuple[float, float]:
    """Mean and sum of squares of ``n`` standard normals from ``seed`` (one inner-sweep task)."""
    n, seed, sleep_s = item
    time.sleep(sleep_s)
    x = np.random.default_rng(seed).standard_normal(n)
    return float(x.mean()), float((x**2).sum())


def toy_sleep_measure(config: ToySleepConfig, rng: np.random.Generator) -> pd.DataFrame:
    seeds = rng.integers(0, 2**31, size=config.n_chunks)
    items = [(config.n, int(s), config.sleep_s / config.n_chunks) for s in seeds]
    parts = map_tasks(chunk_mean, items, description="toy chunks")
    return pd.DataFrame({"chunk": np.arange(config.n_chunks), "mean": [p[0] for p in parts]})


def toy_sleep_claims(table: pd.DataFrame, config: ToySleepConfig) -> list[Claim]:
    se = 1 / np.sqrt(config.n * config.n_chunks)
    return [decide("mean-zero", "mean of all draws", float(table["mean"].mean()), target=0.0, delta=1.0, se=se,
                   z_star=4.4, meaning="the mean is consistent with 0", figure="chunk_means")]


def toy_sleep_figures(table: pd.DataFrame, config: ToySleepConfig) -> dict:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(table["mean"], "o")
    return {"chunk_means": fig}


def toy_broken_measure(config: ToySleepConfig, rng: np.random.Generator) -> pd.DataFrame:
    raise RuntimeError("toy failure")


EXPERIMENTS = [
    Experiment(name=f"toy-{c}", pillar="effective", title=f"Toy {c}", description="A quick toy for tests.",
               config_cls=ToySleepConfig, measure=toy_sleep_measure, claims=toy_sleep_claims,
               figures=toy_sleep_figures)
    for c in "abcdef"
]
BROKEN = Experiment(name="toy-broken", pillar="effective", title="Broken toy", description="Always fails.",
                    config_cls=ToySleepConfig, measure=toy_broken_measure, claims=toy_sleep_claims,
                    figures=toy_sleep_figures)
