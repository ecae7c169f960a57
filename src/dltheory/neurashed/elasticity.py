"""Local-elasticity measures shared by neurashed and real networks (neurashed.md §9).

- S_ker(x, x′) = u_yᵀ Θ(x, x′) u_{y′} = ⟨∇_θ z̃_y(x), ∇_θ z̃_{y′}(x′)⟩ (centered own-label logits),
  built from a gradient matrix G (n, P) as G Gᵀ; normalized Ŝ = S / √(diag ⊗ diag).
- S_rel(x, x′) = |Δs(x′)| / |Δs(x)| after one gradient step at x (He & Su step-size escalation);
  NaN (and counted) where the loss gradient at x vanishes — never 0.
- Pair-type summaries, the LE ratio, bootstrap intervals and 2-cluster accuracies.

The functions on similarity matrices are model-agnostic; :func:`neurashed_margin_gradients` and
:func:`neurashed_relative_similarity` are the neurashed-specific producers.
"""

from __future__ import annotations

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.forward import forward, logit_gradient, loss_and_grad
from dltheory.neurashed.graph import FeatureGraph
from dltheory.stats import bootstrap

__all__ = ["kernel_similarity", "normalized_similarity", "pair_type_means", "le_ratio", "bootstrap_pair_gaps",
           "kernel_kmeans", "kmeans_rows", "spectral_two_clusters", "two_cluster_accuracy", "raw_kmeans_accuracy",
           "neurashed_margin_gradients", "neurashed_relative_similarity", "escalate_step"]


def kernel_similarity(grads: np.ndarray) -> np.ndarray:
    """S_ker = G Gᵀ for per-example gradients G (n, P) of the centered own-label logit (§9)."""
    g = np.asarray(grads, dtype=np.float64)
    return g @ g.T


