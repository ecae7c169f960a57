"""R7, second half (richness.md §12.4, §9): μP training curves converge as width grows.

μP (r = 1/2) MLPs on scikit-learn digits, minibatch SGD at one base learning rate, several widths;
all seeds of a width form one vmapped ensemble and share the batch sequence. The distance between
the seed-mean loss curves of consecutive widths, ``d_k = mean_t |L_{n_{k+1}}(t) - L_{n_k}(t)|``,
should fall as width grows (the infinite-width μP limit exists and feature learning survives it).
NTP (r = 0) is run alongside as a reported reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.richness import classification_task, richness, run_ensemble
from dltheory.stats import mean_and_se


@dataclass(frozen=True)
class Config(ScaledConfig):
    widths: tuple[int, ...] = declare((64, 128, 256, 512, 1024, 2048), TupleOf(Int(1, 8192), length=(3, 16)))
    steps: int = declare(400, Int(1, 100_000))
    n_seeds: int = declare(8, Int(1, 256))
    batch: int = declare(64, Int(1, 1347))  # the digits training set
    lr: float = declare(0.5, Float(0, 1000, closed="right"))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(64, 128, 256, 512), steps=100, n_seeds=3, batch=32)

    @classmethod
    def full(cls) -> Config:
        return cls()


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt
    import torch

    task = classification_task("digits", 1347, seed=int(rng.integers(2**31)))
    x, y = task["x_train"], task["y_train"]
    batch_seed = int(rng.integers(2**31))
    curves, rows = {}, []
    for n in config.widths:
        seeds = [int(s) for s in rng.integers(0, 2**31, size=config.n_seeds)]
        members = [(r, s) for r in (0.5, 0.0) for s in seeds]
        run_ = run_ensemble((x.shape[1], n, n, 10), [richness(r) for r, _ in members], seeds=[s for _, s in members],
                            x=x, y=y, steps=config.steps, lr=config.lr, batch_size=config.batch, batch_seed=batch_seed,
                            dtype=torch.float32)
        for r in (0.5, 0.0):
            idx = [e for e, (rr, _) in enumerate(members) if rr == r]
            curves[(r, n)] = run_.losses[:, idx].mean(1)
            for t in range(config.steps):
                rows.append({"r": r, "width": n, "step": t, "loss_mean": float(curves[(r, n)][t]),
                             "loss_sem": float(mean_and_se(run_.losses[t, idx])[1])
                             if len(idx) > 1 else float("nan")})
    df = pd.DataFrame(rows)
    dist = {r: [float(np.mean(np.abs(curves[(r, b)] - curves[(r, a)])))
                for a, b in zip(config.widths[:-1], config.widths[1:])] for r in (0.5, 0.0)}
    d = np.array(dist[0.5])
    monotone = bool(np.all(np.diff(d) < 0))
    ratio = float(d[-1] / d[0])
    dist_df = pd.DataFrame([{"r": r, "width": b, "step": -1, "curve_distance_to_previous": v}
                            for r in dist for b, v in zip(config.widths[1:], dist[r])])

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, r in zip(axes[:2], (0.5, 0.0)):
        for n in config.widths:
            ax.plot(curves[(r, n)], label=f"n={n}", lw=1)
        ax.set(yscale="log", xlabel="SGD step", ylabel="batch MSE (seed mean)",
               title=f"{'μP (r=1/2)' if r == 0.5 else 'NTP (r=0)'}")
        ax.legend(fontsize=8)
    for r in (0.5, 0.0):
        axes[2].plot(config.widths[1:], dist[r], "o-", label=f"r={r:g}")
    axes[2].set(xscale="log", yscale="log", xlabel="width n_(k+1)", ylabel="mean |L_(k+1) - L_k| over steps",
                title="distance between consecutive widths")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    claims = [
        legacy_claim("mup-curves-converge", "d_last / d_first (distance between consecutive widths' μP loss curves)", "< 1, "
              "and d strictly decreasing", ratio, monotone and ratio < 1,
              "μP loss curves approach a width-independent limit", "width_invariance"),
    ]
    return Outcome(table=pd.concat([df, dist_df], ignore_index=True), figures={"width_invariance": fig}, claims=claims,
                   notes=[f"μP distances: {', '.join(f'{v:.4f}' for v in dist[0.5])}; NTP reference: "
                          f"{', '.join(f'{v:.4f}' for v in dist[0.0])}; base LR {config.lr}, float32, "
                          f"{config.n_seeds} seeds (no SE-based test of the trend yet)."])


EXPERIMENT = Experiment(
    name="width-invariance", pillar="richness", title="μP loss curves converge as width grows",
    description="Training curves of μP MLPs on scikit-learn digits at growing width, all at one base learning rate: "
                "consecutive widths' curves get closer, the signature of a well-defined feature-learning "
                "infinite-width limit; NTP curves are shown for reference.",
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, mlp_weights, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    members = 2 * config.n_seeds
    weights = [mlp_weights((64, n, n, 10)) for n in config.widths]
    memory = BASE_MEMORY + 9 * members * max(weights) * 4  # ~8 copies of the float32 weights (measured)
    seconds = 15 + 2.9e-09 * members * sum(weights) * config.steps * config.batch
    return Resources(memory, seconds, ("widths", "n_seeds"), ("widths", "steps", "n_seeds", "batch"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
