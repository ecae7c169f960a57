"""Experiment ``kernel-propagation``: infinite-width kernel recursion vs Monte Carlo ensembles.

For ReLU, tanh and GELU, at criticality and off it, the NNGP kernel K^(ℓ) of three inputs
(effective-theory.md §3.1) is compared with the neuron-averaged preactivation covariance of
ensembles of finite-width random MLPs (replicate = one network, §10.1).

Two claims per setting:

* at the widest width (≥ 256) the Monte Carlo agrees with the infinite-width recursion within 4
  standard errors at every layer and for every entry (the issue's criterion; a single-width
  comparison is, per §10.1, a diagnostic: it carries an O(1/n) bias that more networks expose);
* the width-extrapolated Monte Carlo, a weighted fit Y(n) = Y₀ + Y₁/n over all widths (§10.1 (b)),
  has Y₀ equal to the recursion within z* fit standard errors (Bonferroni, family-wise error 10⁻³).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.effective import critical_point, kernel_recursion
from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, declare
from dltheory.stats import bonferroni_z, fit_inverse_width


@dataclass(frozen=True)
class Setting:
    label: str
    activation: str
    cb: float
    cw: float
    k1: float  # first-layer diagonal kernel the inputs are scaled to


def settings() -> list[Setting]:
    """The six (activation, C_b, C_W) settings: each activation at criticality and off it."""
    gelu = critical_point("gelu")
    return [
        Setting("relu critical", "relu", 0.0, 2.0, 1.0),
        Setting("relu off (0.2, 1.5)", "relu", 0.2, 1.5, 1.0),
        Setting("tanh critical", "tanh", 0.0, 1.0, 1.0),
        Setting("tanh off (0.3, 1.5)", "tanh", 0.3, 1.5, 1.0),
        Setting("gelu critical", "gelu", gelu.cb, gelu.cw, gelu.k_star),
        Setting("gelu off (0, 1.5)", "gelu", 0.0, 1.5, 1.0),
    ]


@dataclass(frozen=True)
class Config(ScaledConfig):
    """Widths, depth and ensemble size (replicates = networks)."""

    widths: tuple[int, ...] = declare((64, 128, 256, 512), TupleOf(Int(2, 8192), length=(2, 16)))
    depth: int = declare(20, Int(2, 1000))
    n_networks: int = declare(2000, Int(20, 200_000))
    input_dim: int = declare(8, Int(1, 4096))
    n_inputs: int = declare(3, Int(1, 64))
    single_width_z: float = declare(4.0, Float(0, 100, closed="right"))
    family_error: float = declare(1e-3, Float(0, 1, closed="neither"))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(64, 128, 256), depth=8, n_networks=400)

    def validate(self) -> None:
        self.check(max(self.widths) >= 256, "max(widths) >= 256", "widths")


def make_inputs(setting: Setting, n_inputs: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Inputs of shape (P, n0), scaled so that K^(1)_aa = C_b + C_W ‖x_a‖²/n0 = ``setting.k1``."""
    x = rng.standard_normal((n_inputs, dim))
    norm2 = (setting.k1 - setting.cb) / setting.cw * dim
    return x * np.sqrt(norm2) / np.linalg.norm(x, axis=1, keepdims=True)


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt
    import torch

    from dltheory.nets import estimate_kernel, sample_random_mlps

    widths = np.array(sorted(config.widths))
    sets = settings()
    iu, ju = np.triu_indices(config.n_inputs)
    m_tests = len(sets) * config.depth * len(iu)
    z_star = bonferroni_z(m_tests, config.family_error)
    rows, claims = [], []
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    fig_z, axes_z = plt.subplots(2, 3, figsize=(14, 7), sharey=True)
    for s, ax, axz in zip(sets, axes.ravel(), axes_z.ravel()):
        x = make_inputs(s, config.n_inputs, config.input_dim, rng)
        theory = kernel_recursion(x, config.depth, s.activation, s.cb, s.cw)  # (L, P, P)
        means, ses = [], []
        for n in widths:
            gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
            st = sample_random_mlps(x, config.depth, int(n), s.activation, s.cb, s.cw, config.n_networks,
                                    generator=gen)
            mean, se = estimate_kernel(st)
            means.append(mean)
            ses.append(se)
        means, ses = np.array(means), np.array(ses)  # (W, L, P, P)
        y0, se0, _, chi2, _, _ = fit_inverse_width(widths, means, ses)
        z_wide = (means[-1] - theory) / ses[-1]
        z_extra = (y0 - theory) / se0
        worst_wide = float(np.max(np.abs(z_wide[:, iu, ju])))
        worst_extra = float(np.max(np.abs(z_extra[:, iu, ju])))
        key = s.label.split(" (")[0].replace(" ", "-")
        claims.append(legacy_claim(f"{key}-width-{widths[-1]}", f"max |K_MC − K_th|/SE at n = {widths[-1]}, all ℓ and entries",
                            f"<= {config.single_width_z:g}", worst_wide, worst_wide <= config.single_width_z,
                            f"{s.label}: a width-{widths[-1]} ensemble is within MC error of the infinite-width kernel",
                            "kernel_vs_depth"))
        claims.append(legacy_claim(f"{key}-extrapolated", "max |Y₀ − K_th|/SE(Y₀), Y(n) = Y₀ + Y₁/n fit over widths",
                            f"<= z* = {z_star:.2f}", worst_extra, worst_extra <= z_star,
                            f"{s.label}: the n → ∞ extrapolated Monte Carlo equals the recursion", "z_scores"))
        for li in range(config.depth):
            for a, b in zip(iu, ju):
                rows.append({"setting": s.label, "activation": s.activation, "cb": s.cb, "cw": s.cw, "layer": li + 1,
                             "a": int(a), "b": int(b), "theory": theory[li, a, b], "extrapolated": y0[li, a, b],
                             "extrapolated_se": se0[li, a, b], "fit_chi2": chi2[li, a, b],
                             **{f"mc_n{n}": means[w, li, a, b] for w, n in enumerate(widths)},
                             **{f"se_n{n}": ses[w, li, a, b] for w, n in enumerate(widths)}})
        ells = np.arange(1, config.depth + 1)
        for (a, b), color in zip([(0, 0), (0, 1), (1, 2)], ["C0", "C1", "C2"]):
            if max(a, b) >= config.n_inputs:
                continue
            ax.plot(ells, theory[:, a, b], color=color, lw=1.5, label=f"theory K_{a}{b}")
            ax.errorbar(ells, means[-1, :, a, b], yerr=2 * ses[-1, :, a, b], fmt="o", ms=3, color=color,
                        label=f"MC n={widths[-1]} (±2 SE)")
        ax.set_title(s.label, fontsize=10)
        ax.set_xlabel("layer ℓ")
        ax.set_ylabel("kernel")
        for w, n in enumerate(widths):
            zz = ((means[w] - theory) / ses[w])[:, iu, ju]
            axz.plot(np.repeat(ells, len(iu)), zz.ravel(), ".", ms=3, alpha=0.6, label=f"n={n}")
        axz.plot(np.repeat(ells, len(iu)), z_extra[:, iu, ju].ravel(), "k+", ms=5, label="n→∞ fit")
        for sign in (-1, 1):
            axz.axhline(sign * config.single_width_z, color="r", ls=":", lw=1)
        axz.set_title(s.label, fontsize=10)
        axz.set_xlabel("layer ℓ")
    axes[0, 0].legend(fontsize=7)
    axes_z[0, 0].legend(fontsize=7)
    axes_z[0, 0].set_ylabel("(MC − theory)/SE")
    axes_z[1, 0].set_ylabel("(MC − theory)/SE")
    fig.suptitle("Infinite-width kernel recursion (lines) vs finite-width Monte Carlo (points)")
    fig_z.suptitle("Standardised residuals per width; red: ±4; black: width-extrapolated")
    fig.tight_layout()
    fig_z.tight_layout()
    return Outcome(
        table=pd.DataFrame(rows), figures={"kernel_vs_depth": fig, "z_scores": fig_z}, claims=claims,
        notes=[f"{config.n_networks} networks per width; widths {list(map(int, widths))}; "
               f"Bonferroni z* = {z_star:.2f} over {m_tests} comparisons.",
               "Single-width agreement is a diagnostic (§10.1): for tanh and GELU the finite-width metric differs "
               "from K by G^{1}/n, which a large enough ensemble resolves; the extrapolated claim removes that bias. "
               "For scale-invariant activations with C_b = 0 the mean kernel is exact at any width (§5.4)."])


