"""R8 (richness.md §12.4): μP transfers the optimal learning rate across width; SP does not.

MLP 64→n→n→10 (ReLU×√2) on scikit-learn digits, one-hot MSE, SGD with momentum 0.9, batch 64, one
epoch; a log2 learning-rate grid. For each width, every (parametrization, learning rate, seed) member
trains in one vmapped ensemble; the loss on the whole training set after the epoch (diverged runs:
+inf) is averaged over seeds and minimized over the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.richness import classification_task, mlp_preactivations, mup, run_ensemble, sp


@dataclass(frozen=True)
class Config(ScaledConfig):
    widths: tuple[int, ...] = declare((128, 256, 512, 1024, 2048), TupleOf(Int(1, 8192), length=(2, 16)))
    log2_lr_min: float = declare(-7.0, Float(-30, 10))
    log2_lr_max: float = declare(3.0, Float(-30, 10))
    log2_lr_step: float = declare(0.25, Float(0, 10, closed="right"))
    n_seeds: int = declare(5, Int(1, 256))
    batch: int = declare(64, Int(1, 1347))  # the digits training set
    momentum: float = declare(0.9, Float(0, 1, closed="left"))
    epochs: int = declare(1, Int(1, 1000))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(64, 128, 256, 512), log2_lr_min=-6.0, log2_lr_max=3.0, log2_lr_step=0.5, n_seeds=2)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(self.log2_lr_max > self.log2_lr_min, "log2_lr_max > log2_lr_min", "log2_lr_min", "log2_lr_max")
        self.check((self.log2_lr_max - self.log2_lr_min) / self.log2_lr_step <= 400,
                   "(log2_lr_max - log2_lr_min) / log2_lr_step <= 400 (grid steps)",
                   "log2_lr_min", "log2_lr_max", "log2_lr_step")


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt
    import torch

    task = classification_task("digits", 1347, seed=int(rng.integers(2**31)))
    x, y = task["x_train"], task["y_train"]
    grid = np.arange(config.log2_lr_min, config.log2_lr_max + 1e-9, config.log2_lr_step)
    steps = config.epochs * (len(x) // config.batch)
    batch_seed = int(rng.integers(2**31))
    rows = []
    for n in config.widths:
        seeds = [int(s) for s in rng.integers(0, 2**31, size=config.n_seeds)]
        members = [(name, lg, s) for name in ("mup", "sp") for lg in grid for s in seeds]
        params = [mup() if name == "mup" else sp() for name, _, _ in members]
        run_ = run_ensemble((x.shape[1], n, n, 10), params, seeds=[s for *_, s in members], x=x, y=y, steps=steps,
                            lr=[2.0 ** lg for _, lg, _ in members], momentum=config.momentum, batch_size=config.batch,
                            batch_seed=batch_seed, weight_steps=(steps,), dtype=torch.float32)
        ws = run_.weights[steps]
        for e, (name, lg, s) in enumerate(members):
            with np.errstate(all="ignore"):
                f = mlp_preactivations([w[e] for w in ws], x)[-1]
                loss = float(0.5 * np.mean(np.sum((f - y) ** 2, axis=1)))
            rows.append({"width": n, "param": name, "log2_lr": lg, "seed": s,
                         "train_loss": loss if np.isfinite(loss) and loss < 1e6 else np.inf})
    df = pd.DataFrame(rows)
    mean = df.groupby(["param", "width", "log2_lr"])["train_loss"].mean().reset_index()
    best = mean.loc[mean.groupby(["param", "width"])["train_loss"].idxmin()].set_index(["param", "width"])
    spread = {p: float(best.loc[p]["log2_lr"].max() - best.loc[p]["log2_lr"].min()) / config.log2_lr_step
              for p in ("mup", "sp")}
    sp_drift = float(np.polyfit(np.log2(config.widths), best.loc["sp"]["log2_lr"].to_numpy(), 1)[0])

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, p in zip(axes, ("sp", "mup")):
        for n in config.widths:
            d = mean[(mean.param == p) & (mean.width == n)]
            ax.plot(d["log2_lr"], d["train_loss"], "o-", ms=3, label=f"n={n}")
            ax.axvline(best.loc[(p, n), "log2_lr"], color=ax.lines[-1].get_color(), ls=":", lw=0.8)
        ax.set(xlabel="log2 learning rate", title=f"{p.upper()}: train loss after {config.epochs} epoch(s)",
               yscale="log", ylim=(None, 1.0))
    axes[0].set_ylabel("train MSE")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    claims = [
        legacy_claim("mup-optimum-transfers", "spread of the μP argmin log2 LR across widths, in grid steps", "<= 1",
              spread["mup"], spread["mup"] <= 1, "μP's optimal learning rate is the same at every width", "lr_transfer"),
        legacy_claim("sp-optimum-drifts", "spread of the SP argmin log2 LR across widths, in grid steps", ">= 2",
              spread["sp"], spread["sp"] >= 2, "SP's optimal learning rate moves with width (TP IV Thm 4.1)",
              "lr_transfer"),
    ]
    return Outcome(table=df, figures={"lr_transfer": fig}, claims=claims,
                   notes=[f"Grid step {config.log2_lr_step} in log2; {config.n_seeds} seeds; float32 training; "
                          f"SP optimum slope d log2 η*/d log2 n = {sp_drift:.2f} (TP IV: → −1).",
                          "Optimum = grid argmin of the seed-mean loss (the spec's parabola/bootstrap refinement is "
                          "not implemented)."])


EXPERIMENT = Experiment(
    name="lr-transfer", pillar="richness", title="Learning-rate transfer across width: μP vs SP",
    description="Learning-rate sweeps of a two-hidden-layer MLP on scikit-learn digits (one epoch, SGD with momentum) "
                "at several widths. In μP the loss-vs-learning-rate curves line up and the optimum stays put; in the "
                "standard parametrization the optimum and the divergence edge move to smaller rates as width grows.",
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, mlp_weights, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    grid = int((config.log2_lr_max - config.log2_lr_min) / config.log2_lr_step + 1e-9) + 1
    members = 2 * grid * config.n_seeds
    steps = config.epochs * (1347 // config.batch)
    weights = [mlp_weights((64, n, n, 10)) for n in config.widths]
    memory = BASE_MEMORY + 9 * members * max(weights) * 4  # ~8 copies of the float32 weights (measured)
    seconds = 15 + 1.3e-09 * members * sum(weights) * (steps * config.batch + 2 * 1347)
    return Resources(memory, seconds, ("widths", "n_seeds", "log2_lr_step"),
                     ("widths", "n_seeds", "log2_lr_step", "epochs"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
