"""Noisy-label memorization in a real MLP on digits: clean examples are fitted first (neurashed.md §11.2, C-mem).

The real-network mirror of ``neurashed-implicit-regularization``: a one-hidden-layer ReLU MLP is
trained with Adam on sklearn digits whose training labels carry uniform label noise ρ; we record
each training example's first epoch predicted as its observed label, the fitted fractions of clean
and noisy examples per epoch, and clean test accuracy (Arpit et al. 2017; Zhang et al. 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare


@dataclass(frozen=True)
class Config(ScaledConfig):
    widths: tuple[int, ...] = declare((32, 128, 512, 2048), TupleOf(Int(1, 16_384), length=(1, 16)))
    rho_values: tuple[float, ...] = declare((0.0, 0.2, 0.4), TupleOf(Float(0, 1, closed="left"), length=(1, 16)))
    weight_decays: tuple[float, ...] = declare((0.0, 1e-4), TupleOf(Float(0, 1), length=(1, 16)))
    n_seeds: int = declare(8, Int(1, 256))
    max_epochs: int = declare(1000, Int(1, 100_000))
    patience: int = declare(10, Int(1, 100_000))
    lr: float = declare(1e-3, Float(0, 10, closed="right"))
    batch_size: int = declare(64, Int(1, 20_000))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(128, 512), rho_values=(0.2,), weight_decays=(0.0,), n_seeds=3, max_epochs=300)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(any(r > 0 for r in self.rho_values), "a noise level > 0 among rho_values", "rho_values")


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt
    import torch
    from scipy import stats

    from dltheory.data import load_digits
    from dltheory.neurashed.examples import noisy_labels
    from dltheory.nets.threads import limit_threads
    from dltheory.neurashed.real import train_memorization

    data = load_digits(test_fraction=0.2, seed=0)
    rows, curves, per_cell = [], {}, {}
    with limit_threads():
        for rho in config.rho_values:
            for wd in config.weight_decays:
                for width in config.widths:
                    for s in range(config.n_seeds):
                        seed = int(rng.integers(0, 2**31 - 1))
                        obs = noisy_labels(data.y_train, 10, rho, np.random.default_rng(seed))
                        noisy = obs != data.y_train
                        rec = train_memorization(data.x_train, obs, data.x_test, data.y_test, width=width,
                                                 n_classes=10, lr=config.lr, batch_size=config.batch_size,
                                                 max_epochs=config.max_epochs, patience=config.patience,
                                                 weight_decay=wd, generator=torch.Generator().manual_seed(seed))
                        ff = rec.first_fit_epoch
                        med_c = float(np.median(ff[~noisy]))
                        med_n = float(np.median(ff[noisy])) if noisy.any() else float("nan")
                        p = float(stats.mannwhitneyu(ff[noisy], ff[~noisy], alternative="greater").pvalue) \
                            if noisy.any() else float("nan")
                        ok = bool(noisy.any() and med_c < med_n and p < 0.01)
                        per_cell.setdefault((rho, wd, width), []).append(ok)
                        rows.append(dict(rho=rho, weight_decay=wd, width=width, seed=s, epochs=len(rec.acc_test) - 1,
                                         median_first_fit_clean=med_c, median_first_fit_noisy=med_n, mw_p=p,
                                         clean_first=ok,
                                         fitted_noisy_end=float(rec.fitted[-1][noisy].mean()) if noisy.any() else np.nan,
                                         acc_test_final=float(rec.acc_test[-1]), acc_test_best=float(rec.acc_test.max())))
                        if s == 0:
                            curves[(rho, wd, width)] = (rec.fitted[:, ~noisy].mean(axis=1),
                                                        rec.fitted[:, noisy].mean(axis=1) if noisy.any() else None,
                                                        rec.acc_test)
    table = pd.DataFrame(rows)
    fracs = {k: float(np.mean(v)) for k, v in per_cell.items() if k[0] > 0}
    worst = min(fracs.values())

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for i, ((rho, wd, width), (fc, fn, acc)) in enumerate(curves.items()):
        if fn is None:
            continue
        ax[0].plot(fc, "-", color=f"C{i}", label=f"clean, w={width}, ρ={rho}, wd={wd}")
        ax[0].plot(fn, "--", color=f"C{i}", label=f"noisy, w={width}, ρ={rho}, wd={wd}")
    ax[0].set(title="fitted fraction (first seed)", xlabel="epoch", ylabel="fraction fitted to observed label")
    ax[0].legend(fontsize=6)
    for (rho, wd), g in table.groupby(["rho", "weight_decay"]):
        m = g.groupby("width").acc_test_final.mean()
        ax[1].semilogx(m.index, m.values, marker="o", label=f"ρ={rho}, wd={wd}")
    ax[1].set(title="final clean test accuracy", xlabel="width", ylabel="accuracy")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    claims = [legacy_claim("mem-real-clean-first", "min over (ρ > 0, weight decay, width) of the fraction of seeds with "
                    "median first-fit epoch clean < noisy and Mann–Whitney p < 0.01", ">= 7/8", worst, worst >= 7 / 8,
                    "a real MLP fits clean examples before it memorizes noisy ones", "memorization_real")]
    notes = ["Per cell (ρ, wd, width): fraction of seeds clean-first — " +
             ", ".join(f"{k}: {v:.2f}" for k, v in fracs.items()),
             "Medians over seeds per (ρ, wd, width) of [median first-fit epoch clean, noisy; fitted noisy at end; "
             "final test acc]: " + "; ".join(
                 f"{k}: {g.median_first_fit_clean.median():.0f}, {g.median_first_fit_noisy.median():.0f}, "
                 f"{g.fitted_noisy_end.median():.2f}, {g.acc_test_final.median():.3f}"
                 for k, g in table[table.rho > 0].groupby(["rho", "weight_decay", "width"])),
             f"Digits, 80/20 split, standardized; Adam lr {config.lr}, batch {config.batch_size}, stop after train "
             f"accuracy 1.0 for {config.patience} epochs or {config.max_epochs} epochs."]
    return Outcome(table=table, figures={"memorization_real": fig}, claims=claims, notes=notes)


EXPERIMENT = Experiment(
    name="memorization-real", pillar="neurashed",
    title="Real MLP on digits with label noise: clean first, then memorization",
    description=("A one-hidden-layer ReLU MLP trained with Adam on sklearn digits with uniform label noise: "
                 "per-example first-fit epochs of clean and noisy training examples, the fitted fractions per "
                 "epoch and clean test accuracy across widths — the real-network counterpart of the neurashed "
                 "implicit-regularization experiment (neurashed.md §11.2)."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, MIB, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources).

    Time assumes every training runs to ``max_epochs`` (early stopping usually ends it sooner).
    """
    n_train, n_test, d = 1437, 360, 64  # the digits split
    trainings = len(config.rho_values) * len(config.weight_decays) * config.n_seeds
    weights = [w * (d + 10) for w in config.widths]
    # + 256 MiB: allocator growth over many Adam steps (0.92 GiB peak measured at the quick scale)
    memory = BASE_MEMORY + 256 * MIB + 6 * max(weights) * 8 + 3 * config.max_epochs * n_train * 8
    seconds = 15 + 1.8e-09 * trainings * sum(weights) * config.max_epochs * (n_train + n_test)
    return Resources(memory, seconds, ("max_epochs", "widths"),
                     ("max_epochs", "widths", "n_seeds", "rho_values", "weight_decays"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
