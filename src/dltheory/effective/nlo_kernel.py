"""Multi-input four-point vertex V_{(ab)(cd)} and NLO metric G^{1}_{ab} (effective-theory.md §5.1-5.2).

Inverse-free recursions (§5.2 [BOOK structure; DER; MC for two inputs]), summing p, q, s, u over the
P inputs (ordered; a repeated input is one sample index):

    V'_{(ab)(cd)} = C_W²[⟨σ_aσ_bσ_cσ_d⟩ − ⟨σ_aσ_b⟩⟨σ_cσ_d⟩] + r_ℓ (C_W²/4) Σ V_{(pq)(su)} Y^{ab}_{pq} Y^{cd}_{su},
    G1'_{ab}      = r_ℓ [ (C_W/2) Σ Y^{ab}_{pq} G1_{pq} + (C_W/8) Σ V_{(pq)(su)} Z^{ab}_{pqsu} ],

with Y^{ab}_{pq} = ⟨∂_p∂_q(σ_aσ_b)⟩ and Z^{ab}_{pqsu} = ⟨∂_p∂_q∂_s∂_u(σ_aσ_b)⟩ — the K^{-1}-contracted
Hc form of §5.2 equals Σ V_{(pq)(su)} Z (Gaussian integration by parts [DER]). No σ'' is needed:

* ⟨σ''_a σ_b⟩ = ⟨σ'_a z_a σ_b⟩/K_aa − (K_ab/K_aa)⟨σ'_aσ'_b⟩ (Stein's identity in z_a [DER]);
  scale-invariant σ has zσ'(z) = σ(z);
* Z = ∂Y/∂K_{su} (×2 on the diagonal, §3.4), by central differences of the 2×2 pair function
  (a = b: Z = ⟨σ²He_4⟩/K⁴, the one-input form).

Four-point expectations ⟨σ_aσ_bσ_cσ_d⟩ with k distinct inputs: k = 1 by :func:`layer_moments`;
scale-invariant σ with k = 2 exactly in polar coordinates (E R⁴ = 8, Gauss–Legendre between kinks);
otherwise a Gauss–Hermite tensor rule after z = L u (80, 36, 22 nodes per dimension for k = 2, 3, 4);
kinked σ with k ≥ 3 are then only accurate to ~0.5% relative (ReLU, measured against 2·10⁷-sample Monte
Carlo; §3.3 says kinked σ need closed forms, which do not exist here).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.four_point import layer_moments, width_ratios
from dltheory.effective.gaussian import expect_pair, gauss_hermite, pair_expectations
from dltheory.effective.kernels import check_depth, input_gram, per_layer
from dltheory.effective.validation import LayerCheck, check_kernel_matrix
from dltheory.errors import DLTheoryError

__all__ = ["FourPointMulti", "four_point_expectations", "second_derivative_tensor", "four_point_recursion"]

ActivationLike = str | Activation | Callable
_NODES = {2: 80, 3: 36, 4: 22}


def _sqrt_psd(k: np.ndarray) -> np.ndarray:
    """A matrix L with L Lᵀ = K for PSD K (eigen-decomposition: works for singular K)."""
    vals, vecs = np.linalg.eigh(k)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _polar_scale_invariant(act: Activation, k2: np.ndarray, powers: Sequence[int]) -> float:
    """⟨σ(z_1)^m1 σ(z_2)^m2⟩ (m1+m2 = m) for scale-invariant σ: E R^m × angular mean, exact [DER]."""
    lmat = _sqrt_psd(k2)
    kinks = np.sort(np.mod(np.concatenate([np.arctan2(-lmat[:, 0], lmat[:, 1]),
                                           np.arctan2(lmat[:, 0], -lmat[:, 1])]), 2 * np.pi))
    edges = np.concatenate([[0.0], kinks, [2 * np.pi]])
    x, w = np.polynomial.legendre.leggauss(24)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi - lo < 1e-15:
            continue
        th = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        z = lmat @ np.stack([np.cos(th), np.sin(th)])
        f = np.ones_like(th)
        for zi, m in zip(z, powers):
            f = f * np.asarray(act.fn(zi), dtype=float) ** m
        total += 0.5 * (hi - lo) * float(f @ w)
    m = sum(powers)
    moment = 2.0 ** (m / 2) * math.gamma(1 + m / 2)  # E R^m, R² ~ χ²_2
    return moment * total / (2 * np.pi)


def _tensor_rule(act: Activation, kd: np.ndarray, powers: Sequence[int]) -> float:
    k = kd.shape[0]
    u, w = gauss_hermite(_NODES[k])
    lmat = _sqrt_psd(kd)
    grids = np.meshgrid(*([u] * k), indexing="ij")
    us = np.stack([g.ravel() for g in grids])  # (k, N^k)
    wt = np.ones(1)
    for _ in range(k):
        wt = np.multiply.outer(wt, w).ravel()
    z = lmat @ us
    f = np.ones(us.shape[1])
    for zi, m in zip(z, powers):
        f = f * np.asarray(act.fn(zi), dtype=float) ** m
    return float(f @ wt)


def four_point_expectations(activation: ActivationLike, kernel: np.ndarray) -> np.ndarray:
    """⟨σ_aσ_bσ_cσ_d⟩_K for all a, b, c, d (§5.2), shape (P, P, P, P), fully symmetric.

    Parameters
    ----------
    activation : str, Activation or callable
    kernel : ndarray, shape (P, P)
        PSD kernel with positive diagonal.

    Returns
    -------
    ndarray, shape (P, P, P, P)
    """
    act = get_activation(activation)
    kernel = check_kernel_matrix(kernel)
    p = kernel.shape[0]
    out = np.empty((p, p, p, p))
    for combo in itertools.combinations_with_replacement(range(p), 4):
        distinct = sorted(set(combo))
        powers = [combo.count(i) for i in distinct]
        if len(distinct) == 1:
            val = layer_moments(act, kernel[combo[0], combo[0]])["sigma4"]
        else:
            kd = kernel[np.ix_(distinct, distinct)]
            if act.is_scale_invariant and len(distinct) == 2:
                val = _polar_scale_invariant(act, kd, powers)
            else:
                val = _tensor_rule(act, kd, powers)
        for perm in set(itertools.permutations(combo)):
            out[perm] = val
    return out


def _pair_derivatives(act: Activation, kaa, kab, kbb, order: int = 80):
    """(⟨σ''_aσ_b⟩, ⟨σ'_aσ'_b⟩, ⟨σ_aσ''_b⟩) for arrays of 2×2 kernels, a ≠ b (Stein identity [DER])."""
    kaa, kab, kbb = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (kaa, kab, kbb))
    n = kaa.size
    ss, dd = np.empty(n), np.empty(n)
    for i in range(n):
        s, d = pair_expectations(act, np.array([[kaa[i], kab[i]], [kab[i], kbb[i]]]), derivative=True)
        ss[i], dd[i] = s[0, 1], d[0, 1]
    if act.is_scale_invariant:
        e_ab = e_ba = ss
    else:
        zd = lambda z: z * np.asarray(act.derivative(z), dtype=float)  # noqa: E731
        e_ab = expect_pair(zd, act.fn, kaa, kab, kbb, order)
        e_ba = expect_pair(zd, act.fn, kbb, kab, kaa, order)
    return e_ab / kaa - kab / kaa * dd, dd, e_ba / kbb - kab / kbb * dd


def second_derivative_tensor(activation: ActivationLike, kernel: np.ndarray) -> np.ndarray:
    """Y[a, b, p, q] = ⟨∂_p∂_q(σ_aσ_b)⟩_K (§5.2 inverse-free transport, §3.4), shape (P, P, P, P).

    Nonzero only for p, q ∈ {a, b}; Y[a, a, a, a] = 2g'(K_aa).
    """
    act = get_activation(activation)
    kernel = check_kernel_matrix(kernel)
    p = kernel.shape[0]
    y = np.zeros((p, p, p, p))
    for a in range(p):
        y[a, a, a, a] = 2.0 * layer_moments(act, kernel[a, a])["g_prime"]
        for b in range(a + 1, p):
            yaa, yab, ybb = (float(v[0]) for v in _pair_derivatives(act, kernel[a, a], kernel[a, b], kernel[b, b]))
            for (c, d) in ((a, b), (b, a)):
                y[c, d, a, a], y[c, d, b, b] = yaa, ybb
                y[c, d, a, b] = y[c, d, b, a] = yab
    return y


def _fourth_derivative_pair(act: Activation, kaa: float, kab: float, kbb: float, rel_step: float = 1e-4) -> np.ndarray:
    """Z[p, q, s, u] over p..u ∈ {0 ≡ a, 1 ≡ b}: ∂Y_pq/∂K_su (×2 for s = u), central differences."""
    base = np.array([kaa, kab, kbb])
    h = rel_step * math.sqrt(kaa * kbb)
    grads = []
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        up = np.array(_pair_derivatives(act, *(base + step)))[:, 0]
        dn = np.array(_pair_derivatives(act, *(base - step)))[:, 0]
        grads.append((up - dn) / (2 * h))  # d(Yaa, Yab, Ybb)/dK_j
    grads = np.array(grads)  # (3 entries K_aa, K_ab, K_bb, 3 Y components)
    ycomp = {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 2}
    kvar = {(0, 0): (0, 2.0), (0, 1): (1, 1.0), (1, 0): (1, 1.0), (1, 1): (2, 2.0)}
    z = np.empty((2, 2, 2, 2))
    for (pp, q), yi in ycomp.items():
        for (s, u), (kj, fac) in kvar.items():
            z[pp, q, s, u] = fac * grads[kj, yi]
    return z


@dataclass(frozen=True)
class FourPointMulti:
    """Multi-input finite-width state per layer (index ℓ−1), §5.2.

    Attributes
    ----------
    kernel : ndarray, shape (L, P, P)
    vertex : ndarray, shape (L, P, P, P, P)
        V^{(ℓ)}_{(ab)(cd)} (carries 1/n_{ℓ-1}).
    nlo_metric : ndarray, shape (L, P, P)
        G^{1}^{(ℓ)}_{ab}.
    fan_in : ndarray, shape (L,)
    """

    kernel: np.ndarray
    vertex: np.ndarray
    nlo_metric: np.ndarray
    fan_in: np.ndarray

    def connected_four_point(self, same_neuron: bool = True) -> np.ndarray:
        """Connected four-point correlator of preactivations per layer, shape (L, P, P, P, P) (§5.1).

        ``same_neuron``: E[z_{i;a}z_{i;b}z_{i;c}z_{i;d}]_c = (V_{(ab)(cd)} + V_{(ac)(bd)} + V_{(ad)(bc)})/n_{ℓ-1};
        otherwise the i ≠ j covariance Cov(z_{i;a}z_{i;b}, z_{j;c}z_{j;d}) = V_{(ab)(cd)}/n_{ℓ-1}.
        NaN where widths were not given.
        """
        v = self.vertex
        total = v + v.transpose(0, 1, 3, 2, 4) + v.transpose(0, 1, 3, 4, 2) if same_neuron else v
        return total / self.fan_in[:, None, None, None, None]


def four_point_recursion(
    x: np.ndarray,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    widths: int | Sequence[int] | None = None,
    with_nlo_metric: bool = True,
) -> FourPointMulti:
    """K, V_{(ab)(cd)} and G^{1}_{ab} for P inputs by the inverse-free recursions (§5.2).

    Parameters
    ----------
    x : ndarray, shape (P, n0)
    depth : int
    activation : str, Activation or callable
    cb, cw : float or sequence of length depth
    widths : int, sequence of depth−1 ints, or None
        Hidden widths n_1..n_{L-1}.
    with_nlo_metric : bool
        Also run the G^{1} recursion (finite differences of Y; ~10× the cost of V).

    Returns
    -------
    FourPointMulti
    """
    act = get_activation(activation)
    depth = check_depth(depth)
    gram = input_gram(x)
    cb = per_layer(cb, depth, "cb", positive=False)
    cw = per_layer(cw, depth, "cw", positive=True)
    fan, ratio = width_ratios(widths, depth)
    p = gram.shape[0]
    kern = np.zeros((depth, p, p))
    vert = np.zeros((depth, p, p, p, p))
    g1 = np.zeros((depth, p, p))
    with LayerCheck(act.name, C_b=cb, C_W=cw) as check:
        kern[0] = cb[0] + cw[0] * gram
        check(1, **{"kernel K": kern[0]})
        if np.any(np.diag(kern[0]) <= 0):
            raise DLTheoryError("x: every input needs K^(1)_aa > 0 (nonzero input or C_b > 0)")
        for ell in range(1, depth):
            check.layer = ell + 1
            k = kern[ell - 1]
            if not np.all(np.diag(k) > 0):
                check.positive(ell, "kernel K (a diagonal entry)", float(np.min(np.diag(k))))
            ss, _ = pair_expectations(act, k, derivative=False)
            s4 = four_point_expectations(act, k)
            y = second_derivative_tensor(act, k)
            kern[ell] = cb[ell] + cw[ell] * ss
            transport = np.einsum("abpq,pqsu,cdsu->abcd", y, vert[ell - 1], y)
            vert[ell] = cw[ell] ** 2 * (s4 - np.multiply.outer(ss, ss)) + ratio[ell] * cw[ell] ** 2 / 4 * transport
            if with_nlo_metric:
                g1[ell] = ratio[ell] * _nlo_step(act, k, y, vert[ell - 1], g1[ell - 1], cw[ell])
            check(ell + 1, **{"kernel K": kern[ell], "four-point vertex V": vert[ell], "NLO metric G1": g1[ell]})
    return FourPointMulti(kern, vert, g1, fan)


def _nlo_step(act: Activation, k: np.ndarray, y: np.ndarray, v: np.ndarray, g1: np.ndarray, cw: float) -> np.ndarray:
    p = k.shape[0]
    out = 0.5 * cw * np.einsum("abpq,pq->ab", y, g1)
    if not np.any(v):
        return out
    for a in range(p):
        out[a, a] += cw / 8 * layer_moments(act, k[a, a])["sigma2_he4"] * v[a, a, a, a]
        for b in range(a + 1, p):
            z = _fourth_derivative_pair(act, k[a, a], k[a, b], k[b, b])
            idx = [a, b]
            vsub = v[np.ix_(idx, idx, idx, idx)]
            val = cw / 8 * float(np.einsum("pqsu,pqsu->", vsub, z))
            out[a, b] += val
            out[b, a] += val
    return out