def normalized_similarity(s: np.ndarray) -> np.ndarray:
    """Ŝ_ij = S_ij / √(S_ii S_jj) ∈ [−1, 1]; rows with S_ii = 0 give NaN."""
    d = np.sqrt(np.clip(np.diag(s), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return s / np.outer(d, d)


def _pair_masks(labels, superclass, include_diagonal: bool):
    labels = np.asarray(labels)
    sup = np.asarray(superclass)[labels]
    same = labels[:, None] == labels[None, :]
    if not include_diagonal:
        same &= ~np.eye(len(labels), dtype=bool)
    same_sup = (sup[:, None] == sup[None, :]) & (labels[:, None] != labels[None, :])
    other = sup[:, None] != sup[None, :]
    return same, same_sup, other


def pair_type_means(s_hat: np.ndarray, labels, superclass=None, *, include_diagonal: bool = False) -> dict[str, float]:
    """Mean Ŝ over same-class, same-superclass (different class) and other-superclass pairs (§9).

    ``superclass`` maps class → superclass (default: every class its own superclass, so
    ``same_superclass`` is NaN). Also returns ``alpha`` (intra-class) and ``beta`` (inter-class) means.
    """
    labels = np.asarray(labels)
    superclass = np.arange(int(labels.max()) + 1) if superclass is None else np.asarray(superclass)
    same, same_sup, other = _pair_masks(labels, superclass, include_diagonal)
    between = labels[:, None] != labels[None, :]
    m = lambda mask: float(np.nanmean(s_hat[mask])) if mask.any() else float("nan")  # noqa: E731
    return {"same_class": m(same), "same_superclass": m(same_sup), "other_superclass": m(other),
            "alpha": m(same), "beta": m(between)}


def le_ratio(s_hat: np.ndarray, labels, *, include_diagonal: bool = False) -> float:
    """ρ_LE = mean same-class Ŝ / (same + between), as in LANTK (§9)."""
    d = pair_type_means(s_hat, labels, include_diagonal=include_diagonal)
    return d["same_class"] / (d["same_class"] + d["beta"])


def bootstrap_pair_gaps(s_hat: np.ndarray, labels, superclass, *, n_boot: int = 1000, level: float = 0.99,
                        rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals (over examples) of Ŝ_same − Ŝ_superclass and Ŝ_superclass − Ŝ_other."""
    require(0 < level < 1, f"level must be in (0, 1); got {level}")
    labels = np.asarray(labels)

    def gaps_of(idx: np.ndarray) -> tuple[float, float]:
        same, same_sup, other = _pair_masks(labels[idx], superclass, False)
        same &= idx[:, None] != idx[None, :]  # a resampled example paired with itself is a diagonal pair
        sub = s_hat[np.ix_(idx, idx)]
        ms, mu, mo = (float(np.nanmean(sub[mk])) for mk in (same, same_sup, other))
        return ms - mu, mu - mo

    gaps = bootstrap(gaps_of, np.arange(len(labels)), n_resamples=n_boot, rng=rng)  # (n_boot, 2)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    q = np.nanquantile(gaps, [lo, hi], axis=0)
    return {"same_minus_superclass": (float(q[0, 0]), float(q[1, 0])),
            "superclass_minus_other": (float(q[0, 1]), float(q[1, 1]))}


def two_cluster_accuracy(pred, truth) -> float:
    """0.5 + |correct/n − 0.5| for a 2-cluster assignment against binary truth (He & Su)."""
    pred, truth = np.asarray(pred), np.asarray(truth)
    require(pred.shape == truth.shape, "pred and truth must have the same shape")
    return 0.5 + abs(float((pred == truth).mean()) - 0.5)


def kernel_kmeans(k_mat: np.ndarray, *, n_clusters: int = 2, n_init: int = 10, max_iter: int = 100,
                  rng: np.random.Generator) -> np.ndarray:
    """Kernel K-means on a Gram matrix (n, n); returns labels (n,) of the best of ``n_init`` restarts."""
    k_mat = np.asarray(k_mat, dtype=np.float64)
    n = len(k_mat)
    diag = np.diag(k_mat)
    best, best_obj = None, np.inf
    for _ in range(n_init):
        lab = rng.integers(0, n_clusters, size=n)
        for _ in range(max_iter):
            dist = np.full((n, n_clusters), np.inf)
            for c in range(n_clusters):
                m = lab == c
                if m.sum() == 0:
                    continue
                dist[:, c] = diag - 2 * k_mat[:, m].mean(axis=1) + k_mat[np.ix_(m, m)].mean()
            new = dist.argmin(axis=1)
            if np.array_equal(new, lab):
                break
            lab = new
        obj = float(dist[np.arange(n), lab].sum())
        if obj < best_obj:
            best, best_obj = lab.copy(), obj
    return best


def kmeans_rows(x: np.ndarray, *, n_clusters: int = 2, seed: int = 0) -> np.ndarray:
    """Euclidean K-means (scikit-learn, 10 restarts) on the rows of ``x``."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(np.nan_to_num(x))


def spectral_two_clusters(s: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Spectral clustering (k = 2) with affinity max(S, 0) (§9)."""
    from sklearn.cluster import SpectralClustering

    aff = np.clip(np.nan_to_num((s + s.T) / 2), 0.0, None)
    return SpectralClustering(2, affinity="precomputed", random_state=seed).fit_predict(aff + 1e-12)


def raw_kmeans_accuracy(x: np.ndarray, truth, *, pca_dims=(2, 5, 10), seed: int = 0) -> dict[str, float]:
    """Baselines of §9: 2-cluster accuracy of K-means on raw inputs and on PCA features."""
    from sklearn.decomposition import PCA

    out = {"raw": two_cluster_accuracy(kmeans_rows(x, seed=seed), truth)}
    for k in pca_dims:
        if k < min(x.shape):
            feats = PCA(k, random_state=seed).fit_transform(x)
            out[f"pca{k}"] = two_cluster_accuracy(kmeans_rows(feats, seed=seed), truth)
    return out


def neurashed_margin_gradients(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels, *,
                               readout: str = "path") -> np.ndarray:
    """Rows ∇_θ z̃_y(x) = J(x)ᵀ u_y, u_y = e_y − 1/K, shape (n, F) (§9)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = graph.n_classes
    u = np.full((len(labels), k), -1.0 / k)
    u[np.arange(len(labels)), labels] += 1.0
    return logit_gradient(graph, theta, a, u, readout=readout)


def _margins(graph, theta, a, labels, readout):
    z = forward(graph, theta, a, readout=readout).logits
    k = z.shape[1]
    own = z[np.arange(len(labels)), labels]
    return own - (z.sum(axis=1) - own) / (k - 1)


def escalate_step(delta_self, *, start: float = 1e-6, factor: float = 3.0, target: float = 1e-10,
                  cap: float = 1e4) -> tuple[float, float]:
    """He & Su step escalation: η = start·factorᵏ until |delta_self(η)| ≥ target, η ≤ cap.

    Returns (η, Δ(η)); Δ = 0 at the cap means the change is undefined (caller returns NaN).
    """
    eta = start
    while True:
        d = float(delta_self(eta))
        if abs(d) >= target or eta * factor > cap:
            return eta, d
        eta *= factor


def neurashed_relative_similarity(graph: FeatureGraph, theta: np.ndarray, a: list[np.ndarray], labels, *,
                                  readout: str = "path") -> tuple[np.ndarray, int]:
    """S_rel (n, n) from one gradient step (λ = 0) at each x, and the number of undefined rows (§9).

    Row i is |Δs(x_j)| / |Δs(x_i)| with s the own-class margin; a row whose loss gradient is zero to
    working precision (fitted, saturated example) is NaN and counted — never 0. Not symmetrized.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    s0 = _margins(graph, theta, a, labels, readout)
    out = np.full((n, n), np.nan)
    undefined = 0
    for i in range(n):
        ai = [m[i:i + 1] for m in a]
        _, g, _ = loss_and_grad(graph, theta, ai, labels[i:i + 1], readout=readout)
        if not np.any(g != 0.0):
            undefined += 1
            continue
        ds = lambda eta: _margins(graph, theta - eta * g, ai, labels[i:i + 1], readout)[0] - s0[i]  # noqa: E731
        eta, d_self = escalate_step(ds)
        if d_self == 0.0:
            undefined += 1
            continue
        out[i] = np.abs(_margins(graph, theta - eta * g, a, labels, readout) - s0) / abs(d_self)
    return out, undefined
