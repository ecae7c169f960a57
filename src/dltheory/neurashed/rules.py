"""The three update rules and the guards of the activity rules (neurashed.md §7).

- :class:`GradRule` (R-grad, default): θ ← θ − η ḡ + log(1 − ηλ), exponentiated gradient on the
  amounts plus decoupled weight decay (§7.1).
- :class:`ActivityRule` (R-act) *(reconstruction; not checked against the paper's text)*: active
  features grow by g⁺, the others (or all) shrink by g⁻; no label enters (§7.2).
- :class:`GatedRule` (R-gated): growth a_f (1 − p_y) log g⁺, decay log g⁻ on all features (§7.3).

Guards G1–G5 of §7.2 for the activity rules: log-space state (G1), normalized readout (G2),
per-level re-centering (G3; one global shift for the flat readout), clipping θ − mean to [−30, 30]
(G4), and stop-and-flag when N_eff,ℓ < 2 or a value is non-finite (G5, see :func:`guard_status`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.forward import READOUTS, check_theta, forward, loss_and_grad
from dltheory.neurashed.graph import FeatureGraph

__all__ = ["GradRule", "ActivityRule", "GatedRule", "activity_threshold", "guard_status", "apply_guards",
           "effective_number"]

CLIP = 30.0


def effective_number(theta_level: np.ndarray) -> float:
    """N_eff = exp(H(share)) of one level, shares n_f / Σ n = softmax(θ_ℓ) (§8)."""
    t = theta_level - theta_level.max()
    w = np.exp(t)
    s = w / w.sum()
    nz = s > 0
    return float(np.exp(-(s[nz] * np.log(s[nz])).sum()))


def activity_threshold(g_plus: float, g_minus: float) -> float:
    """q* = log(1/g⁻) / log(g⁺/g⁻): features active more often than q* grow under R-act (§7.2)."""
    _check_g(g_plus, g_minus)
    return math.log(1.0 / g_minus) / math.log(g_plus / g_minus)


def _check_g(g_plus: float, g_minus: float) -> None:
    require(g_plus > 1.0, f"g_plus must be > 1 for the activity rule; got {g_plus}")
    require(0.0 < g_minus < 1.0, f"g_minus must be in (0, 1) for the activity rule; got {g_minus}")


def apply_guards(graph: FeatureGraph, theta: np.ndarray, readout: str) -> np.ndarray:
    """G3 (re-center per level, or globally for ``flat``) and G4 (clip to ±30 around the mean)."""
    theta = theta.copy()
    if readout == "path":
        for l in range(graph.n_levels):
            s = graph.level_slice(l)
            theta[s] -= theta[s].mean()
            np.clip(theta[s], -CLIP, CLIP, out=theta[s])
    else:
        theta -= theta.mean()
        np.clip(theta, -CLIP, CLIP, out=theta)
    return theta


def guard_status(graph: FeatureGraph, theta: np.ndarray, min_neff: float = 2.0) -> str | None:
    """G5: a message if some level has N_eff < ``min_neff`` or θ is non-finite, else ``None``."""
    if not np.all(np.isfinite(theta)):
        return "non-finite parameter"
    for l in range(graph.n_levels):
        ne = effective_number(theta[graph.level_slice(l)])
        if graph.level_sizes[l] >= min_neff and ne < min_neff:
            return f"N_eff at level {l + 1} fell to {ne:.3f} < {min_neff:g} (winner-take-all)"
    return None


@dataclass(frozen=True)
class GradRule:
    """R-grad (§7.1): θ ← θ − η ḡ + log(1 − ηλ); default η = 0.05."""

    eta: float = 0.05
    lam: float = 1e-3
    readout: str = "path"
    normalized: bool = False
    name: str = "grad"

    def __post_init__(self) -> None:
        require(self.eta > 0, f"eta must be > 0; got {self.eta}")
        require(self.lam >= 0 and self.eta * self.lam < 1, f"lam must satisfy 0 <= eta*lam < 1; got lam={self.lam}")
        require(self.readout in READOUTS, f"readout must be one of {READOUTS}; got {self.readout!r}")

    @property
    def guarded(self) -> bool:
        return False

    def step(self, graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
        _, g, _ = loss_and_grad(graph, theta, a, labels, readout=self.readout, normalized=self.normalized)
        new = theta - self.eta * g + math.log1p(-self.eta * self.lam)
        check_theta(new)
        return new


@dataclass(frozen=True)
class ActivityRule:
    """R-act (§7.2): θ_f += a_f log g⁺ + (1 − a_f) log g⁻ (``decay="inactive"``) or + log g⁻ (``"all"``).

    ``guards=True`` applies G2–G4 every step (and the training loop applies G5); ``guards=False``
    is the raw rule, which raises :class:`OverflowGuardError` once θ > 600.
    """

    g_plus: float = 1.02
    g_minus: float = 0.999
    decay: str = "inactive"
    guards: bool = True
    readout: str = "path"
    name: str = "act"

    def __post_init__(self) -> None:
        _check_g(self.g_plus, self.g_minus)
        require(self.decay in ("inactive", "all"), f"decay must be 'inactive' or 'all'; got {self.decay!r}")
        require(self.readout in READOUTS, f"readout must be one of {READOUTS}; got {self.readout!r}")

    @property
    def guarded(self) -> bool:
        return self.guards

    @property
    def normalized(self) -> bool:
        return self.guards  # G2

    @property
    def q_star(self) -> float:
        return activity_threshold(self.g_plus, self.g_minus)

    def step(self, graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
        act = np.concatenate([m.mean(axis=0) for m in a])
        lp, lm = math.log(self.g_plus), math.log(self.g_minus)
        d = act * lp + ((1.0 - act) * lm if self.decay == "inactive" else lm)
        new = theta + d
        if self.guards:
            new = apply_guards(graph, new, self.readout)
        check_theta(new)
        return new


@dataclass(frozen=True)
class GatedRule:
    """R-gated (§7.3): θ_f += a_f (1 − p_y(x)) log g⁺ + log g⁻, with guards G1–G5 by default."""

    g_plus: float = 1.02
    g_minus: float = 0.999
    guards: bool = True
    readout: str = "path"
    name: str = "gated"

    def __post_init__(self) -> None:
        _check_g(self.g_plus, self.g_minus)
        require(self.readout in READOUTS, f"readout must be one of {READOUTS}; got {self.readout!r}")

    @property
    def guarded(self) -> bool:
        return self.guards

    @property
    def normalized(self) -> bool:
        return self.guards

    def step(self, graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
        fwd = forward(graph, theta, a, readout=self.readout, normalized=self.normalized)
        err = 1.0 - fwd.probs[np.arange(len(labels)), labels]  # (B,)
        act = np.concatenate([(m * err[:, None]).mean(axis=0) for m in a])
        new = theta + act * math.log(self.g_plus) + math.log(self.g_minus)
        if self.guards:
            new = apply_guards(graph, new, self.readout)
        check_theta(new)
        return new
