"""Inverse-Ising recovery on planted models and BP entropy against exact enumeration (weight-space.md §5.1, §6, §11).

Planted models (ferromagnetic, spin-glass, sparse) are sampled by long Metropolis runs; the
pseudo-likelihood fit's relative coupling error must fall like M^{-1/2}. BP's Bethe entropy is
compared with exact enumeration on trees (exact) and on weakly coupled dense graphs (A6 tolerance).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Choice, Int, TupleOf, declare
from dltheory.weightspace import (IsingModel, belief_propagation, exact_moments, fit_pseudolikelihood,
                                  metropolis_sample)

KINDS = ("ferro", "spin-glass", "sparse")


@dataclass(frozen=True)
class Config(ScaledConfig):
    sizes: tuple[int, ...] = declare((50, 100, 200, 300), TupleOf(Int(3, 1000), length=(1, 16)))
    kinds: tuple[str, ...] = declare(KINDS, TupleOf(Choice(*KINDS), length=(1, 8)))
    sample_sizes: tuple[int, ...] = declare((4000, 16000, 64000), TupleOf(Int(2, 1_000_000), length=(2, 16)))
    n_chains: int = declare(1000, Int(1, 100_000))
    burn_in: int = declare(2000, Int(0, 1_000_000))
    thin: int = declare(20, Int(1, 10_000))
    enum_size: int = declare(16, Int(3, 20))
    n_enum_instances: int = declare(10, Int(1, 1000))

    @classmethod
    def quick(cls) -> Config:
        return cls(sizes=(50, 100), sample_sizes=(1000, 4000, 16000), burn_in=300, thin=5, n_enum_instances=5)

    @classmethod
    def full(cls) -> Config:
        return cls()

    def validate(self) -> None:
        self.check(list(self.sample_sizes) == sorted(self.sample_sizes), "increasing sample_sizes", "sample_sizes")


def planted_model(kind: str, n: int, rng: np.random.Generator) -> IsingModel:
    """Planted couplings: ferro J_ij = (0.5 + 0.25 g_ij)/N; spin glass N(0, 0.5²/N); sparse ±0.4 on an ER graph of mean degree 3."""
    if kind == "ferro":
        A = (0.5 + 0.25 * rng.standard_normal((n, n))) / n
    elif kind == "spin-glass":
        A = rng.normal(0, 0.5 / np.sqrt(n), (n, n))
    else:
        A = np.where(rng.random((n, n)) < 3.0 / n, rng.choice([-0.4, 0.4], (n, n)), 0.0)
    J = np.triu(A, 1)
    return IsingModel(rng.normal(0, 0.1, n), J + J.T)


def _loopy_or_tree(n, rng, tree):
    J = np.zeros((n, n))
    if tree:
        for i in range(1, n):
            p = int(rng.integers(0, i))
            J[i, p] = J[p, i] = rng.normal(0, 0.8)
        return IsingModel(rng.normal(0, 0.3, n), J)
    A = np.triu(rng.normal(0, 0.1 / np.sqrt(n), (n, n)), 1)
    return IsingModel(rng.normal(0, 0.1, n), A + A.T)


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    rows = []
    for kind in config.kinds:
        for n in config.sizes:
            model = planted_model(kind, n, rng)
            iu = np.triu_indices(n, 1)
            t0 = time.perf_counter()
            samples = metropolis_sample(model, max(config.sample_sizes), rng, n_chains=config.n_chains,
                                        burn_in=config.burn_in, thin=config.thin)
            t_mc = time.perf_counter() - t0
            perm = rng.permutation(len(samples))            # prefixes mix all chains and times
            for M in config.sample_sizes:
                fit = fit_pseudolikelihood(samples[perm[:M]])
                err = np.linalg.norm(fit.model.J[iu] - model.J[iu]) / np.linalg.norm(model.J[iu])
                rows.append({"part": "plm", "kind": kind, "N": n, "M": M, "rel_error_J": err,
                             "rmse_J": float(np.sqrt(np.mean((fit.model.J[iu] - model.J[iu]) ** 2))),
                             "rmse_h": float(np.sqrt(np.mean((fit.model.h - model.h) ** 2))),
                             "converged": fit.converged, "iterations": fit.n_iter, "fit_seconds": fit.seconds,
                             "mc_seconds": t_mc})
    plm = pd.DataFrame(rows)
    ratios = []
    for (kind, n), g in plm.groupby(["kind", "N"]):
        e = g.sort_values("M")["rel_error_J"].to_numpy()
        Ms = g.sort_values("M")["M"].to_numpy()
        for a in range(len(e) - 1):
            ratios.append({"kind": kind, "N": n, "ratio": e[a] / e[a + 1], "M_ratio": Ms[a + 1] / Ms[a]})
    ratios = pd.DataFrame(ratios)

    bp_rows = []
    for tree in (True, False):
        for inst in range(config.n_enum_instances):
            model = _loopy_or_tree(config.enum_size, rng, tree)
            ex, bp = exact_moments(model), belief_propagation(model)
            bp_rows.append({"part": "bp", "kind": "tree" if tree else "dense-weak", "N": config.enum_size,
                            "instance": inst, "S_exact": ex["S"], "S_bp": bp.entropy,
                            "abs_dS_per_N": abs(bp.entropy - ex["S"]) / config.enum_size,
                            "max_dm": float(np.max(np.abs(bp.m - ex["m"]))), "bp_sweeps": bp.sweeps})
    bp = pd.DataFrame(bp_rows)

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for (kind, n), g in plm.groupby(["kind", "N"]):
        ax[0].loglog(g["M"], g["rel_error_J"], "o-", label=f"{kind} N={n}")
    Ms = np.array(config.sample_sizes, float)
    ax[0].loglog(Ms, plm["rel_error_J"].max() * np.sqrt(Ms[0] / Ms), "k--", label="∝ M^-1/2")
    ax[0].set_xlabel("samples M"); ax[0].set_ylabel("‖J_fit − J‖/‖J‖"); ax[0].legend(fontsize=7)
    for kind, g in bp.groupby("kind"):
        ax[1].semilogy(g["instance"], g["abs_dS_per_N"] + 1e-17, "o", label=kind)
    ax[1].axhline(1e-3, color="k", ls="--", lw=0.8)
    ax[1].set_xlabel("instance"); ax[1].set_ylabel("|S_BP − S_exact|/N"); ax[1].legend()
    fig.tight_layout()

    claims = []
    for kind in config.kinds:
        r = ratios[ratios.kind == kind]
        expected = float(np.sqrt(r["M_ratio"].median()))
        med = float(r["ratio"].median())
        mono = bool((r["ratio"] > 1).all())
        claims.append(legacy_claim(
            name=f"plm-rate-{kind}", statistic=f"median over N of rel.err(M)/rel.err({r['M_ratio'].median():.0f}M)",
            threshold=f"in [{0.7 * expected:.2f}, {1.45 * expected:.2f}] (√ratio = {expected:.2f}) and error falls at every step",
            measured=med, passed=mono and 0.7 * expected <= med <= 1.45 * expected,
            meaning="pseudo-likelihood couplings converge at the sampling rate M^-1/2", figure="recovery"))
    tree_err = float(bp.loc[bp.kind == "tree", "abs_dS_per_N"].max())
    loopy_err = float(bp.loc[bp.kind == "dense-weak", "abs_dS_per_N"].max())
    claims.append(legacy_claim(name="bp-entropy-tree", statistic="max |S_BP − S_exact|/N on random trees",
                        threshold="<= 1e-6", measured=tree_err, passed=tree_err <= 1e-6,
                        meaning="BP is exact on trees", figure="recovery"))
    claims.append(legacy_claim(name="bp-entropy-loopy", statistic="max |S_BP − S_exact|/N, dense J ~ N(0, 0.1²/N)",
                        threshold="<= 1e-3", measured=loopy_err, passed=loopy_err <= 1e-3,
                        meaning="Bethe entropy is accurate on weakly coupled loopy graphs", figure="recovery"))
    table = pd.concat([plm, bp], ignore_index=True)
    notes = [f"Planted models sampled by Metropolis ({config.n_chains} chains, burn-in {config.burn_in}, thinning "
             f"{config.thin}); PLM with L-BFGS, λ = 1e-5. Enumeration at N = {config.enum_size}."]
    return Outcome(table=table, figures={"recovery": fig}, claims=claims, notes=notes)


EXPERIMENT = Experiment(
    name="inverse-ising-recovery", pillar="weightspace", title="Inverse Ising recovery and Bethe entropy",
    description=("Planted ferromagnetic, spin-glass and sparse Ising models are sampled by long Monte Carlo and "
                 "refitted by pseudo-likelihood: the coupling error must fall like M^-1/2. Belief propagation's "
                 "Bethe entropy is checked against exact enumeration on trees (exact) and weakly coupled dense graphs."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    m, c, big = max(config.sample_sizes), config.n_chains, max(config.sizes)
    per_chain = -(-m // c)
    sweeps = [config.burn_in + per_chain * config.thin for _ in config.sizes]
    # int8 samples, float64 copies and fields in the pseudo-likelihood fit, exact enumeration of 2^enum_size states
    memory = (BASE_MEMORY + per_chain * c * big + 6 * m * big * 8 + 8 * c * big * 8
              + 4 * 2**config.enum_size * config.enum_size * 8)
    mc = sum(s * c * n * n for s, n in zip(sweeps, config.sizes))
    plm = sum(mm * n * n for mm in config.sample_sizes for n in config.sizes)
    enum = config.n_enum_instances * 2 * 2**config.enum_size * config.enum_size**2
    seconds = 5 + len(config.kinds) * (1.7e-08 * mc + 7e-08 * plm) + 4e-09 * enum
    return Resources(memory, seconds, ("sample_sizes", "sizes", "n_chains", "enum_size"),
                     ("sample_sizes", "sizes", "n_chains", "burn_in", "thin", "kinds", "enum_size"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
