"""Training loop: minibatches, seeds, checkpoints and the run record (neurashed.md §7–8).

``train`` draws one minibatch per step uniformly with replacement (explicit generator), applies
the rule, and logs :func:`~dltheory.neurashed.diagnostics.snapshot` at the checkpoints into a
:class:`NeurashedLog`. Guarded activity rules stop early and flag (G5) instead of running on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.diagnostics import first_fit_step, snapshot
from dltheory.neurashed.examples import Task
from dltheory.neurashed.fast import build_cache, grad_steps
from dltheory.neurashed.forward import init_theta
from dltheory.neurashed.rules import GradRule, guard_status

__all__ = ["NeurashedLog", "train", "train_unthreaded", "checkpoint_steps"]


@dataclass
class NeurashedLog:
    """The run record: diagnostics at checkpoints (§8).

    Attributes
    ----------
    steps : (C,) int array of checkpoint steps
    scalars : dict of str to (C,) arrays (acc_train, acc_train_true, acc_train_clean, mem, acc_test, max_theta)
    per_level : dict of str to (C, L) arrays (n_eff, level_logsum, i_xt, i_ty)
    fitted : (C, n_train) bool;  idio_share : (C, n_train)
    thetas : (C, F) array of θ at the checkpoints (for pictures and elasticity), or None
    theta : (F,) final θ
    stopped : str or None — why a guarded rule stopped early (G5)
    """

    steps: np.ndarray
    scalars: dict[str, np.ndarray]
    per_level: dict[str, np.ndarray]
    fitted: np.ndarray
    idio_share: np.ndarray
    thetas: np.ndarray | None
    theta: np.ndarray
    stopped: str | None = None
    guard_events: list[str] = field(default_factory=list)

    def first_fit_step(self) -> np.ndarray:
        """(n_train,) first checkpoint step at which each training example fits its observed label."""
        return first_fit_step(self.fitted, self.steps)

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self.scalars:
            return self.scalars[key]
        if key in self.per_level:
            return self.per_level[key]
        return getattr(self, key)


def checkpoint_steps(steps: int, every: int) -> np.ndarray:
    """0, every, 2·every, …, steps (the last step always included)."""
    require(isinstance(steps, (int, np.integer)) and steps >= 0, f"steps must be an int >= 0; got {steps}")
    require(isinstance(every, (int, np.integer)) and every >= 1, f"checkpoint_every must be an int >= 1; got {every}")
    out = np.arange(0, steps + 1, every)
    return out if out[-1] == steps else np.append(out, steps)


def train(task: Task, rule=None, **kwargs) -> NeurashedLog:
    """Train a neurashed state on ``task``; see :func:`train_unthreaded` for the parameters.

    BLAS is limited to one thread while training (:func:`dltheory.nets.threads.limit_threads`): the
    per-step products are tiny, and on a shared machine multi-threaded BLAS made checkpoint
    diagnostics ~50× slower.
    """
    from dltheory.nets.threads import limit_threads

    with limit_threads(torch_threads=None, blas_threads=1):
        return train_unthreaded(task, rule, **kwargs)


def train_unthreaded(task: Task, rule=None, *, steps: int = 60_000, batch_size: int = 1,
                     checkpoint_every: int = 500, checkpoints=None, rng: np.random.Generator,
                     theta0: np.ndarray | None = None, keep_thetas: bool = True, guard_every: int = 50,
                     fast: bool = True, min_neff: float = 2.0) -> NeurashedLog:
    """Train a neurashed state on ``task`` with ``rule`` (default :class:`GradRule`).

    Parameters
    ----------
    task : Task
    rule : GradRule, ActivityRule or GatedRule
    steps : int
    batch_size : int
        |B|, drawn uniformly with replacement.
    checkpoint_every : int
        Ignored when ``checkpoints`` (explicit increasing steps) is given.
    rng : numpy.random.Generator
        Used for θ(0) (unless ``theta0``) and for the minibatches.
    keep_thetas : bool
        Store θ at every checkpoint.
    guard_every : int
        For guarded rules, check G5 every this many steps.
    min_neff : float
        G5 threshold: a guarded rule stops and flags when N_eff,ℓ < ``min_neff`` at some level
        (0 keeps only the non-finite check).
    fast : bool
        Use :mod:`~dltheory.neurashed.fast` for R-grad with |B| = 1 on the path model (same update).
    """
    rule = GradRule() if rule is None else rule
    require(isinstance(batch_size, (int, np.integer)) and batch_size >= 1, f"batch_size must be an int >= 1; got {batch_size}")
    ckpts = checkpoint_steps(steps, checkpoint_every) if checkpoints is None else np.unique(np.asarray(checkpoints, dtype=np.int64))
    require(len(ckpts) >= 1 and ckpts[0] >= 0, "checkpoints must be non-negative steps")
    graph, tr = task.graph, task.train
    theta = init_theta(graph, rng=rng) if theta0 is None else np.array(theta0, dtype=np.float64)
    require(theta.shape == (graph.n_features,), f"theta0 must have shape ({graph.n_features},)")
    readout, normalized = rule.readout, getattr(rule, "normalized", False)
    labels, n = tr.observed_label, len(tr)
    use_fast = (fast and isinstance(rule, GradRule) and readout == "path" and not normalized and batch_size == 1)
    cache = build_cache(graph, tr) if use_fast else None
    snaps, thetas, done = [], [], []
    stopped, events = None, []

    def record(t):
        snaps.append(snapshot(graph, theta, tr, task.test, readout=readout, normalized=normalized))
        thetas.append(theta.copy())
        done.append(t)

    t = 0
    for c in ckpts:
        if c > t:
            order = rng.integers(0, n, size=(int(c - t), batch_size))
            if cache is not None:
                theta = grad_steps(cache, theta, labels, order[:, 0], eta=rule.eta, lam=rule.lam)
            else:
                for s, idx in enumerate(order):
                    if rule.guarded and (t + s) % guard_every == 0:
                        msg = guard_status(graph, theta, min_neff)
                        if msg is not None:
                            stopped = f"step {t + s}: {msg}"
                            events.append(stopped)
                            t += s
                            break
                    theta = rule.step(graph, theta, tr.batch(idx), labels[idx])
            if stopped is not None:
                record(t)
                break
        t = int(c)
        record(t)
    scal_keys = ("acc_train", "acc_train_true", "acc_train_clean", "mem", "acc_test", "max_theta")
    lvl_keys = ("n_eff", "level_logsum", "i_xt", "i_ty")
    return NeurashedLog(
        steps=np.array(done, dtype=np.int64),
        scalars={k: np.array([s[k] for s in snaps]) for k in scal_keys},
        per_level={k: np.vstack([s[k] for s in snaps]) for k in lvl_keys},
        fitted=np.vstack([s["fitted"] for s in snaps]),
        idio_share=np.vstack([s["idio_share"] for s in snaps]),
        thetas=np.vstack(thetas) if keep_thetas else None,
        theta=theta, stopped=stopped, guard_events=events)
