"""Neurashed local elasticity: similarity by pair type, and clustering by similarity (neurashed.md §10.3).

On the LE configuration (κ = 0.05, ρ = 0.2, λ = 1e-3; checkpoints 0, 5×10³, 3×10⁴) with
π_max ∈ {0, 0.5}, the normalized kernelized similarity Ŝ (§9) over all clean training examples is
summarized by pair type (same class / same superclass / other superclass) with 99% bootstrap
intervals. The ordering is built in by feature sharing — it is the model's explanation of LE, not
a test of it. The one-step S_rel is measured at the first checkpoints (before saturation) on a
subset, with the undefined (0/0) count. Clustering: 2-cluster K-means on the rows of Ŝ and kernel
K-means on S_ker, for classes 0 and 1 (same superclass), against K-means on the raw feature masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.neurashed.elasticity import (bootstrap_pair_gaps, kernel_kmeans, kernel_similarity, kmeans_rows,
                                           neurashed_margin_gradients, neurashed_relative_similarity,
                                           normalized_similarity, pair_type_means, raw_kmeans_accuracy,
                                           spectral_two_clusters, two_cluster_accuracy)
from dltheory.neurashed.reference import REFERENCE, run_reference


@dataclass(frozen=True)
class Config(ScaledConfig):
    pi_max_values: tuple[float, ...] = declare((0.0, 0.5), TupleOf(Float(0, 1), length=(1, 16)))
    n_seeds: int = declare(10, Int(1, 256))
    seed_offset: int = declare(100, Int(0, 1_000_000_000))
    checkpoints: tuple[int, ...] = declare((0, 5_000, 30_000), TupleOf(Int(0, 1_000_000), length=(1, 32)))
    n_per_class: int = declare(100, Int(1, 10_000))
    n_boot: int = declare(1000, Int(50, 100_000))
    srel_per_class: int = declare(20, Int(1, 1000))
    srel_checkpoints: int = declare(2, Int(0, 32))

    @classmethod
    def quick(cls) -> Config:
        return cls(n_seeds=3, n_boot=200, srel_per_class=10)

    @classmethod
    def full(cls) -> Config:
        return cls()


def _measure(task, theta, rng, config):
    g, tr = task.graph, task.train
    clean = np.flatnonzero(~tr.is_noisy)
    a = tr.batch(clean)
    y = tr.true_label[clean]
    s = kernel_similarity(neurashed_margin_gradients(g, theta, a, y))
    sh = normalized_similarity(s)
    sup = g.superclass_of()
    means = pair_type_means(sh, y, sup)
    means["rho_le"] = means["alpha"] / (means["alpha"] + means["beta"])  # LANTK ratio, diagonal excluded
    iv = bootstrap_pair_gaps(sh, y, sup, n_boot=config.n_boot, level=0.99, rng=rng)
    pair = np.isin(y, (0, 1))
    truth = y[pair]
    shared = [m[clean][pair][:, : (m.shape[1] if l < g.n_levels - 1 else int((g.idio_example < 0).sum()))]
              for l, m in enumerate(tr.masks)]
    masks = np.hstack(shared).astype(float)
    acc = {"kmeans_rows_S": two_cluster_accuracy(kmeans_rows(sh[np.ix_(pair, pair)]), truth),
           "kernel_kmeans_S": two_cluster_accuracy(kernel_kmeans(s[np.ix_(pair, pair)], rng=rng), truth),
           "spectral_S": two_cluster_accuracy(spectral_two_clusters(sh[np.ix_(pair, pair)]), truth)}
    acc.update({f"kmeans_masks{'' if k == 'raw' else '_' + k}": v for k, v in raw_kmeans_accuracy(masks, truth).items()})
    return means, iv, acc, sh, y


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    from dltheory.nets.threads import limit_threads

    rows, order_ok, cluster_gap, srel_rows, heat = [], [], [], [], None
    with limit_threads(torch_threads=None, blas_threads=1):
        for pi in config.pi_max_values:
            for s in range(config.n_seeds):
                seed = config.seed_offset + s
                cfg = REFERENCE["LE"].with_(pi_max=pi, steps=max(config.checkpoints), checkpoints=config.checkpoints,
                                            n_per_class=config.n_per_class)
                task, log = run_reference(cfg, seed)
                ok_all = True
                for c, step in enumerate(log.steps):
                    means, iv, acc, sh, y = _measure(task, log.thetas[c], rng, config)
                    ok = (iv["same_minus_superclass"][0] > 0) and (iv["superclass_minus_other"][0] > 0)
                    ok_all &= ok
                    row = dict(pi_max=pi, seed=seed, step=int(step), **means, **acc,
                               gap_same_sup_lo=iv["same_minus_superclass"][0],
                               gap_same_sup_hi=iv["same_minus_superclass"][1],
                               gap_sup_other_lo=iv["superclass_minus_other"][0],
                               gap_sup_other_hi=iv["superclass_minus_other"][1], ordering_ok=ok)
                    if c < config.srel_checkpoints:
                        tr = task.train
                        pick = np.concatenate([np.flatnonzero((~tr.is_noisy) & (tr.true_label == k))[:config.srel_per_class]
                                               for k in range(task.graph.n_classes)])
                        srel, undefined = neurashed_relative_similarity(task.graph, log.thetas[c], tr.batch(pick),
                                                                        tr.true_label[pick])
                        sym = (srel + srel.T) / 2
                        m = pair_type_means(sym, tr.true_label[pick], task.graph.superclass_of())
                        row.update({f"srel_{k}": v for k, v in m.items() if k in ("same_class", "same_superclass",
                                                                                  "other_superclass")})
                        row["srel_undefined"] = undefined
                    rows.append(row)
                    if c == len(log.steps) - 1:
                        cluster_gap.append(acc["kmeans_rows_S"] - acc["kmeans_masks"])
                        if heat is None:
                            heat = (sh, y, pi, seed, int(step))
                order_ok.append(ok_all)
    table = pd.DataFrame(rows)

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for k, col in enumerate(("same_class", "same_superclass", "other_superclass")):
        for pi, ls in zip(config.pi_max_values, ("-", "--", ":")):
            m = table[table.pi_max == pi].groupby("step")[col].agg(["mean", "min", "max"])
            ax[0].plot(m.index, m["mean"], ls, color=f"C{k}", label=f"{col}, π_max={pi}")
            ax[0].fill_between(m.index, m["min"], m["max"], color=f"C{k}", alpha=0.15)
    ax[0].set(title="mean Ŝ by pair type (band: range over seeds)", xlabel="step", ylabel="Ŝ")
    ax[0].legend(fontsize=7)
    for col, ls in (("kmeans_rows_S", "-"), ("kernel_kmeans_S", "--"), ("kmeans_masks", ":")):
        m = table.groupby("step")[col].mean()
        ax[1].plot(m.index, m.values, ls, marker="o", label=col)
    ax[1].set(title="2-cluster accuracy, classes 0 vs 1", xlabel="step", ylabel="accuracy", ylim=(0.45, 1.02))
    ax[1].legend(fontsize=8)
    sh, y, pi, seed, step = heat
    o = np.argsort(y, kind="stable")
    im = ax[2].imshow(sh[np.ix_(o, o)], cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(im, ax=ax[2])
    ax[2].set(title=f"Ŝ sorted by class (π_max={pi}, seed {seed}, step {step})")
    fig.tight_layout()

    frac = float(np.mean(order_ok))
    gap = float(np.mean(cluster_gap))
    last = table[table.step == table.step.max()]
    claims = [
        legacy_claim("le-ordering", "fraction of runs with Ŝ_same > Ŝ_superclass > Ŝ_other (99% bootstrap) at every checkpoint",
              ">= 0.9", frac, frac >= 0.9,
              "an update moves same-class predictions most, same-superclass less, others least", "local_elasticity"),
        legacy_claim("le-kmeans-vs-masks", "mean over runs of [K-means on Ŝ rows − K-means on masks] 2-cluster accuracy, "
              "classes 0/1, final checkpoint", "> 0", gap, gap > 0,
              "the trained model's similarity separates two related classes better than the raw masks",
              "local_elasticity"),
    ]
    notes = ["ρ_LE = same / (same + between) by checkpoint (mean over runs): " + ", ".join(
                 f"step {st}: {v:.3f}" for st, v in table.groupby("step").rho_le.mean().items()),
             f"Final checkpoint means: Ŝ same {last.same_class.mean():.3f}, superclass {last.same_superclass.mean():.3f}, "
             f"other {last.other_superclass.mean():.3f}; K-means on Ŝ rows {last.kmeans_rows_S.mean():.3f}, kernel K-means "
             f"{last.kernel_kmeans_S.mean():.3f}, masks {last.kmeans_masks.mean():.3f}.",
             "Mean [K-means on Ŝ rows − masks] accuracy by checkpoint: " + ", ".join(
                 f"step {st}: {g:+.3f}" for st, g in (table.kmeans_rows_S - table.kmeans_masks).groupby(table.step).mean().items()),
             "The pair-type ordering is built in by feature sharing (the model's explanation of LE, not a test).",
             "S_rel (one-step, symmetrized) is reported at the first checkpoints only; undefined rows (0/0) are NaN "
             "and counted in column srel_undefined."]
    return Outcome(table=table, figures={"local_elasticity": fig}, claims=claims, notes=notes)


EXPERIMENT = Experiment(
    name="neurashed-local-elasticity", pillar="neurashed",
    title="Neurashed: local elasticity by semantic relation",
    description=("The kernelized similarity of a neurashed graph's own-label logit gradients, averaged over "
                 "same-class, same-superclass and other-superclass pairs of clean training examples during "
                 "training, with bootstrap intervals; and whether 2-cluster K-means on the similarity separates "
                 "two related classes better than K-means on the raw feature masks (neurashed.md §10.3)."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    runs = len(config.pi_max_values) * config.n_seeds
    n = 4 * config.n_per_class  # clean training examples (at most)
    probe = 4 * config.srel_per_class
    # n × n similarity matrices (raw, normalized, bootstrap resamples) and the probe's relative similarity
    memory = BASE_MEMORY + 12 * n * n * 8 + 6 * probe * probe * 8
    per_checkpoint = 1e-06 * n * n + 6e-08 * config.n_boot * n * n
    seconds = 20 + runs * (0.0001 * max(config.checkpoints) + len(config.checkpoints) * per_checkpoint
                          + min(config.srel_checkpoints, len(config.checkpoints)) * 0.0001 * probe * probe)
    return Resources(memory, seconds, ("n_per_class", "srel_per_class"),
                     ("checkpoints", "n_seeds", "n_boot", "n_per_class", "pi_max_values"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
