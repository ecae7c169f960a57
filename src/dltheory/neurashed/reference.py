"""The reference configurations of neurashed.md §10 (IR, IB, LE), as tasks and rules.

All three: K = 4, two superclasses, L = 3, m = (8, 6, 6), p_f ~ U(0.3, 0.9), π_max = 0.5,
100 + 100 examples per class, R-grad with η = 0.05, |B| = 1, 6×10⁴ steps *(project choice)*.

| config | r | κ | ρ | λ | checkpoints |
|---|---|---|---|---|---|
| IR | 2 | 0.05 | 0.2 | 1e-3 | every 500 |
| IB | 2 | 1 | 0 | 3e-3 | every 1000 |
| LE | 2 | 0.05 | 0.2 | 1e-3 | 0, 5×10³, 3×10⁴ |

One seed fixes the graph, the examples, the labels, θ(0) and the minibatch sequence (three
independent child generators). Changing
only r keeps the shared features, examples and labels identical (the idiosyncratic features are
appended last), so runs with the same seed are paired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.examples import make_task
from dltheory.neurashed.forward import init_theta
from dltheory.neurashed.graph import semantic_tree
from dltheory.neurashed.rules import GradRule
from dltheory.neurashed.training import NeurashedLog, train

__all__ = ["ReferenceConfig", "REFERENCE", "run_reference"]


@dataclass(frozen=True)
class ReferenceConfig:
    """One neurashed run configuration (§10)."""

    r: int = 2
    kappa: float = 0.05
    rho: float = 0.2
    lam: float = 1e-3
    eta: float = 0.05
    steps: int = 60_000
    checkpoint_every: int = 500
    checkpoints: tuple[int, ...] | None = None
    p_range: tuple[float, float] = (0.3, 0.9)
    pi_max: float = 0.5
    features_per_group: tuple[int, ...] = (8, 6, 6)
    n_per_class: int = 100

    def with_(self, **changes) -> ReferenceConfig:
        return replace(self, **changes)


REFERENCE = {
    "IR": ReferenceConfig(r=2, kappa=0.05, rho=0.2, lam=1e-3, checkpoint_every=500),
    "IB": ReferenceConfig(r=2, kappa=1.0, rho=0.0, lam=3e-3, checkpoint_every=1000),
    "LE": ReferenceConfig(r=2, kappa=0.05, rho=0.2, lam=1e-3, steps=30_000, checkpoints=(0, 5_000, 30_000)),
    # the case without compression reported beside IB (§10.2): pure tree, noisy labels, λ = 2e-3
    "pure-noisy": ReferenceConfig(r=2, kappa=1.0, rho=0.2, lam=2e-3, checkpoint_every=1000,
                                  p_range=(0.5, 0.5), pi_max=0.0),
}


def run_reference(config: ReferenceConfig, seed: int, *, keep_thetas: bool = True):
    """Build the task for ``config`` from ``seed`` and train it with R-grad.

    Returns
    -------
    task : Task
    log : NeurashedLog
    """
    require(isinstance(seed, (int, np.integer)) and seed >= 0, f"seed must be a non-negative int; got {seed}")
    graph_rng, init_rng, batch_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))
    rng = graph_rng
    graph = semantic_tree(features_per_group=config.features_per_group, p_range=config.p_range,
                          pi_max=config.pi_max, rng=rng)
    task = make_task(graph, n_train_per_class=config.n_per_class, n_test_per_class=config.n_per_class,
                     r=config.r, kappa=config.kappa, label_noise=config.rho, rng=rng)
    log: NeurashedLog = train(task, GradRule(eta=config.eta, lam=config.lam), steps=config.steps,
                              checkpoint_every=config.checkpoint_every, checkpoints=config.checkpoints,
                              rng=batch_rng, theta0=init_theta(task.graph, rng=init_rng), keep_thetas=keep_thetas)
    return task, log
