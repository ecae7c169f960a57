"""Diagnostics of a neurashed state (neurashed.md §8, §10.2).

Everything here is a pure function of (graph, θ, examples). Raw amounts are never compared across
levels (they drift, §7.1): only within-level shares, flows and path products are.
"""

from __future__ import annotations

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.examples import Examples
from dltheory.neurashed.forward import forward
from dltheory.neurashed.graph import FeatureGraph
from dltheory.neurashed.rules import effective_number

__all__ = ["entropy", "flow_shares", "information_plane", "idio_share", "snapshot", "fit_time",
           "first_fit_step", "effective_number"]


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats along ``axis`` (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -t.sum(axis=axis)


def flow_shares(flows: np.ndarray) -> np.ndarray:
    """P_ℓ(f | x) = u_{ℓ,f}(x) / Σ_g u_{ℓ,g}(x), shape (n, F_ℓ) (§10.2, identity I3).

    Rows with zero total flow are an error (the example has no active path at this level).
    """
    tot = flows.sum(axis=1, keepdims=True)
    require(bool(np.all(tot > 0)), "an example has zero flow at this level (no active path); shares undefined")
    return flows / tot


def information_plane(shares: np.ndarray, labels, n_classes: int | None = None) -> tuple[float, float]:
    """Exact I(X;T) and I(T;Y) in nats for T ~ P(T|x) = ``shares[x]``, X uniform (§10.2).

    I(X;T) = H(E_x P(T|x)) − E_x H(P(T|x));  I(T;Y) = H(E_x P(T|x)) − Σ_y π_y H(E_{x|y} P(T|x)).

    Parameters
    ----------
    shares : (n, F) array, rows are probability vectors
    labels : (n,) int array (Y)
    """
    shares = np.asarray(shares, dtype=np.float64)
    labels = np.asarray(labels)
    require(shares.ndim == 2, "shares must have shape (n, F)")
    require(bool(np.all(shares >= -1e-15)) and np.allclose(shares.sum(axis=1), 1.0, atol=1e-9),
            "shares must be non-negative rows summing to 1 (probabilities in [0, 1])")
    h_marg = float(entropy(shares.mean(axis=0)))
    i_xt = h_marg - float(entropy(shares, axis=1).mean())
    classes, counts = np.unique(labels, return_counts=True)
    h_cond = sum(c / len(labels) * float(entropy(shares[labels == y].mean(axis=0))) for y, c in zip(classes, counts))
    return i_xt, h_marg - h_cond


def idio_share(graph: FeatureGraph, flows_top: np.ndarray) -> np.ndarray:
    """idio_share[i] = Σ_{f ∈ idio(i)} u_{L,f}(x_i) / Σ_g u_{L,g}(x_i), shape (n,) for training examples (§8)."""
    ex = graph.idio_example
    tot = flows_top.sum(axis=1)
    own = np.zeros(len(flows_top))
    cols = np.flatnonzero(ex >= 0)
    if len(cols):
        rows = ex[cols]
        keep = rows < len(flows_top)
        np.add.at(own, rows[keep], flows_top[rows[keep], cols[keep]])
    return np.divide(own, tot, out=np.zeros_like(own), where=tot > 0)


def snapshot(graph: FeatureGraph, theta: np.ndarray, train: Examples, test: Examples, *,
             readout: str = "path", normalized: bool = False, chunk: int = 512) -> dict[str, np.ndarray | float]:
    """All per-checkpoint diagnostics of §8 for one state θ.

    Returns a dict with scalars ``acc_train`` (observed labels), ``acc_train_true``, ``acc_train_clean``,
    ``mem`` (noisy examples predicted with their observed label; NaN if none), ``acc_test``; arrays
    ``fitted`` (n_train,) bool, ``idio_share`` (n_train,), per level (L,) ``n_eff``, ``level_logsum``,
    ``i_xt``, ``i_ty``; and ``max_theta``.
    """
    def run(ex: Examples):
        preds, tops, shares = [], [], [[] for _ in range(graph.n_levels)]
        for s in range(0, len(ex), chunk):
            a = ex.batch(slice(s, s + chunk))
            f = forward(graph, theta, a, readout=readout, normalized=normalized)
            preds.append(f.logits.argmax(axis=1))
            tops.append(f.flows[-1])
            for l in range(graph.n_levels):
                shares[l].append(flow_shares(f.flows[l]))
        return np.concatenate(preds), np.vstack(tops), [np.vstack(s) for s in shares]

    pred_tr, top_tr, shares_tr = run(train)
    pred_te, _, _ = run(test)
    fitted = pred_tr == train.observed_label
    noisy = train.is_noisy
    info = [information_plane(shares_tr[l], train.true_label) for l in range(graph.n_levels)]
    return {
        "acc_train": float(fitted.mean()),
        "acc_train_true": float((pred_tr == train.true_label).mean()),
        "acc_train_clean": float(fitted[~noisy].mean()) if (~noisy).any() else float("nan"),
        "mem": float(fitted[noisy].mean()) if noisy.any() else float("nan"),
        "acc_test": float((pred_te == test.true_label).mean()),
        "fitted": fitted,
        "idio_share": idio_share(graph, top_tr),
        "n_eff": np.array([effective_number(theta[graph.level_slice(l)]) for l in range(graph.n_levels)]),
        "level_logsum": np.array([theta[graph.level_slice(l)].sum() for l in range(graph.n_levels)]),
        "i_xt": np.array([i[0] for i in info]),
        "i_ty": np.array([i[1] for i in info]),
        "max_theta": float(theta.max()),
    }


def first_fit_step(fitted: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """First checkpoint step at which each example is fitted, shape (n,); ``inf`` if never.

    ``fitted`` has shape (n_checkpoints, n).
    """
    fitted = np.asarray(fitted, dtype=bool)
    any_fit = fitted.any(axis=0)
    first = np.argmax(fitted, axis=0)
    return np.where(any_fit, np.asarray(steps, dtype=np.float64)[first], np.inf)


def fit_time(fitted: np.ndarray, steps: np.ndarray, group: np.ndarray, q: float) -> float:
    """t_q: first checkpoint at which a fraction ≥ q of ``group`` is fitted (``inf`` if never), §10.1."""
    require(0.0 <= q <= 1.0, f"q must be a probability in [0, 1]; got {q}")
    group = np.asarray(group, dtype=bool)
    if not group.any():
        return float("nan")
    frac = np.asarray(fitted, dtype=bool)[:, group].mean(axis=1)
    hit = np.flatnonzero(frac >= q - 1e-12)
    return float(np.asarray(steps)[hit[0]]) if len(hit) else float("inf")
