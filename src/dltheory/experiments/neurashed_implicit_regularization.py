"""Neurashed implicit regularization: clean first, benign memorization, idiosyncratic flow (neurashed.md §10.1).

Sweep of the idiosyncratic features per training example r (overparameterization) and the label
noise ρ on the IR reference configuration (R-grad, η = 0.05, λ = 1e-3, κ = 0.05). The pass
criteria IR-1 … IR-4 compare r = 2 with r = 0 at ρ = 0.2, paired by seed (seeds 100, 101, …).
The claim is a *(reconstruction; not checked against the paper's text)*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.neurashed.diagnostics import fit_time
from dltheory.neurashed.pictures import graph_strip
from dltheory.neurashed.reference import REFERENCE, run_reference
from dltheory.stats import t_interval


@dataclass(frozen=True)
class Config(ScaledConfig):
    r_values: tuple[int, ...] = declare((0, 1, 2, 8), TupleOf(Int(0, 64), length=(2, 16)))
    rho_values: tuple[float, ...] = declare((0.0, 0.2, 0.4), TupleOf(Float(0, 1, closed="left"), length=(1, 16)))
    n_seeds: int = declare(10, Int(2, 256))  # >= 2: paired t-interval
    seed_offset: int = declare(100, Int(0, 1_000_000_000))
    steps: int = declare(60_000, Int(1, 1_000_000))
    checkpoint_every: int = declare(500, Int(1, 1_000_000))
    n_per_class: int = declare(100, Int(1, 10_000))

    @classmethod
    def quick(cls) -> Config:
        return cls(r_values=(0, 2), rho_values=(0.2,), n_seeds=3, checkpoint_every=1000)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(0 in self.r_values and 2 in self.r_values, "0 and 2 among r_values (the IR comparison)", "r_values")
        self.check(0.2 in self.rho_values, "0.2 among rho_values (the IR configuration)", "rho_values")
        self.check(self.steps >= self.checkpoint_every, "steps >= checkpoint_every", "steps", "checkpoint_every")


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt
    from scipy import stats

    base = REFERENCE["IR"].with_(steps=config.steps, checkpoint_every=config.checkpoint_every,
                                 n_per_class=config.n_per_class)
    rows, runs = [], {}
    for rho in config.rho_values:
        for r in config.r_values:
            for s in range(config.n_seeds):
                seed = config.seed_offset + s
                task, log = run_reference(base.with_(r=r, rho=rho), seed, keep_thetas=(r == 2 and s == 0))
                runs[(r, rho, seed)] = (task, log)
                noisy = task.train.is_noisy
                for q, name in (("acc_test", "acc_test"), ("acc_train_clean", "fitted_clean"), ("mem", "fitted_noisy")):
                    for st, v in zip(log.steps, log[q]):
                        rows.append(dict(r=r, rho=rho, seed=seed, step=int(st), quantity=name, value=float(v)))
                for st, ne in zip(log.steps, log["n_eff"]):
                    for lv, v in enumerate(ne, start=1):
                        rows.append(dict(r=r, rho=rho, seed=seed, step=int(st), quantity=f"n_eff_{lv}", value=float(v)))
                if r > 0:
                    for st, sh in zip(log.steps, log.idio_share):
                        rows.append(dict(r=r, rho=rho, seed=seed, step=int(st), quantity="idio_share_clean",
                                         value=float(np.median(sh[~noisy]))))
                        if noisy.any():
                            rows.append(dict(r=r, rho=rho, seed=seed, step=int(st), quantity="idio_share_noisy",
                                             value=float(np.median(sh[noisy]))))
    seeds = [config.seed_offset + s for s in range(config.n_seeds)]
    clean_first, mem_ok, mw_ok, decay_ok, diffs, per_seed = [], [], [], [], [], []
    for seed in seeds:
        task, log = runs[(2, 0.2, seed)]
        _, log0 = runs[(0, 0.2, seed)]
        noisy = task.train.is_noisy
        t90c = fit_time(log.fitted, log.steps, ~noisy, 0.9)
        t50n = fit_time(log.fitted, log.steps, noisy, 0.5)
        mem = float(log["mem"][-1])
        p = float(stats.mannwhitneyu(log.idio_share[-1][noisy], log.idio_share[-1][~noisy],
                                     alternative="greater").pvalue) if noisy.any() else float("nan")
        first = log.first_fit_step()
        fit_clean = ~noisy & np.isfinite(first)
        at_fit = log.idio_share[np.searchsorted(log.steps, first[fit_clean]), np.flatnonzero(fit_clean)]
        change = float(np.median(log.idio_share[-1][fit_clean] - at_fit)) if fit_clean.any() else float("nan")
        d = float(log["acc_test"][-1] - log0["acc_test"][-1])
        clean_first.append(t90c < t50n)
        mem_ok.append(mem >= 0.95)
        mw_ok.append(p < 0.01)
        decay_ok.append(change < 0)
        diffs.append(d)
        per_seed.append(dict(seed=seed, t90_clean=t90c, t50_noisy=t50n, mem_end=mem, mw_p=p,
                             clean_idio_change_after_fit=change, acc_test_diff=d))
    for ps in per_seed:
        for k, v in ps.items():
            if k != "seed":
                rows.append(dict(r=2, rho=0.2, seed=ps["seed"], step=config.steps, quantity=k, value=float(v)))
    table = pd.DataFrame(rows)
    lo, hi = t_interval(np.array(diffs))

    # figures ---------------------------------------------------------------------------------
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    sub = table[(table.rho == 0.2)]
    for q, style in (("fitted_clean", "-"), ("fitted_noisy", "--")):
        m = sub[(sub.r == 2) & (sub.quantity == q)].groupby("step").value.mean()
        ax[0, 0].plot(m.index, m.values, style, label=q.replace("_", " "))
    ax[0, 0].set(title="(a) fitted fraction, r = 2, ρ = 0.2", xlabel="step", ylabel="fraction fitted to observed label")
    ax[0, 0].legend()
    for r in config.r_values:
        m = sub[(sub.r == r) & (sub.quantity == "acc_test")].groupby("step").value.mean()
        ax[0, 1].plot(m.index, m.values, label=f"r = {r}")
    ax[0, 1].set(title="(b) clean test accuracy, ρ = 0.2", xlabel="step", ylabel="accuracy")
    ax[0, 1].legend()
    for lv in (1, 2, 3):
        m = sub[(sub.r == 2) & (sub.quantity == f"n_eff_{lv}")].groupby("step").value.mean()
        ax[1, 0].semilogy(m.index, m.values, label=f"level {lv}")
    ax[1, 0].set(title="(c) N_eff per level, r = 2", xlabel="step", ylabel="N_eff")
    ax[1, 0].legend()
    for q, style in (("idio_share_clean", "-"), ("idio_share_noisy", "--")):
        m = sub[(sub.r == 2) & (sub.quantity == q)].groupby("step").value.mean()
        ax[1, 1].plot(m.index, m.values, style, label=q.replace("idio_share_", ""))
    ax[1, 1].set(title="(d) median idiosyncratic flow share", xlabel="step", ylabel="idio share")
    ax[1, 1].legend()
    fig.tight_layout()
    task0, log0 = runs[(2, 0.2, seeds[0])]
    c = len(log0.steps)
    strip = graph_strip(task0.graph, log0.thetas, log0.steps, which=sorted({0, c // 8, c // 3, c - 1}))

    n = config.n_seeds
    claims = [
        legacy_claim("ir1-clean-first", "fraction of seeds with t90(clean) < t50(noisy), r = 2, ρ = 0.2", ">= 0.9",
              np.mean(clean_first), np.mean(clean_first) >= 0.9,
              "clean examples are fitted before noisy ones", "ir_dynamics"),
        legacy_claim("ir2-memorization", "fraction of seeds with mem(end) >= 0.95", ">= 0.9", np.mean(mem_ok),
              np.mean(mem_ok) >= 0.9, "noisy labels are eventually memorized", "ir_dynamics"),
        legacy_claim("ir3-benign", "max |end| of 90% t-interval of paired Δ clean test acc (r=2 − r=0)", "<= 0.06",
              max(abs(lo), abs(hi)), (lo >= -0.06) and (hi <= 0.06),
              "memorization capacity changes test accuracy by less than 0.06 (TOST at 0.05)", "ir_dynamics"),
        legacy_claim("ir4-noisy-keep-idio", "fraction of seeds with Mann–Whitney p < 0.01 (idio share noisy > clean)",
              ">= 0.9", np.mean(mw_ok), np.mean(mw_ok) >= 0.9,
              "noisy examples keep their idiosyncratic flow", "ir_dynamics"),
        legacy_claim("ir5-clean-idio-decay", "fraction of seeds where the median clean idio share fell after fitting",
              ">= 0.9", np.mean(decay_ok), np.mean(decay_ok) >= 0.9,
              "idiosyncratic amounts of clean examples decay once they are fitted (issue claim; not in spec §10.1)",
              "ir_dynamics"),
    ]
    notes = [f"Seeds {seeds[0]}–{seeds[-1]} ({n}); paired Δ test accuracy (r=2 − r=0) mean {np.mean(diffs):+.3f}, "
             f"90% t-interval [{lo:+.3f}, {hi:+.3f}].",
             "Per seed: " + "; ".join(f"{p['seed']}: t90c={p['t90_clean']:.0f}, t50n={p['t50_noisy']:.0f}, "
                                      f"mem={p['mem_end']:.2f}, MW p={p['mw_p']:.1e}, "
                                      f"Δidio(clean)={p['clean_idio_change_after_fit']:+.3f}" for p in per_seed),
             "Final clean test accuracy by (ρ, r), mean over seeds: " + ", ".join(
                 f"ρ={rho}, r={r}: {v:.3f}" for (rho, r), v in
                 table[(table.quantity == "acc_test") & (table.step == table.step.max())].groupby(["rho", "r"]).value.mean().items()),
             "Claim is a reconstruction of the paper's model (neurashed.md §10.1), not checked against its text."]
    return Outcome(table=table, figures={"ir_dynamics": fig, "ir_graph_strip": strip}, claims=claims, notes=notes)


EXPERIMENT = Experiment(
    name="neurashed-implicit-regularization", pillar="neurashed",
    title="Neurashed: implicit regularization and benign memorization",
    description=("A neurashed feature graph (4 classes, 2 superclasses, 3 levels, cross-activation) with r "
                 "idiosyncratic features per training example is trained by exponentiated gradient with weak "
                 "decay under label noise. We measure whether clean examples are fitted before noisy ones, "
                 "whether noisy labels are memorized through idiosyncratic flow, and whether that extra "
                 "capacity leaves clean test accuracy unchanged (neurashed.md §10.1)."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    runs = len(config.rho_values) * len(config.r_values) * config.n_seeds
    checkpoints = config.steps // config.checkpoint_every + 2
    n_train = 8 * config.n_per_class  # 4 classes, train and test
    # every run's log (checkpoints × examples × ~8 quantities) and ~10 table rows per checkpoint (Python dicts)
    memory = BASE_MEMORY + runs * checkpoints * (8 * n_train * 8 + 10 * 600)
    seconds = 20 + runs * (0.0001 * config.steps + 0.00015 * checkpoints * n_train)
    return Resources(memory, seconds, ("steps", "checkpoint_every", "n_per_class", "n_seeds"),
                     ("steps", "n_seeds", "r_values", "rho_values", "checkpoint_every", "n_per_class"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
