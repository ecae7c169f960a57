"""A tiny third-party experiment package, as a user would write it (the template of docs/extending.md).

It is found by dltheory through its ``dltheory.experiments`` entry point, declared in
``dltheory_demo_plugin-0.1.0.dist-info/entry_points.txt`` next to this package (what ``pip install``
writes for a ``[project.entry-points."dltheory.experiments"]`` table). The tests put this directory on
``PYTHONPATH`` of a subprocess, so the package is "installed" there and nowhere else.

The experiment checks the sample mean of Gaussian draws against 0 with a declared effect size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Claim, Experiment, ScaledConfig
from dltheory.lab.constraints import Int, declare
from dltheory.lab.verdicts import decide


@dataclass(frozen=True)
class DemoConfig(ScaledConfig):
    """Draws per repetition and repetitions (the ``full`` scale is the field defaults)."""

    n: int = declare(20_000, Int(10, 10_000_000))
    repeats: int = declare(8, Int(2, 1_000))

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(n=5_000, repeats=4)


def measure(config: DemoConfig, rng: np.random.Generator) -> pd.DataFrame:
    """One row per repetition: the mean of ``n`` standard normal draws."""
    means = [rng.standard_normal(config.n).mean() for _ in range(config.repeats)]
    return pd.DataFrame({"repeat": np.arange(config.repeats), "mean": means})


def claims(table: pd.DataFrame, config: DemoConfig) -> list[Claim]:
    """The pooled mean is 0 (δ = 0.05, SE = 1/√(n·repeats))."""
    se = 1.0 / np.sqrt(config.n * config.repeats)
    return [decide("mean-is-zero", "pooled mean of all draws", float(table["mean"].mean()), target=0.0, delta=0.05,
                   se=se, z_star=3.29, meaning="the sample mean agrees with 0", figure="means")]


def figures(table: pd.DataFrame, config: DemoConfig) -> dict:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.2, 2.2))
    ax.plot(table["repeat"], table["mean"], "o")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel("repetition")
    ax.set_ylabel("mean")
    return {"means": fig}


EXPERIMENT = Experiment(name="demo-plugin", pillar="effective", title="Demo plug-in: the mean of Gaussian draws is 0",
                        description="A third-party experiment found through the dltheory.experiments entry point.",
                        config_cls=DemoConfig, measure=measure, claims=claims, figures=figures)
