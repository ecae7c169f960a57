"""Weight-vector layout of binary networks, their deterministic forward pass and the permutation gauge.

Implements weight-space.md §3.1 (layout, segments, forward pass) and §3.4 (gauge).
σ = [vec(W1), vec(W2), …, vec(WL)], each W_l of shape (n_l, n_{l-1}) flattened row-major.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.activations import get_activation
from dltheory.errors import DLTheoryError, require

__all__ = ["WeightLayout", "forward_binary", "accuracy_binary", "apply_permutations", "gauge_samples",
           "canonical_permutations", "GAUGES"]

GAUGES = ("raw", "augment", "canonical")
#: Hidden-layer activation of the binary networks (§3.1), a name of :mod:`dltheory.activations`.
ACTIVATION = "leaky_relu:0.1"


@dataclass(frozen=True)
class WeightLayout:
    """Layer sizes (D, H1, …, K) and the segments of the flattened weight vector.

    Segments (half-open index ranges): for depth ≥ 3 layers of weights ``LB`` (first layer),
    ``ITER`` (all middle layers), ``RB`` (output layer) and ``FULL``; otherwise only ``FULL``.
    """

    layer_sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        sizes = tuple(int(s) for s in self.layer_sizes)
        require(len(sizes) >= 2 and min(sizes) >= 1,
                f"layer_sizes must be >= 2 positive integers (D, ..., K); got {self.layer_sizes}")
        object.__setattr__(self, "layer_sizes", sizes)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        s = self.layer_sizes
        return [(s[l + 1], s[l]) for l in range(len(s) - 1)]

    @property
    def offsets(self) -> list[int]:
        return [int(v) for v in np.cumsum([0] + [a * b for a, b in self.shapes])]

    @property
    def n_weights(self) -> int:
        return int(self.offsets[-1])

    @property
    def segments(self) -> dict[str, tuple[int, int]]:
        off = self.offsets
        segs = {}
        if len(self.shapes) >= 3:
            segs = {"LB": (off[0], off[1]), "ITER": (off[1], off[-2]), "RB": (off[-2], off[-1])}
        segs["FULL"] = (0, off[-1])
        return segs

    def segment(self, sigma: np.ndarray, name: str) -> np.ndarray:
        """Columns of ``sigma`` (shape (n, M)) that belong to segment ``name``."""
        segs = self.segments
        if name not in segs:
            raise DLTheoryError(f"segment must be one of {', '.join(segs)}; got {name!r}")
        a, b = segs[name]
        require(b > a, f"segment {name!r} is empty")
        return sigma[..., a:b]

    def split(self, sigma: np.ndarray) -> list[np.ndarray]:
        """Weight matrices, each shape (n, n_out, n_in), from ``sigma`` of shape (n, M)."""
        sigma = np.asarray(sigma)
        require(sigma.ndim == 2 and sigma.shape[1] == self.n_weights,
                f"sigma must have shape (n, {self.n_weights}); got {sigma.shape}")
        off = self.offsets
        return [sigma[:, off[l]:off[l + 1]].reshape(len(sigma), *shp) for l, shp in enumerate(self.shapes)]

    def join(self, mats: list[np.ndarray]) -> np.ndarray:
        """Inverse of :meth:`split`: shape (n, M)."""
        return np.concatenate([m.reshape(len(m), -1) for m in mats], axis=1)


def _act(u: np.ndarray, n_in: int) -> np.ndarray:
    return get_activation(ACTIVATION).fn(u) / np.sqrt(n_in)


def forward_binary(layout: WeightLayout, sigma: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Logits of sampled networks (§3.1): a_l = LeakyReLU₀.₁(W_l a_{l-1})/√n_{l-1}; z = W_L a_{L-1}.

    Parameters
    ----------
    sigma : ndarray, shape (S, M), entries ±1
    x : ndarray, shape (n, D)

    Returns
    -------
    ndarray, shape (S, n, K)
    """
    mats = layout.split(sigma)
    a = np.broadcast_to(np.asarray(x, dtype=np.float64), (len(sigma), *np.shape(x)))
    for l, w in enumerate(mats):
        z = np.einsum("sni,soi->sno", a, w.astype(np.float64), optimize=True)
        a = z if l == len(mats) - 1 else _act(z, w.shape[2])
    return a


