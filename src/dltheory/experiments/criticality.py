"""Experiment ``criticality``: critical constants and universality classes of every built-in activation.

Solves χ_∥(K*) = χ_⊥(K*) = 1 (effective-theory.md §4.1) for each activation, classifies it (§4.2–4.3),
draws the χ_∥ = 1 and χ_⊥ = 1 curves in the (C_b, C_W) plane, and checks the K*=0 class's 1/ℓ
kernel law (§4.3) by iterating the recursion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.activations import get_activation
from dltheory.effective import (
    critical_point,
    kernel_recursion_single,
    single_moments,
    universality_class,
)
from dltheory.lab.base import Experiment, Outcome, ScaledConfig, legacy_claim
from dltheory.lab.constraints import Float, Int, TupleOf, activation_name, declare

# Printed constants the claims are checked against (effective-theory.md §4.2 table; [BOOK✓]/[NUM]).
REFERENCE = {
    "relu": (0.0, 2.0),
    "tanh": (0.0, 1.0),
    "gelu": (0.172922391, 1.983058257),
    "swish": (0.555143171, 1.988004678),
}
#: The activations of the §4.2 table (the registry has more, e.g. step and sign, which have no
#: critical point because σ' = 0 almost everywhere).
SECTION_4_2_ACTIVATIONS = ("linear", "relu", "leaky_relu", "erf", "sin", "tanh", "gelu", "swish", "softplus",
                           "sigmoid", "silu")


@dataclass(frozen=True)
class Config(ScaledConfig):
    """Which activations to tabulate and how deep to iterate the 1/ℓ law."""

    activations: tuple[str, ...] = declare(SECTION_4_2_ACTIVATIONS, TupleOf(activation_name(), length=(1, 64)))
    tolerance: float = declare(1e-6, Float(0, 1, closed="right"))
    law_depth: int = declare(2000, Int(10, 100_000))
    plane_activations: tuple[str, ...] = declare(("tanh", "gelu", "swish"), TupleOf(activation_name(), length=(0, 16)))

    @classmethod
    def quick(cls) -> Config:
        return cls(law_depth=1000)


def _curves(activation: str, k: np.ndarray) -> dict[str, np.ndarray]:
    """Parametric χ_⊥ = 1 and χ_∥ = 1 curves (C_b(K), C_W(K)) with K* = K on each (§4.1)."""
    m = single_moments(activation, k)
    cw_perp = 1.0 / m["dsigma2"]
    cw_par = 1.0 / m["g_prime"]
    return {"cb_perp": k - cw_perp * m["sigma2"], "cw_perp": cw_perp,
            "cb_par": k - cw_par * m["sigma2"], "cw_par": cw_par}


def run(config: Config, rng: np.random.Generator) -> Outcome:
    import matplotlib.pyplot as plt

    rows = []
    for name in config.activations:
        cls = universality_class(name)
        cp = critical_point(name)
        rows.append({"activation": name, "class": cls.name, "cb": cp.cb, "cw": cp.cw, "k_star": cp.k_star,
                     "chi_parallel": cp.chi_parallel, "chi_perp": cp.chi_perp, "a1": cls.a1, "b1": cls.b1,
                     "f_second": cp.f_second, "expected_class": get_activation(name).universality})
    table = pd.DataFrame(rows)

    claims = []
    for name, (cb_ref, cw_ref) in REFERENCE.items():
        if name not in set(table.activation):
            continue
        r = table.set_index("activation").loc[name]
        err = max(abs(r.cb - cb_ref), abs(r.cw - cw_ref))
        claims.append(legacy_claim(f"{name}-critical-constants", f"max |(C_b, C_W) − ({cb_ref}, {cw_ref})|",
                            f"<= {config.tolerance:g}", err, err <= config.tolerance,
                            f"the solver reproduces the published critical point of {name}", "criticality_plane"
                            if name in config.plane_activations else None))
    known = table.dropna(subset=["expected_class"])
    wrong = int((known["class"] != known["expected_class"]).sum())
    claims.append(legacy_claim("universality-classes", "number of built-ins classified differently from §4.2",
                        "== 0", wrong, wrong == 0, "each activation falls in the class the theory assigns it"))

    # 1/ℓ law of the K*=0 class: K^(ℓ)·ℓ·(−a₁) → 1 (§4.3), from K^(1) = 1.
    law_rows, fig_law, ax = [], *plt.subplots(figsize=(6, 4))
    ells = np.arange(1, config.law_depth + 1)
    worst = 0.0
    for name in ("tanh", "erf", "sin"):
        cls = universality_class(name)
        cp = critical_point(name)
        k = kernel_recursion_single(1.0, config.law_depth, name, cb=cp.cb, cw=cp.cw)
        scaled = k * ells * (-cls.a1)
        worst = max(worst, abs(scaled[-1] - 1.0))
        ax.semilogx(ells, scaled, label=f"{name} (a₁ = {cls.a1:.3g})")
        law_rows += [{"activation": name, "layer": int(e), "kernel": float(k[e - 1]), "scaled": float(scaled[e - 1])}
                     for e in (10, 100, config.law_depth)]
    ax.axhline(1.0, color="k", ls="--", lw=1, label="asymptote 1/((−a₁)ℓ)")
    ax.set_xlabel("layer ℓ")
    ax.set_ylabel("K^(ℓ) · ℓ · (−a₁)")
    ax.set_title("K*=0 class at criticality: K^(ℓ) ≈ 1/((−a₁)ℓ)")
    ax.legend()
    claims.append(legacy_claim("kstar0-one-over-l-law", f"max |K^(L)·L·(−a₁) − 1| at L = {config.law_depth} (tanh, erf, sin)",
                        "<= 0.01", worst, worst <= 0.01,
                        "the kernel of the K*=0 class decays as 1/((−a₁)ℓ), with log ℓ/ℓ corrections", "one_over_l_law"))
    table = pd.concat([table.assign(kind="critical-point"), pd.DataFrame(law_rows).assign(kind="one-over-l")],
                      ignore_index=True)

    # (C_b, C_W) plane: χ_∥ = 1 and χ_⊥ = 1 curves; they meet at the critical point.
    fig_plane, axes = plt.subplots(1, len(config.plane_activations), figsize=(4.5 * len(config.plane_activations), 4),
                                   squeeze=False)
    for ax, name in zip(axes[0], config.plane_activations):
        cp = critical_point(name)
        top = 4 * cp.k_star if np.isfinite(cp.k_star) and cp.k_star > 0 else 4.0
        k = np.linspace(1e-3, top, 400)
        c = _curves(name, k)
        ax.plot(c["cb_perp"], c["cw_perp"], label="χ_⊥ = 1")
        ax.plot(c["cb_par"], c["cw_par"], "--", label="χ_∥ = 1")
        ax.plot([cp.cb], [cp.cw], "ko", label=f"critical ({cp.cb:.4f}, {cp.cw:.4f})")
        ax.set_xlim(-0.5, max(1.5, 3 * cp.cb))
        ax.set_ylim(0.5, 3.0)
        ax.set_xlabel("C_b")
        ax.set_ylabel("C_W")
        ax.set_title(f"{name}: {cp.universality_class}")
        ax.legend(fontsize=8)
    fig_plane.tight_layout()
    return Outcome(table=table, figures={"criticality_plane": fig_plane, "one_over_l_law": fig_law}, claims=claims,
                   notes=["Curves are parametrised by the fixed point K*: on χ_⊥ = 1, C_W = 1/⟨σ'²⟩_K*, "
                          "C_b = K* − C_W⟨σ²⟩_K* (§4.1 solver); on χ_∥ = 1, C_W = 1/g'(K*).",
                          "Half-stability of GELU/SWISH is [DER] in the spec: f''(K*) is in the table."])


EXPERIMENT = Experiment(
    name="criticality",
    pillar="effective",
    title="Criticality and universality classes",
    description="Critical initialisation (C_b, C_W) and fixed point K* for every built-in activation, solved "
                "from χ_∥ = χ_⊥ = 1 (effective-theory.md §4), the universality class of each, the χ = 1 curves in "
                "the (C_b, C_W) plane, and the 1/ℓ kernel law of the K*=0 class.",
    config_cls=Config,
    run=run,
)


# -- resource estimate (issue 13): checked against the machine before the task runs ----------------------
from dltheory.lab.resources import BASE_MEMORY, Resources, with_estimate  # noqa: E402


def estimate(config: Config) -> Resources:
    """Peak memory and 2-core wall time (issue 13); calibrated on the quick scale (see lab.resources)."""
    seconds = 5 + 0.15 * len(config.activations) + 0.3 * len(config.plane_activations) + 0.0001 * config.law_depth
    return Resources(BASE_MEMORY + 64 * config.law_depth * 8, seconds, ("law_depth",),
                     ("activations", "plane_activations", "law_depth"))


EXPERIMENT = with_estimate(EXPERIMENT, estimate)