EXPERIMENT = Experiment(
    name="kernel-propagation",
    pillar="effective",
    title="Kernel propagation: infinite-width recursion vs Monte Carlo",
    description="The NNGP kernel recursion K' = C_b + C_W⟨σσ⟩_K (effective-theory.md §3.1) against ensembles of "
                "finite-width random MLPs, for ReLU, tanh and GELU at criticality and off it; diagonal and "
                "off-diagonal entries of three inputs, every layer.",
    config_cls=Config,
    run=run,
)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, MIB, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    p, nets, depth = config.n_inputs, config.n_networks, config.depth
    big = max(config.widths)
    stats = nets * depth * (p * p + 2 * p) * 8  # per-network moments of one width
    rows = 6 * depth * p * (p + 1) // 2 * (12 + 2 * len(config.widths)) * 8 * 4  # the table (pandas overhead)
    memory = BASE_MEMORY + 1.5 * max(256 * MIB, 8 * big * max(big, config.input_dim)) + 3 * stats + rows
    work = 6 * nets * depth * sum(n * (n + p) for n in config.widths) + 6 * nets * sum(config.widths) * config.input_dim
    seconds = 5 + 5e-08 * work
    return Resources(memory, seconds, ("n_networks", "depth", "n_inputs", "widths"),
                     ("n_networks", "widths", "depth", "n_inputs", "input_dim"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
