"""Gaussian expectations under kernels (effective-theory.md §3.2-3.4).

Two-input expectations ⟨σ_a σ_b⟩_K and ⟨σ'_a σ'_b⟩_K are evaluated for all P×P pairs of a
kernel matrix at once (§3.1, §6.2):

1. by the closed form of the activation registry (:attr:`dltheory.activations.Activation.kernel`:
   scale-invariant, erf, GELU, sin, cos, gaussian, step, sign, ReLU^k, monomials);
2. otherwise (tanh, SWISH, softplus, sigmoid, user callables) by the Hermite (Mehler) series
   [standard; truncation bound DER]: with z_a = √K_aa x, z_b = √K_bb y, corr(x, y) = ρ,

       ⟨σ(z_a) σ(z_b)⟩ = Σ_k c_k(K_aa) c_k(K_bb) ρ^k,   c_k(K) = E[σ(√K x) He_k(x)] / √(k!),

   the coefficients from one 1-D Gauss–Hermite rule per *distinct* diagonal value (O(P) 1-D
   integrals), then a power series in ρ for all pairs (same for σ'). Truncation after N terms errs
   by at most |ρ|^{N+1} √(T_N(K_aa) T_N(K_bb)) (Cauchy–Schwarz on the tail), where
   T_N(K) = ⟨σ²⟩_K − Σ_{k≤N} c_k(K)² is the tail energy, computed with the same rule. N is the
   smallest order that brings this bound below ``SERIES_TOLERANCE`` × √(⟨σ²⟩_aa ⟨σ²⟩_bb) for every
   pair; **switch rule**: a pair whose bound at the largest order ``SERIES_MAX_TERMS`` still
   exceeds that tolerance (|ρ| near 1 with slowly decaying c_k, i.e. large K for tanh) is
   evaluated by the 2-D tensor rule instead, and so is every pair when 1024 nodes do not give the
   coefficients to that tolerance at the largest variance (f(√K x) too steep: tanh at K ≳ 30);
3. the probabilists' Gauss–Hermite tensor rule after z = chol(K) u (§3.3 [NUM]), chunked over
   pairs so that memory stays bounded (``method="quadrature"``, and the fallback of 2.).

:func:`expect_pair_reference` is the slow kink-aware oracle (composite Gauss–Legendre panels split
at the kinks) that tests the closed forms and the series. Single-input moments ⟨σ²⟩, ⟨σ'²⟩, ⟨σ⁴⟩
and g'(K), g''(K) use the closed forms on the diagonal where available and otherwise the 1-D rule
with the derivative (heat-equation) identities of §3.4 [DER], which need no σ''.

Every quadrature routine has a ``*_with_error`` twin returning |Q(2N) − Q(N)| as the error
estimate (order doubling, §10.1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy.special import roots_hermitenorm

from dltheory.activations import Activation, get_activation
from dltheory.effective.validation import check_kernel_matrix, real_array
from dltheory.errors import DLTheoryError

__all__ = [
    "DEFAULT_ORDER_1D",
    "DEFAULT_ORDER_2D",
    "SERIES_MAX_TERMS",
    "SERIES_TOLERANCE",
    "gauss_hermite",
    "hermite_coefficients",
    "expect_pair_reference",
    "expect_single",
    "expect_single_with_error",
    "expect_pair",
    "expect_pair_with_error",
    "pair_expectations",
    "single_moments",
    "g_prime",
    "g_second",
]

DEFAULT_ORDER_1D = 200
DEFAULT_ORDER_2D = 80
_MAX_ORDER = 4000
#: Largest Hermite order of the pair series (beyond it a pair goes to the 2-D tensor rule).
SERIES_MAX_TERMS = 160
#: Relative truncation bound of the pair series (times √(⟨σ²⟩_aa ⟨σ²⟩_bb), see module docstring).
SERIES_TOLERANCE = 1e-12
_SERIES_NODES = 400  # 1-D Gauss–Hermite nodes of the planning probe (c_0..c_{SERIES_MAX_TERMS})
_NODE_LADDER = (48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)  # 1-D rules tried for the series
_CHUNK_ELEMENTS = 2_000_000  # float64 elements per chunk of the 2-D grid (~16 MB)


def _check_order(order: int) -> int:
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or not 2 <= order <= _MAX_ORDER:
        raise DLTheoryError(f"order={order!r}: quadrature order must be an integer in [2, {_MAX_ORDER}]")
    return int(order)


@lru_cache(maxsize=64)
def _gh(order: int) -> tuple[np.ndarray, np.ndarray]:
    u, w = roots_hermitenorm(order)
    w = w / w.sum()
    u.setflags(write=False)
    w.setflags(write=False)
    return u, w


def gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite rule for the standard normal (§3.3).

    Parameters
    ----------
    order : int
        Number of nodes N ≥ 2.

    Returns
    -------
    nodes, weights : ndarray, shape (N,)
        ``sum(weights * f(nodes)) ≈ E f(u)``, u ~ N(0, 1); weights sum to 1 (read-only arrays).
    """
    return _gh(_check_order(order))


