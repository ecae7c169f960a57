"""``residual-criticality``: the slope ν(γ) of V/(nK²) for critical residual MLPs (effective-theory.md §8).

Residual networks z' = γz + b + Wσ(z) at the γ-dependent critical point (C_b, C_W) × (1 − γ²) are sampled
(:func:`dltheory.nets.residual_mlp.sample_residual_mlps`); the normalized vertex V/(nK²) is fitted against
(ℓ−1)/n ≤ 0.15 exactly as in ``four-point-vertex`` (Y = s x + c x² + d x/n, bootstrap SE over networks) and
compared with ν(γ) (:func:`dltheory.effective.residual.residual_vertex_slope`) and with the same fit of the
residual recursion at finite depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.effective.four_point import normalized_vertex
from dltheory.effective.residual import residual_critical_point, residual_four_point, residual_vertex_slope
from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, activation_name, declare
from dltheory.stats import WidthSeries, bonferroni_z, jackknife, pooled_slope_fit, within_z

_N0 = 4
_FIT_MAX = 0.15


@dataclass(frozen=True)
class Config(ScaledConfig):
    activations: tuple[str, ...] = declare(("relu", "tanh"), TupleOf(activation_name(), length=(1, 16)))
    gammas: tuple[float, ...] = declare((0.0, 0.5, 0.9), TupleOf(Float(0, 1, closed="left"), length=(1, 16)))
    widths: tuple[int, ...] = declare((16, 32, 64, 128), TupleOf(Int(8, 4096), length=(2, 16)))
    n_networks: int = declare(16000, Int(100, 1_000_000))
    n_bootstrap: int = declare(200, Int(20, 20_000))

    @classmethod
    def quick(cls) -> Config:
        return cls(widths=(16, 32, 64), n_networks=3000, n_bootstrap=100)

    @classmethod
    def full(cls) -> Config:
        return cls()


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    from dltheory.nets.residual_mlp import sample_residual_mlps

    n_tests = 2 * len(config.activations) * len(config.gammas)
    z_star = bonferroni_z(n_tests)
    rows, claims = [], []
    fig, axes = plt.subplots(1, len(config.activations), figsize=(4.5 * len(config.activations), 3.6), squeeze=False)
    for ax, act in zip(axes[0], config.activations):
        for gamma in config.gammas:
            cp = residual_critical_point(act, gamma)
            nu = residual_vertex_slope(act, gamma)
            first_cw = cp.cw / (1 - gamma**2)  # first layer: plain critical map, K^(1) = C_W^(0) |x|²/n0
            k1 = first_cw
            data = []
            for n in config.widths:
                depth = max(3, int(_FIT_MAX * n) + 1)
                n_net = max(200, int(config.n_networks * 16 / n))
                seed = int(rng.integers(2**62))
                st = sample_residual_mlps(np.ones((1, _N0)), depth, n, gamma, act, cp.cb, cp.cw, n_net,
                                          first_cw=first_cw, generator=seed)
                pair, m2 = st.pair_fourth[:, :, 0], st.second_moment[:, :, 0, 0]
                y, se = jackknife(normalized_vertex, pair, m2)
                th = residual_four_point(k1, depth, act, gamma, cp.cb, cp.cw)
                y_th = th.vertex / (n * th.kernel**2)
                ell = np.arange(1, depth + 1)
                data.append(WidthSeries(n, ell, (pair, m2), y, se, y_th))
                for i in range(depth):
                    rows.append({"activation": act, "gamma": gamma, "width": n, "layer": int(ell[i]), "seed": seed,
                                 "n_networks": n_net, "vertex_norm_mc": y[i], "vertex_norm_se": se[i],
                                 "vertex_norm_recursion": y_th[i], "nu_gamma": nu})

            slope, slope_rec, sse = pooled_slope_fit(data, normalized_vertex, np.inf, config.n_bootstrap, rng)
            ax.errorbar([gamma], [slope], yerr=[z_star * sse], fmt="o", capsize=3, color="C0")
            ax.plot([gamma], [nu], "k_", ms=14)
            ax.plot([gamma], [slope_rec], "rx")
            tag = f"{act}-gamma{gamma:g}"
            claims.append(legacy_claim(
                name=f"{tag}-slope-nu",
                statistic=f"fitted slope of V/(nK²) vs (ℓ−1)/n ≤ {_FIT_MAX} (bootstrap SE {sse:.3f})",
                threshold=f"|s − ν(γ)| ≤ {z_star:.2f} SE, ν(γ) = {nu:.4f}", measured=slope,
                passed=within_z(slope, nu, sse, z_star), figure="nu_vs_gamma",
                meaning=f"residual {act} MLP with γ = {gamma:g}: Monte Carlo slope equals ν(γ)"
                        + (" (K*=0: ν(γ) is the ℓ → ∞ slope)" if act == "tanh" else "")))
            claims.append(legacy_claim(
                name=f"{tag}-slope-recursion",
                statistic=f"fitted slope vs the same fit of the residual recursion ({slope_rec:.4f})",
                threshold=f"|s − s_rec| ≤ {z_star:.2f} SE", measured=abs(slope - slope_rec) / sse,
                passed=within_z(slope, slope_rec, sse, z_star), figure="nu_vs_gamma",
                meaning=f"the residual V recursion predicts the finite-depth growth for {act}, γ = {gamma:g}"))
        gs = np.linspace(0, 0.99, 100)
        ax.plot(gs, [residual_vertex_slope(act, g) for g in gs], "k-", lw=0.8)
        ax.set_title(f"{act}: slope ν(γ) (line), MC ± z*SE (dots), recursion fit (x)")
        ax.set_xlabel("γ")
        ax.set_ylabel("slope of V/(nK²)")
    fig.tight_layout()
    return Outcome(table=pd.DataFrame(rows), figures={"nu_vs_gamma": fig}, claims=claims,
                   notes=[f"Bonferroni z* = {z_star:.2f} over {n_tests} tests (family-wise 1e-3, §10.1)."])


EXPERIMENT = Experiment(
    name="residual-criticality", pillar="effective",
    title="Residual MLPs: ν(γ) = (1 − γ²)[(1 − γ²)(3A₄/A₂² − 1) + 4γ²]",
    description=("Critical residual MLPs z' = γz + b + Wσ(z) with several residual strengths γ: the Monte Carlo "
                 "growth rate of the normalized four-point vertex is compared with ν(γ) computed by the library "
                 "(ReLU: (1−γ²)[5(1−γ²) + 4γ²]; K*=0 class: (2/3)(1−γ⁴)) and with the residual recursion. "
                 "Residual connections shrink ν, so deeper networks stay near the Gaussian limit (r* ∝ 1/ν)."),
    config_cls=Config, run=run)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, MIB, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    runs = [(max(3, int(_FIT_MAX * n) + 1), max(200, int(config.n_networks * 16 / n)), n) for n in config.widths]
    kept = sum(d * nets for d, nets, _ in runs)  # per-network moments of every width, kept for the pooled fit
    memory = BASE_MEMORY + 1.5 * max(256 * MIB, 8 * max(config.widths) ** 2) + 5 * kept * 3 * 8
    work = sum(d * nets * n * n for d, nets, n in runs)
    seconds = 5 + len(config.activations) * len(config.gammas) * (5e-08 * work + 1.5e-08 * config.n_bootstrap * kept)
    return Resources(memory, seconds, ("n_networks", "widths"),
                     ("n_networks", "widths", "gammas", "activations", "n_bootstrap"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
