"""R1 (richness.md §12.4): the STP, μP and rescaling gauges train identically under SGD.

Each (r, gamma0, momentum) configuration is realized in the three gauges of §5 with shared normal
draws (same seed, so the same standardized weights) and trained for ``steps`` SGD steps on
MNIST-1D (float64, centred output, base LR ``eta0 / gamma0^2``). The named presets are gauges of
this family: ``ntp`` ≡ rescale at r = 0, ``mup`` ≡ μP gauge at r = 1/2, ``mfp`` ≡ rescale at r = 1/2,
``*-lr`` ≡ STP. Negative control: r → r + 0.01 must differ by far more than the tolerance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.richness import (GAUGES, UnstableRichnessWarning, classification_task, mlp_preactivations, richness,
                               run_ensemble)


@dataclass(frozen=True)
class Config(ScaledConfig):
    widths: tuple[int, ...] = declare((64, 256, 1024), TupleOf(Int(2, 8192), length=(1, 16)))
    rs: tuple[float, ...] = declare((0.0, 0.25, 0.5), TupleOf(Float(0, 0.5), length=(1, 16)))
    gamma0s: tuple[float, ...] = declare((0.1, 1.0, 10.0), TupleOf(Float(0, 10_000, closed="right"), length=(1, 16)))
    momenta: tuple[float, ...] = declare((0.0, 0.9), TupleOf(Float(0, 1, closed="left"), length=(1, 8)))
    steps: int = declare(20, Int(1, 10_000))
    n_train: int = declare(128, Int(1, 4000))  # the MNIST-1D training set
    batch_size: int = declare(32, Int(1, 4000))
    n_seeds: int = declare(2, Int(1, 256))
    eta0: float = declare(0.2, Float(0, 1000, closed="right"))
    tolerance: float = declare(1e-10, Float(0, 1, closed="right"))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(64, 256), n_seeds=1)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(self.batch_size <= self.n_train, "batch_size <= n_train", "batch_size", "n_train")


def _final_outputs(run, x) -> np.ndarray:
    """Centred outputs ``f_T - f_0`` on ``x`` of every member: shape (E, m, k)."""
    ws, w0 = run.weights[max(run.weights)], run.weights[0]
    return np.stack([mlp_preactivations([w[e] for w in ws], x)[-1] - mlp_preactivations([w[e] for w in w0], x)[-1]
                     for e in range(len(run.seeds))])


def _eta(eta0: float, gamma0: float) -> float:
    """Base LR: eta0 for gamma0 <= 1, eta0 / gamma0^2 above (the lazy side's optimum is flat, §8)."""
    return eta0 / max(1.0, gamma0) ** 2


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    task = classification_task("mnist1d", config.n_train, 64, seed=int(rng.integers(2**31)))
    seeds = [int(s) for s in rng.integers(0, 2**31, size=config.n_seeds)]
    batch_seed = int(rng.integers(2**31))
    # every (r, gamma0, gauge, seed) member -- plus the r + 0.01 controls -- is one vmapped ensemble
    members = [(r, g0, gauge, s) for r in config.rs for g0 in config.gamma0s for gauge in GAUGES for s in seeds]
    members += [(r + 0.01, 1.0, "control", s) for r in config.rs for s in seeds]
    with warnings.catch_warnings():  # the r + 0.01 control at r = 1/2 is deliberately outside [0, 1/2]
        warnings.simplefilter("ignore", UnstableRichnessWarning)
        params = [richness(r, g0, gauge="stp" if gauge == "control" else gauge, allow_unstable=gauge == "control")
                  for r, g0, gauge, _ in members]
    rows, controls = [], []
    for n in config.widths:
        sizes = (task["x_train"].shape[1], n, n, 10)
        for mom in config.momenta:
            run_ = run_ensemble(sizes, params, seeds=[m[3] for m in members], x=task["x_train"], y=task["y_train"],
                                steps=config.steps, lr=[_eta(config.eta0, m[1]) for m in members], momentum=mom,
                                batch_size=config.batch_size, batch_seed=batch_seed,
                                weight_steps=(0, config.steps), center=True)
            out = _final_outputs(run_, task["x_test"])
            index = {m: i for i, m in enumerate(members)}
            for r in config.rs:
                for g0 in config.gamma0s:
                    ref = np.stack([out[index[(r, g0, "stp", s)]] for s in seeds])
                    scale = float(np.max(np.abs(ref)))
                    for gauge in GAUGES:
                        other = np.stack([out[index[(r, g0, gauge, s)]] for s in seeds])
                        rows.append({"width": n, "r": r, "gamma0": g0, "momentum": mom, "gauge": gauge,
                                     "max_abs_diff_vs_stp": float(np.max(np.abs(other - ref))),
                                     "max_abs_output": scale})
                    if g0 == 1.0:
                        shifted = np.stack([out[index[(r + 0.01, 1.0, "control", s)]] for s in seeds])
                        controls.append({"width": n, "r": r, "momentum": mom,
                                         "control_diff": float(np.max(np.abs(shifted - ref)))})
    df = pd.DataFrame(rows)
    ctl = pd.DataFrame(controls)
    diffs = df["max_abs_diff_vs_stp"].to_numpy()
    worst = float(np.max(diffs)) if np.all(np.isfinite(diffs)) else float("inf")
    rel_bound = 1e3 * 2.0 ** -53 * config.steps
    worst_rel = float(np.max(diffs / df["max_abs_output"].to_numpy()))
    min_ctl = float(ctl["control_diff"].min()) if len(ctl) else float("nan")

    fig, ax = plt.subplots(figsize=(6, 4))
    for gauge in ("mup", "rescale"):
        d = df[df.gauge == gauge]
        ax.scatter(d["width"] * (1.05 if gauge == "mup" else 0.95), np.maximum(d["max_abs_diff_vs_stp"], 1e-18),
                   label=f"{gauge} vs stp", s=12)
    if len(ctl):
        ax.scatter(ctl["width"], ctl["control_diff"], marker="x", color="k", label="control: r+0.01")
    ax.axhline(config.tolerance, ls="--", color="r", label="tolerance")
    ax.set(xscale="log", yscale="log", xlabel="width", ylabel=f"max |f - f_stp| after {config.steps} steps",
           title="Gauge equivalence (float64)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    claims = [
        legacy_claim("gauges-identical", "max |f_gauge - f_stp| over configs (outputs after T SGD steps)",
              f"<= {config.tolerance:g}", worst, worst <= config.tolerance,
              "STP, μP and rescaling gauges (hence ntp≡ntp-lr, mup≡mup-lr≡mfp) give the same network", "gauges"),
        legacy_claim("gauges-rounding", "max |f_gauge - f_stp| / max|f|", f"<= 1e3·u·T = {rel_bound:.2e}", worst_rel,
              worst_rel <= rel_bound, "differences are at the level of float64 rounding (§12.2)", "gauges"),
        legacy_claim("control-r-shift", "min over widths, r of max |f(r+0.01) - f(r)|", f">= {1e3 * config.tolerance:g}",
              min_ctl, min_ctl >= 1e3 * config.tolerance, "the comparison is sensitive: changing r is visible",
              "gauges"),
    ]
    return Outcome(table=pd.concat([df, ctl.assign(gauge="control r+0.01")], ignore_index=True),
                   figures={"gauges": fig}, claims=claims,
                   notes=["Base LR eta0 / max(1, gamma0)^2; centred outputs f - f_0; members of one width and momentum form "
                          "one vmapped ensemble.",
                          "Adam's eps, raw-gradient clipping and unscaled weight decay are not gauge invariant "
                          "(§5); Adam is accepted only in the STP gauge."])


EXPERIMENT = Experiment(
    name="gauge-equivalence", pillar="richness", title="Three gauges, one network",
    description="The richness family is defined by gauge-invariant per-layer quantities (effective init variance "
                "and effective learning rate of g·W). Realized with unit multipliers (STP), with the tutorial's "
                "μP-gauge multipliers and one global learning rate, or by NTP output rescaling, the same draws "
                "trained by SGD (± momentum) give the same outputs to float64 rounding; a 0.01 change in r does not.",
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, mlp_weights, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    members = len(config.rs) * config.n_seeds * (len(config.gamma0s) * 3 + 1)  # 3 gauges + the r + 0.01 controls
    weights = [mlp_weights((40, n, n, 10)) for n in config.widths]
    memory = BASE_MEMORY + 9 * members * max(weights) * 8  # ~8 copies of the float64 weights (measured)
    seconds = 15 + 1.8e-08 * len(config.momenta) * members * sum(weights) * config.steps * config.batch_size
    return Resources(memory, seconds, ("widths", "n_seeds", "rs", "gamma0s"),
                     ("widths", "steps", "batch_size", "n_seeds", "rs", "gamma0s", "momenta"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