def _as_variance(k: np.ndarray | float, name: str = "k") -> np.ndarray:
    k = real_array(k, name)  # complex, boolean and non-numeric values are an error, never made real
    if not np.all(np.isfinite(k)) or np.any(k < 0):
        raise DLTheoryError(f"{name}: variances must be finite and >= 0")
    return k


def expect_single(f: Callable[[np.ndarray], np.ndarray], k: np.ndarray | float, order: int = DEFAULT_ORDER_1D) -> np.ndarray:
    """⟨f(z)⟩ for z ~ N(0, k), elementwise over an array of variances.

    Parameters
    ----------
    f : callable
        Vectorised function of z.
    k : array_like, shape (...)
        Variances (≥ 0).
    order : int
        Gauss–Hermite nodes.

    Returns
    -------
    ndarray, shape (...)
    """
    u, w = gauss_hermite(order)
    k = _as_variance(k)
    z = np.sqrt(k)[..., None] * u
    return np.asarray(f(z), dtype=float) @ w


def expect_single_with_error(
    f: Callable[[np.ndarray], np.ndarray], k: np.ndarray | float, order: int = DEFAULT_ORDER_1D
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`expect_single` and its error estimate |Q(2N) − Q(N)|."""
    lo = expect_single(f, k, order)
    hi = expect_single(f, k, 2 * _check_order(order))
    return hi, np.abs(hi - lo)


def _cholesky_parts(k11: np.ndarray, k12: np.ndarray, k22: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z1 = a u1, z2 = r u1 + s u2 with a = √k11, r = k12/√k11, s = √(k22 − r²) (clipped ≥ 0)."""
    a = np.sqrt(k11)
    safe = a > 0
    r = np.divide(k12, a, out=np.zeros_like(k12), where=safe)
    s = np.sqrt(np.maximum(k22 - r * r, 0.0))
    return a, r, s


def expect_pair(
    f: Callable[[np.ndarray], np.ndarray],
    g: Callable[[np.ndarray], np.ndarray],
    k11: np.ndarray,
    k12: np.ndarray,
    k22: np.ndarray,
    order: int = DEFAULT_ORDER_2D,
) -> np.ndarray:
    """⟨f(z_1) g(z_2)⟩ under the 2×2 kernel [[k11, k12], [k12, k22]] by the tensor rule (§3.3).

    Parameters
    ----------
    f, g : callable
        Vectorised functions.
    k11, k12, k22 : array_like, shape (M,) (or broadcastable scalars)
        Kernel entries of M pairs; must be positive semi-definite.
    order : int
        Nodes per dimension (N² evaluations of g per pair, chunked).

    Returns
    -------
    ndarray, shape (M,)
    """
    u, w = gauss_hermite(order)
    k11, k12, k22 = np.broadcast_arrays(*(np.atleast_1d(real_array(v, n)) for v, n in ((k11, "k11"), (k12, "k12"),
                                                                                         (k22, "k22"))))
    _as_variance(k11, "k11")
    _as_variance(k22, "k22")
    if not np.all(np.isfinite(k12)):
        raise DLTheoryError("k12: covariances must be finite")
    a, r, s = _cholesky_parts(k11, k12, k22)
    out = np.empty(k11.shape, dtype=float)
    n = len(u)
    chunk = max(1, _CHUNK_ELEMENTS // (n * n))
    for start in range(0, k11.size, chunk):
        sl = slice(start, start + chunk)
        f1 = np.asarray(f(a[sl, None] * u), dtype=float)  # (c, N)
        z2 = (r[sl, None, None] * u[None, :, None]) + (s[sl, None, None] * u[None, None, :])
        inner = np.asarray(g(z2), dtype=float) @ w  # (c, N)
        out[sl] = (f1 * inner) @ w
    return out


def expect_pair_with_error(f, g, k11, k12, k22, order: int = DEFAULT_ORDER_2D) -> tuple[np.ndarray, np.ndarray]:
    """:func:`expect_pair` and its error estimate |Q(2N) − Q(N)| (returns the 2N value)."""
    lo = expect_pair(f, g, k11, k12, k22, order)
    hi = expect_pair(f, g, k11, k12, k22, 2 * _check_order(order))
    return hi, np.abs(hi - lo)


# ---------------------------------------------------------------- Hermite (Mehler) series


@lru_cache(maxsize=16)
def _hermite_table(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes u, weights w and the weighted table W[k, q] = w_q He_k(u_q)/√(k!), k ≤ SERIES_MAX_TERMS."""
    u, w = gauss_hermite(order)
    n_terms = SERIES_MAX_TERMS
    table = np.empty((n_terms + 1, len(u)))
    table[0] = 1.0
    if n_terms >= 1:
        table[1] = u
    for k in range(1, n_terms):  # h_{k+1} = (u h_k − √k h_{k−1})/√(k+1), h_k = He_k/√(k!)
        table[k + 1] = (u * table[k] - math.sqrt(k) * table[k - 1]) / math.sqrt(k + 1)
    table *= w
    table.setflags(write=False)
    return u, w, table


def hermite_coefficients(
    f: Callable[[np.ndarray], np.ndarray], k: np.ndarray, n_terms: int = SERIES_MAX_TERMS, order: int = _SERIES_NODES
) -> tuple[np.ndarray, np.ndarray]:
    """Normalized Hermite coefficients c_n(K) = E[f(√K x) He_n(x)]/√(n!) and tail energies.

    Parameters
    ----------
    f : callable
        Vectorised function of z.
    k : array_like, shape (m,)
        Variances K ≥ 0.
    n_terms : int
        Highest order N.
    order : int
        Gauss–Hermite nodes of the 1-D rule (exact for f polynomial of degree ≤ 2·order − 1 − n).

    Returns
    -------
    coef : ndarray, shape (m, N + 1)
        c_0..c_N for each variance.
    tail : ndarray, shape (m, N + 1)
        T_n(K) = E[f(√K x)²] − Σ_{j≤n} c_j(K)² ≥ 0 (clipped at 0; Bessel's inequality holds exactly
        for the discrete rule when N < order).
    """
    k = _as_variance(np.atleast_1d(k))
    if not 0 <= n_terms <= SERIES_MAX_TERMS:
        raise DLTheoryError(f"n_terms={n_terms!r}: must be in [0, {SERIES_MAX_TERMS}]")
    u, w, table = _hermite_table(_check_order(order))
    vals = np.asarray(f(np.sqrt(k)[:, None] * u), dtype=float)  # (m, Q)
    coef = vals @ table[: n_terms + 1].T
    energy = (vals * vals) @ w
    tail = np.maximum(energy[:, None] - np.cumsum(coef * coef, axis=1), 0.0)
    return coef, tail


def _relative_tails(coef: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """T_n(K)/⟨f²⟩_K (0 where ⟨f²⟩_K = 0), shape (m, N + 1)."""
    energy = tail[:, :1] + coef[:, :1] ** 2
    return np.divide(tail, energy, out=np.zeros_like(tail), where=energy > 0)


def _first_order(ok: np.ndarray) -> int | None:
    idx = np.flatnonzero(ok)
    return int(idx[0]) if idx.size else None


def _plan(f: Callable[[np.ndarray], np.ndarray], probe: np.ndarray, rho_max: float) -> tuple[int, int | None, float]:
    """(N, nodes, ρ_use) for the series, from the smallest and largest variance (the probe).

    ρ_use ≤ ρ_max is the largest |ρ| whose truncation bound can be met with SERIES_MAX_TERMS terms
    (pairs beyond it go to the 2-D rule); N is the smallest order with
    ρ_use^{N+1} max_probe T_N/⟨f²⟩ ≤ SERIES_TOLERANCE; ``nodes`` is the first rule of
    ``_NODE_LADDER`` (48 … 1024) whose coefficients agree with the next rule's to SERIES_TOLERANCE
    in the norm ‖δc_k ρ_use^k‖₂/√⟨f²⟩, which bounds their effect on any pair with |ρ| ≤ ρ_use
    (Cauchy–Schwarz). ``nodes`` is None when no rule qualifies (f(√K x) too steep). f(√K x)
    steepens as K grows, so the largest variance decides; every pair is re-checked afterwards.
    """
    coef, tail = hermite_coefficients(f, probe)
    rel = _relative_tails(coef, tail).max(axis=0)  # (SERIES_MAX_TERMS + 1,)
    log_tol = math.log(SERIES_TOLERANCE)
    rho_use = rho_max
    if rel[-1] > 0 and rho_max > 0:
        rho_use = min(rho_max, math.exp((log_tol - math.log(rel[-1])) / rel.size))
    n = np.arange(rel.size)
    with np.errstate(divide="ignore"):
        log_bound = (n + 1) * (math.log(rho_use) if rho_use > 0 else -math.inf) + np.log(rel)
    terms = _first_order((log_bound <= log_tol) | (rel == 0.0))
    terms = SERIES_MAX_TERMS if terms is None else terms
    scale = np.sqrt(tail[:, :1] + coef[:, :1] ** 2) + 1e-300
    weight = rho_use ** np.arange(terms + 1) if rho_use > 0 else (np.arange(terms + 1) == 0).astype(float)
    ladder = [q for q in _NODE_LADDER if q > terms]
    prev = None
    for nodes in ladder:
        c, t = hermite_coefficients(f, probe, terms, nodes)
        cur = np.concatenate([c * weight, t[:, :1] + c[:, :1] ** 2], axis=1) / scale
        cur[:, -1] /= scale[:, 0]
        if prev is not None and np.sqrt(np.sum((cur - prev[1]) ** 2, axis=1)).max() <= SERIES_TOLERANCE:
            return terms, prev[0], rho_use
        prev = (nodes, cur)
    return terms, None, rho_use


def _horner(coef_t: np.ndarray, rho: np.ndarray, out: np.ndarray) -> None:
    """out[a, b] = Σ_k coef_t[k, a] coef_t[k, b] ρ_ab^k for all pairs, by Horner in ρ.

    Row blocks of the upper triangle (≤ 16384 elements, so that each block stays in cache); the
    lower triangle is the mirror image (ρ symmetric). Per term: a Hadamard product with ρ and a
    rank-1 update (a scalar when every variance is the same).
    """
    n, p = coef_t.shape[0] - 1, rho.shape[0]
    if p > 1 and np.all(coef_t == coef_t[:, :1]):  # one variance: scalar coefficients c_k²
        sq = coef_t[:, 0] ** 2
        out[...] = sq[n]
        for k in range(n - 1, -1, -1):
            out *= rho
            out += sq[k]
        return
    rows = max(1, 16384 // p)
    for start in range(0, p, rows):
        stop = min(p, start + rows)
        r = rho[start:stop, start:]
        acc = np.multiply.outer(coef_t[n, start:stop], coef_t[n, start:])
        term = np.empty_like(acc)
        for k in range(n - 1, -1, -1):
            acc *= r
            np.multiply.outer(coef_t[k, start:stop], coef_t[k, start:], out=term)
            acc += term
        out[start:stop, start:] = acc
        out[start:, start:stop] = acc.T


def _series_pairs(act: Activation, kernel: np.ndarray, diag: np.ndarray, derivative: bool, order: int):
    """Pair expectations by the Hermite series with the 2-D fallback (see module docstring)."""
    p = len(diag)
    values, inverse = np.unique(diag, return_inverse=True)
    if values.size > 1 and values[-1] - values[0] <= 1e-15 * values[-1]:
        # variances equal to rounding (e.g. at a fixed point): one set of coefficients, scalar Horner
        values, inverse = values[-1:], np.zeros(p, dtype=int)
    norm = np.sqrt(np.multiply.outer(diag, diag))
    rho = np.divide(kernel, norm, out=np.zeros((p, p)), where=norm > 0)
    np.clip(rho, -1.0, 1.0, out=rho)
    np.fill_diagonal(rho, 0.0)  # the diagonal is a 1-D integral, filled below
    abs_rho = np.abs(rho)
    rho_max = float(abs_rho.max()) if p > 1 else 0.0
    probe = np.unique(values[[0, -1]])
    funcs = [act.fn] + ([act.derivative] if derivative else [])
    out = []
    for fn in funcs:
        terms, nodes, rho_use = _plan(fn, probe, rho_max)
        n_ok = values.size
        if nodes is None:  # the largest variances are too steep: find the largest resolvable one
            lo, hi = 0, values.size - 1  # invariant: values[hi] fails; values[lo] unknown
            plan_lo = _plan(fn, values[:1], rho_max)
            if plan_lo[1] is None:
                out.append(_tensor_rule_pairs(fn, kernel, diag, order))
                continue
            while hi - lo > 1:
                mid = (lo + hi) // 2
                trial = _plan(fn, np.unique(values[[0, mid]]), rho_max)
                if trial[1] is None:
                    hi = mid
                else:
                    lo, plan_lo = mid, trial
            terms, nodes, rho_use = plan_lo
            n_ok = lo + 1
        coef, tail = hermite_coefficients(fn, values, terms, nodes)
        rel = _relative_tails(coef, tail)[:, -1]  # T_N/⟨f²⟩ per variance
        acc = np.empty((p, p))
        _horner(np.ascontiguousarray(coef[inverse].T), rho, acc)
        np.fill_diagonal(acc, (tail[:, 0] + coef[:, 0] ** 2)[inverse])  # ⟨f²⟩ by the same 1-D rule
        # switch rule on every pair: |ρ| ≤ ρ_use and |ρ|^{N+1}√(r_a r_b) ≤ tolerance, else the 2-D rule
        log_tol = math.log(SERIES_TOLERANCE)
        if n_ok < values.size or rho_max > rho_use or (rho_max > 0 and (terms + 1) * math.log(rho_max) + math.log(
                max(float(rel.max()), 1e-300)) > log_tol):
            iu, ju = np.triu_indices(p, k=1)
            r, rr = abs_rho[iu, ju], rel[inverse]
            with np.errstate(divide="ignore"):
                bad = (r > rho_use) | ((terms + 1) * np.log(r) + 0.5 * np.log(rr[iu] * rr[ju]) > log_tol)
            if n_ok < values.size:  # pairs touching an unresolved variance
                steep = inverse >= n_ok
                bad |= steep[iu] | steep[ju]
                u, w = gauss_hermite(max(order, DEFAULT_ORDER_1D))
                rows = np.flatnonzero(steep)
                acc[rows, rows] = np.asarray(fn(np.sqrt(diag[rows])[:, None] * u), dtype=float) ** 2 @ w
            iu, ju = iu[bad], ju[bad]
            vals = expect_pair(fn, fn, diag[iu], kernel[iu, ju], diag[ju], order)
            acc[iu, ju] = vals
            acc[ju, iu] = vals
        out.append(acc)
    return out[0], (out[1] if derivative else None)


def _tensor_rule_pairs(fn, kernel: np.ndarray, diag: np.ndarray, order: int) -> np.ndarray:
    """⟨f_a f_b⟩ for all pairs by the 2-D tensor rule off the diagonal, the 1-D rule on it (§3.3)."""
    p = len(diag)
    iu, ju = np.triu_indices(p, k=1)
    out = _symmetrize(expect_pair(fn, fn, diag[iu], kernel[iu, ju], diag[ju], order), iu, ju, p)
    u, w = gauss_hermite(max(order, DEFAULT_ORDER_1D))
    np.fill_diagonal(out, np.asarray(fn(np.sqrt(diag)[:, None] * u), dtype=float) ** 2 @ w)
    return out


# ---------------------------------------------------------------- oracle


def _legendre_panels(edges: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights on consecutive panels [edges[i], edges[i+1]] (last axis)."""
    t, v = np.polynomial.legendre.leggauss(nodes)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    half = 0.5 * (hi - lo)
    x = (lo + hi) * 0.5 + half * t
    wts = half * v
    shape = x.shape[:-2] + (-1,)
    return x.reshape(shape), wts.reshape(shape)


def expect_pair_reference(
    f: Callable[[np.ndarray], np.ndarray],
    g: Callable[[np.ndarray], np.ndarray],
    k11: float,
    k12: float,
    k22: float,
    breaks: tuple[float, ...] = (0.0,),
    nodes: int = 48,
    half_width: float = 12.0,
) -> float:
    """Oracle ⟨f(z_1) g(z_2)⟩ by a kink-aware composite Gauss–Legendre 2-D rule (slow; tests, benchmarks).

    z_1 = √k11 x, z_2 = r x + s y (r = k12/√k11, s² = (k11 k22 − k12²)/k11), x, y ~ N(0, 1) on [−H, H]² (the mass
    outside is < 1e-31). The x-panels are split at 8 fixed points, where z_1 hits a break and where
    z_2's break enters, crosses and leaves the y-window (for |ρ| → 1 the inner integral is steep
    there); the y-panels (per x node) are split where z_2 hits a break. Piecewise-analytic f, g
    (kinks or jumps at ``breaks``) then converge spectrally in ``nodes`` per panel.

    Parameters
    ----------
    f, g : callable
        Vectorised functions of z.
    k11, k12, k22 : float
        PSD 2×2 kernel entries.
    breaks : tuple of float
        z-values where f or g is not analytic (0 for kinked activations).
    nodes : int
        Gauss–Legendre nodes per panel.
    half_width : float
        H.

    Returns
    -------
    float
    """
    h = float(half_width)
    fixed = np.linspace(-h, h, 9)
    a = math.sqrt(k11)
    r = k12 / a if a > 0 else 0.0
    s = math.sqrt(max((k11 * k22 - k12 * k12) / k11, 0.0)) if a > 0 else math.sqrt(k22)  # exact 0 at ρ = ±1
    x_breaks = [b / a for b in breaks if a > 0]
    if r != 0.0 and s > 0.0:  # where g's break enters, crosses and leaves the y-window (steep in x if s ≪ |r|)
        x_breaks += [(b + t * h * s) / r for b in breaks for t in (-1.0, 0.0, 1.0)]
    x_breaks = [v for v in x_breaks if abs(v) < h]
    x, wx = _legendre_panels(np.unique(np.concatenate([fixed, x_breaks])), nodes)
    px = wx * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    fx = np.asarray(f(a * x), dtype=float)
    if s == 0.0:
        return float(np.sum(px * fx * np.asarray(g(r * x), dtype=float)))
    yb = [np.clip((b - r * x) / s, -h, h) for b in breaks]  # (Nx,) each
    edges = np.sort(np.column_stack([np.broadcast_to(fixed, (len(x), len(fixed)))] + [v[:, None] for v in yb]), axis=1)
    y, wy = _legendre_panels(edges, nodes)  # (Nx, Ny)
    py = wy * np.exp(-0.5 * y * y) / math.sqrt(2 * math.pi)
    inner = np.sum(py * np.asarray(g(r * x[:, None] + s * y), dtype=float), axis=1)
    return float(np.sum(px * fx * inner))


def pair_expectations(
    activation: str | Activation | Callable,
    kernel: np.ndarray,
    derivative: bool = True,
    method: str = "auto",
    order: int = DEFAULT_ORDER_2D,
) -> tuple[np.ndarray, np.ndarray | None]:
    """⟨σ_a σ_b⟩_K and ⟨σ'_a σ'_b⟩_K for all pairs of a P×P kernel (§3.1, §3.2, §6.2).

    Parameters
    ----------
    activation : str, Activation or callable
        See :func:`dltheory.activations.get_activation`.
    kernel : ndarray, shape (P, P)
        Symmetric positive semi-definite kernel K.
    derivative : bool
        Also return ⟨σ'σ'⟩ (needed by the NTK recursion).
    method : {"auto", "closed", "series", "quadrature"}
        "auto": the registry's closed form if the activation has one, else the Hermite series
        (with its 2-D fallback, see the module docstring). "closed" and "series" force those;
        "quadrature" forces the Gauss–Hermite tensor rule (only the P(P+1)/2 upper-triangle pairs
        are evaluated).
    order : int
        Gauss–Hermite nodes per dimension of the tensor rule (the diagonal uses at least
        ``DEFAULT_ORDER_1D``). Accuracy at the default 80 [NUM]: ~1e-10 for erf/GELU at K ≲ 4,
        but only ~5e-7 for tanh at K ≈ 4 (poles of tanh at z = ±iπ/2; 300 nodes give ~1e-10).
        Use :func:`expect_pair_with_error` to estimate it.

    Returns
    -------
    ss : ndarray, shape (P, P)
        ⟨σ(z_a) σ(z_b)⟩_K.
    dd : ndarray, shape (P, P) or None
        ⟨σ'(z_a) σ'(z_b)⟩_K (None unless ``derivative``).
    """
    act = get_activation(activation)
    kernel = check_kernel_matrix(kernel)  # real, finite, symmetric, PSD (tolerances in effective.validation)
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or not np.all(np.isfinite(kernel)):
        raise DLTheoryError(f"kernel: expected a finite square (P, P) array, got shape {kernel.shape}")
    if method not in ("auto", "closed", "series", "quadrature"):
        raise DLTheoryError(f"method={method!r}: accepted 'auto', 'closed', 'series', 'quadrature'")
    order = _check_order(order)
    diag = np.diag(kernel)
    if np.any(diag < 0):
        raise DLTheoryError("kernel: diagonal (variances) must be >= 0")
    if method == "closed" or (method == "auto" and act.kernel is not None):
        if act.kernel is None:
            raise DLTheoryError(f"activation {act.name!r} has no closed form; use method='series' or 'quadrature'")
        return act.kernel(diag[:, None], kernel, diag[None, :], derivative)
    if method in ("auto", "series"):
        return _series_pairs(act, kernel, diag, derivative, order)
    # tensor rule off the diagonal; the diagonal is a 1-D integral (>= DEFAULT_ORDER_1D nodes)
    ss = _tensor_rule_pairs(act.fn, kernel, diag, order)
    return ss, (_tensor_rule_pairs(act.derivative, kernel, diag, order) if derivative else None)


def _symmetrize(vals: np.ndarray, iu: np.ndarray, ju: np.ndarray, p: int) -> np.ndarray:
    out = np.empty((p, p))
    out[iu, ju] = vals
    out[ju, iu] = vals
    return out


# ---------------------------------------------------------------- single input (§3.1, §3.4, §4.1)


def single_moments(
    activation: str | Activation | Callable, k: np.ndarray | float, order: int = DEFAULT_ORDER_1D
) -> dict[str, np.ndarray]:
    """Single-input moments at variance K (§3.1, §3.2, §4.1).

    Parameters
    ----------
    activation : str, Activation or callable
    k : array_like, shape (...)
        Variances K ≥ 0.
    order : int
        Gauss–Hermite nodes (ignored where §3.2 closed forms exist).

    Returns
    -------
    dict of ndarray, each shape (...)
        ``"sigma2"`` = g(K) = ⟨σ²⟩, ``"dsigma2"`` = ⟨σ'²⟩, ``"sigma4"`` = ⟨σ⁴⟩,
        ``"g_prime"`` = g'(K) (§3.4 identity).
    """
    act = get_activation(activation)
    k = _as_variance(k)
    if act.is_scale_invariant:
        a2, a4 = act.a2, act.a4
        return {"sigma2": a2 * k, "dsigma2": a2 + 0.0 * k, "sigma4": 3.0 * a4 * k * k, "g_prime": a2 + 0.0 * k}
    u, w = gauss_hermite(order)
    z = np.sqrt(k)[..., None] * u
    s = np.asarray(act.fn(z), dtype=float)
    d = np.asarray(act.derivative(z), dtype=float)
    s2 = s * s
    out = {"sigma2": s2 @ w, "dsigma2": (d * d) @ w, "sigma4": (s2 * s2) @ w, "g_prime": g_prime(act, k, order)}
    if act.kernel is not None:
        ss, dd = act.kernel(k, k, k, True)
        out["sigma2"], out["dsigma2"] = ss, dd
    return out


def g_prime(activation: str | Activation | Callable, k: np.ndarray | float, order: int = DEFAULT_ORDER_1D) -> np.ndarray:
    """g'(K) = dg/dK = ⟨σ²(z² − K)⟩_K / (2K²) (§3.4 [DER]); the K → 0 limit is σ'(0)².

    Evaluated in u-space as ⟨σ(√K u)² (u² − 1)⟩ / (2K), exact for closed-form classes.

    Parameters
    ----------
    activation : str, Activation or callable
    k : array_like, shape (...)
        Variances K ≥ 0.
    order : int

    Returns
    -------
    ndarray, shape (...)
    """
    act = get_activation(activation)
    k = _as_variance(k)
    if act.is_scale_invariant:
        return act.a2 + 0.0 * k
    if act.g_prime is not None:
        return act.g_prime(k)
    u, w = gauss_hermite(order)
    kk = np.where(k > 0, k, 1.0)
    z = np.sqrt(kk)[..., None] * u
    val = (np.asarray(act.fn(z), dtype=float) ** 2 * (u * u - 1.0)) @ w / (2.0 * kk)
    zero = float(np.asarray(act.derivative(np.zeros(1)), dtype=float)[0]) ** 2
    return np.where(k > 0, val, zero)


def g_second(activation: str | Activation | Callable, k: np.ndarray | float, order: int = DEFAULT_ORDER_1D) -> np.ndarray:
    """g''(K) = ⟨σ² He_4(z; K)⟩_K / (4K⁴), He_4 = z⁴ − 6Kz² + 3K² (§3.4 iterated [DER]).

    Used for half-stability, f''(K*) = C_W g''(K*) (§4.2). Requires K > 0.

    Parameters
    ----------
    activation : str, Activation or callable
    k : array_like, shape (...)
        Variances K > 0.
    order : int

    Returns
    -------
    ndarray, shape (...)
    """
    act = get_activation(activation)
    k = _as_variance(k)
    if np.any(k <= 0):
        raise DLTheoryError("k: g'' needs variances > 0")
    if act.is_scale_invariant:
        return 0.0 * k
    u, w = gauss_hermite(order)
    z = np.sqrt(k)[..., None] * u
    he4 = u**4 - 6.0 * u * u + 3.0
    return (np.asarray(act.fn(z), dtype=float) ** 2 * he4) @ w / (4.0 * k * k)