def accuracy_binary(layout: WeightLayout, sigma: np.ndarray, x: np.ndarray, y: np.ndarray,
                    chunk: int = 512) -> np.ndarray:
    """Test accuracy of every sampled network, shape (S,)."""
    out = np.empty(len(sigma))
    for s in range(0, len(sigma), chunk):
        out[s:s + chunk] = (forward_binary(layout, sigma[s:s + chunk], x).argmax(-1) == y).mean(-1)
    return out


def apply_permutations(layout: WeightLayout, sigma: np.ndarray, perms: list[np.ndarray]) -> np.ndarray:
    """Relabel hidden units (§3.4): W_l ← P_l W_l P_{l-1}ᵀ for every sample.

    ``perms[k]`` has shape (n, H_{k+1}) with new unit j taking old unit ``perms[k][:, j]``.
    """
    mats = layout.split(sigma)
    require(len(perms) == len(mats) - 1, f"need {len(mats) - 1} permutation arrays; got {len(perms)}")
    n = len(sigma)
    rows = np.arange(n)[:, None]
    out = []
    for l, w in enumerate(mats):
        if l < len(perms):
            w = w[rows, perms[l]]                     # permute output units (rows)
        if l > 0:
            w = np.take_along_axis(w, perms[l - 1][:, None, :], axis=2)  # permute input units
        out.append(w)
    return layout.join(out)


def canonical_permutations(layout: WeightLayout, sigma: np.ndarray, x_ref: np.ndarray) -> list[np.ndarray]:
    """Sort hidden units layer by layer by decreasing mean pre-activation over ``x_ref`` (ties by index)."""
    mats = layout.split(sigma)
    n = len(sigma)
    perms = []
    a = np.broadcast_to(np.asarray(x_ref, np.float64), (n, *np.shape(x_ref)))
    prev = None
    for l, w in enumerate(mats[:-1]):
        w = w.astype(np.float64)
        if prev is not None:
            w = np.take_along_axis(w, prev[:, None, :], axis=2)
        z = np.einsum("sni,soi->sno", a, w, optimize=True)
        order = np.argsort(-z.mean(axis=1), axis=1, kind="stable")
        perms.append(order)
        a = _act(np.take_along_axis(z, order[:, None, :], axis=2), w.shape[2])
        prev = order
    return perms


def gauge_samples(layout: WeightLayout, sigma: np.ndarray, gauge: str = "raw", *, p: float = 1.0,
                  x_ref: np.ndarray | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """Apply the permutation gauge option of §3.4 to samples ``sigma`` (shape (n, M)).

    Parameters
    ----------
    gauge : {"raw", "augment", "canonical"}
    p : float
        For ``"augment"``: probability that a sample gets uniform random hidden permutations.
    x_ref : ndarray, shape (n_ref, D)
        For ``"canonical"``: reference inputs (the spec's default: training inputs of class 1).
    rng : numpy.random.Generator
        For ``"augment"``.
    """
    if gauge not in GAUGES:
        raise DLTheoryError(f"gauge must be one of {', '.join(GAUGES)}; got {gauge!r}")
    sigma = np.asarray(sigma)
    hidden = layout.layer_sizes[1:-1]
    if gauge == "raw" or not hidden:
        return sigma.copy()
    n = len(sigma)
    if gauge == "augment":
        require(0.0 <= p <= 1.0, f"p must be in [0, 1]; got {p}")
        require(rng is not None, "gauge='augment' needs rng (a numpy.random.Generator)")
        hit = rng.random(n) < p
        perms = []
        for h in hidden:
            pr = np.tile(np.arange(h), (n, 1))
            pr[hit] = rng.permuted(pr[hit], axis=1)
            perms.append(pr)
    else:
        require(x_ref is not None and np.ndim(x_ref) == 2 and len(x_ref) >= 1,
                "gauge='canonical' needs x_ref, an array of reference inputs of shape (n_ref, D)")
        perms = canonical_permutations(layout, sigma, x_ref)
    return apply_permutations(layout, sigma, perms).astype(sigma.dtype)
