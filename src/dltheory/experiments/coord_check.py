"""R7 (richness.md §12.4, §10 item 9): coordinate check, μP vs SP, on scikit-learn digits.

``mup``'s diagnostic: the mean absolute coordinate (l1) of every layer's output (pre-activations,
the Linear outputs) on a fixed batch at steps t = 0…T, for growing width. In μP (r = 1/2) hidden
coordinates and their updates stay Θ(1); in SP with a width-independent learning rate the updates
grow with width (TP IV Thm 4.1: SP needs LR O(1/n)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.richness import classification_task, coordinate_size, mup, run_ensemble, sp


@dataclass(frozen=True)
class Config(ScaledConfig):
    widths: tuple[int, ...] = declare((64, 128, 256, 512, 1024, 2048, 4096), TupleOf(Int(1, 8192), length=(2, 16)))
    steps: int = declare(5, Int(1, 10_000))
    n_seeds: int = declare(8, Int(1, 256))
    batch: int = declare(64, Int(1, 1347))  # the digits training set
    lr: float = declare(0.5, Float(0, 1000, closed="right"))
    sp_lr: float = declare(0.02, Float(0, 1000, closed="right"))
    ratio_threshold: float = declare(1.5, Float(1, 1000))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(64, 128, 256, 512, 1024), n_seeds=4)

    @classmethod
    def full(cls) -> Config:
        return cls()


def _ratio(v: np.ndarray) -> float:
    """max/min across widths (inf if anything is not finite or zero)."""
    if not np.all(np.isfinite(v)) or np.min(v) <= 0:
        return float("inf")
    return float(np.max(v) / np.min(v))


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    task = classification_task("digits", config.batch, seed=int(rng.integers(2**31)))
    x, y = task["x_train"], task["y_train"]
    seeds = [int(s) for s in rng.integers(0, 2**31, size=config.n_seeds)]
    rows = []
    for n in config.widths:
        for name, param, lr in (("mup", mup(), config.lr), ("sp", sp(), config.sp_lr)):
            run_ = run_ensemble((x.shape[1], n, n, 10), param, seeds=seeds, x=x, y=y, steps=config.steps, lr=lr,
                                record_steps=range(config.steps + 1))
            for t in range(config.steps + 1):
                for layer, h in enumerate(run_.preacts[t]):
                    h0 = run_.preacts[0][layer]
                    with np.errstate(all="ignore"):
                        rows.append({"param": name, "width": n, "t": t, "layer": layer + 1,
                                     "kind": "output" if layer == len(run_.preacts[t]) - 1 else "hidden",
                                     "l1": float(np.mean([coordinate_size(h[e]) for e in range(len(seeds))])),
                                     "l1_update": float(np.mean([coordinate_size(h[e] - h0[e])
                                                                 for e in range(len(seeds))]))})
    df = pd.DataFrame(rows)

    def ratios(name, kind, col, t_min):
        d = df[(df.param == name) & (df.kind == kind) & (df.t >= t_min)]
        return {(t, layer): _ratio(g.sort_values("width")[col].to_numpy()) for (t, layer), g in d.groupby(["t", "layer"])}

    mup_act = max(ratios("mup", "hidden", "l1", 0).values())
    mup_upd = max(ratios("mup", "hidden", "l1_update", 1).values())
    mup_out = max(ratios("mup", "output", "l1_update", 1).values())
    sp_final = max(v for (t, _), v in ratios("sp", "hidden", "l1", 0).items() if t == config.steps)

    fig, axes = plt.subplots(2, config.steps + 1, figsize=(3 * (config.steps + 1), 6), sharex=True)
    for row, name in enumerate(("mup", "sp")):
        for t in range(config.steps + 1):
            ax = axes[row, t]
            for layer, g in df[(df.param == name) & (df.t == t)].groupby("layer"):
                ax.plot(g["width"], g["l1"], "o-", label=f"layer {layer}")
            ax.set(xscale="log", yscale="log", title=f"{name.upper()} t={t}")
            if t == 0:
                ax.set_ylabel("mean |h| (l1)")
            if row == 1:
                ax.set_xlabel("width")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    thr = config.ratio_threshold
    claims = [
        legacy_claim("mup-hidden-flat", "max over hidden layers and t=0..T of max/min across widths of l1(h)", f"<= {thr}",
              mup_act, mup_act <= thr, "μP hidden coordinates are width-independent over the first steps",
              "coord_check"),
        legacy_claim("mup-updates-flat", "max over hidden layers and t=1..T of max/min across widths of l1(h_t - h_0)",
              f"<= {thr}", mup_upd, mup_upd <= thr, "μP coordinate updates are width-independent (Θ(1), §9)",
              "coord_check"),
        legacy_claim("mup-output-change-flat", "max over t=1..T of max/min across widths of l1(f_t - f_0)", f"<= {thr}",
              mup_out, mup_out <= thr, "μP output change per step is width-independent (NTC)", "coord_check"),
        legacy_claim("sp-blows-up", "max over hidden layers of max/min across widths of l1(h) at t=T, SP with fixed LR",
              f"> {thr}", sp_final, sp_final > thr, "SP with a width-independent LR is not width-stable",
              "coord_check"),
    ]
    return Outcome(table=df, figures={"coord_check": fig}, claims=claims,
                   notes=[f"One-hot MSE, full batch of {config.batch} digits; μP (tutorial gauge) at base LR {config.lr}; "
                          f"SP (unit multipliers, variance 1/fan_in, one global LR) at LR {config.sp_lr}, small "
                          "enough to be stable at the smallest width (at μP's LR SP diverges at every width); "
                          f"{config.n_seeds} seeds averaged; non-finite values count as blow-up."])


EXPERIMENT = Experiment(
    name="coord-check", pillar="richness", title="Coordinate check: μP is width-stable, SP is not",
    description="mup's coordinate check on scikit-learn digits: the mean |coordinate| of every layer over the first "
                "SGD steps, for widths 64…4096. In μP the hidden coordinates and their per-step updates do not depend "
                "on width; in the standard parametrization with the same learning rate they grow with width.",
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, mlp_weights, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    e, n, b, t = config.n_seeds, max(config.widths), config.batch, config.steps
    weights = [mlp_weights((64, w, w, 10)) for w in config.widths]
    # ensemble training (~8 copies of the float64 weights, measured) and the probe pre-activations of
    # every step (two runs alive while the next one is built)
    memory = BASE_MEMORY + 9 * e * max(weights) * 8 + 2 * (t + 1) * e * b * (2 * n + 10) * 8
    seconds = 15 + 3.5e-09 * 2 * e * sum(weights) * (2 * t + 1) * b + 0.0001 * 2 * (t + 1) * 3 * e * len(config.widths)
    return Resources(memory, seconds, ("widths", "n_seeds", "steps", "batch"), ("widths", "n_seeds", "steps", "batch"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
