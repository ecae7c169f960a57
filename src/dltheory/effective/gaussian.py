"""Gaussian expectations under kernels (effective-theory.md §3.2-3.4).

Two-input expectations ⟨σ_a σ_b⟩_K and ⟨σ'_a σ'_b⟩_K are evaluated for all P×P pairs of a
kernel matrix at once: by the §3.2 closed forms [MC] when the activation has one (linear, ReLU,
leaky ReLU, erf, sin), by a semi-analytic 1-D rule for GELU [DER], and otherwise by the
probabilists' Gauss–Hermite tensor rule after z = chol(K) u (§3.3 [NUM]), chunked over pairs so
that memory stays bounded. Single-input moments ⟨σ²⟩, ⟨σ'²⟩, ⟨σ⁴⟩ and g'(K), g''(K) use the
1-D rule with the derivative (heat-equation) identities of §3.4 [DER], which need no σ''.

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
    "gauss_hermite",
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


# ---------------------------------------------------------------- closed forms (§3.2)


def _closed_pairs(act: Activation, k11: np.ndarray, k12: np.ndarray, k22: np.ndarray, derivative: bool):
    """§3.2 closed forms, elementwise; returns (⟨σσ⟩, ⟨σ'σ'⟩ or None)."""
    if act.closed_form == "scale_invariant":
        ap, am = act.slopes  # type: ignore[misc]
        norm = np.sqrt(k11 * k22)
        rho = np.divide(k12, norm, out=np.ones(np.broadcast(k12, norm).shape), where=norm > 0)
        np.clip(rho, -1.0, 1.0, out=rho)
        pi_minus_psi = math.pi - np.arccos(rho)
        sin_psi = np.sqrt(np.maximum(1.0 - rho * rho, 0.0))  # sin ψ, cos ψ = ρ (no sin/cos calls)
        c = (ap - am) ** 2
        bracket = sin_psi
        bracket += pi_minus_psi * rho
        bracket *= norm
        ss = bracket
        ss *= c / (2.0 * math.pi)
        if ap * am != 0.0:
            ss += ap * am * k12
        dd = ap * am + (c / (2.0 * math.pi)) * pi_minus_psi if derivative else None
        return ss, dd
    if act.closed_form == "erf":
        d = (1.0 + 2.0 * k11) * (1.0 + 2.0 * k22)
        ss = (2.0 / math.pi) * np.arcsin(np.clip(2.0 * k12 / np.sqrt(d), -1.0, 1.0))
        dd = (4.0 / math.pi) / np.sqrt(d - 4.0 * k12 * k12) if derivative else None
        return ss, dd
    if act.closed_form == "sin":
        m = 0.5 * (k11 + k22)
        ss = 0.5 * (np.exp(k12 - m) - np.exp(-k12 - m))
        dd = 0.5 * (np.exp(k12 - m) + np.exp(-k12 - m)) if derivative else None
        return ss, dd
    raise DLTheoryError(f"activation {act.name!r} has no closed form; use method='quadrature'")


def _smoothed_pairs(act: Activation, diag, iu, ju, kernel, derivative: bool, order: int):
    """Semi-analytic rule: integrate z2 | z1 exactly via ``act.smoothed`` and z1 by Gauss–Hermite [DER].

    z1 = √K_aa u, z2 | z1 ~ N(r u, s²) with r = K_ab/√K_aa, s² = K_bb − r²; σ(z1), σ'(z1) are
    evaluated once per input, the smoothed factor once per (pair, node). With a reflection
    constant c (σ(z) − σ(−z) = cz) only the positive nodes are needed [DER]:
    E_{−m}σ = E_mσ − cm and E_{−m}σ' = c − E_mσ'.
    """
    u, w = gauss_hermite(order)
    a = np.sqrt(diag)
    f1 = np.asarray(act.fn(a[:, None] * u), dtype=float)  # (P, N)
    d1 = np.asarray(act.derivative(a[:, None] * u), dtype=float) if derivative else None
    _, r, s = _cholesky_parts(diag[iu], kernel[iu, ju], diag[ju])
    v = s * s
    refl = act.reflection
    half = refl is not None and len(u) % 2 == 0
    if half:
        h = len(u) // 2
        u_pos, w_pos = u[h:], w[h:]  # nodes are sorted and symmetric: u[:h] = −u[h:][::-1]
        f_neg = f1[:, :h][:, ::-1]
        f_coef, f_shift = f1[:, h:] + f_neg, refl * ((f_neg * u_pos) @ w_pos)  # (P, h), (P,)
        if derivative:
            d_neg = d1[:, :h][:, ::-1]  # type: ignore[index]
            d_coef, d_shift = d1[:, h:] - d_neg, refl * (d_neg @ w_pos)  # type: ignore[index]
        u, w = u_pos, w_pos
    else:
        f_coef, f_shift = f1, np.zeros(len(diag))
        if derivative:
            d_coef, d_shift = d1, np.zeros(len(diag))
    ss = np.empty(iu.shape)
    dd = np.empty(iu.shape) if derivative else None
    chunk = max(1, _CHUNK_ELEMENTS // len(u))
    for start in range(0, iu.size, chunk):
        sl = slice(start, start + chunk)
        rows = iu[sl]
        m_fn, m_der = act.smoothed(r[sl, None] * u, v[sl, None])  # type: ignore[misc]
        ss[sl] = np.einsum("cn,cn,n->c", f_coef[rows], m_fn, w) - r[sl] * f_shift[rows]
        if derivative:
            dd[sl] = np.einsum("cn,cn,n->c", d_coef[rows], m_der, w) + d_shift[rows]  # type: ignore[index]
    return ss, dd


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
    method : {"auto", "closed", "quadrature"}
        "auto": §3.2 closed form if available, else the GELU semi-analytic rule, else the
        Gauss–Hermite tensor rule. "quadrature" forces the tensor rule (only the P(P+1)/2
        upper-triangle pairs are evaluated).
    order : int
        Gauss–Hermite nodes per dimension of the tensor rule (the diagonal and the 1-D GELU rule
        use at least ``DEFAULT_ORDER_1D``). Accuracy at the default 80 [NUM]: ~1e-10 for erf/GELU
        at K ≲ 4, but only ~5e-7 for tanh at K ≈ 4 (poles of tanh at z = ±iπ/2; 300 nodes give
        ~1e-10). Use :func:`expect_pair_with_error` to estimate it.

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
    if method not in ("auto", "closed", "quadrature"):
        raise DLTheoryError(f"method={method!r}: accepted 'auto', 'closed', 'quadrature'")
    order = _check_order(order)
    diag = np.diag(kernel)
    if np.any(diag < 0):
        raise DLTheoryError("kernel: diagonal (variances) must be >= 0")
    if method == "closed" or (method == "auto" and act.closed_form is not None):
        return _closed_pairs(act, diag[:, None], kernel, diag[None, :], derivative)
    p = kernel.shape[0]
    if method == "auto" and act.smoothed is not None:
        iu, ju = np.triu_indices(p)
        ss_t, dd_t = _smoothed_pairs(act, diag, iu, ju, kernel, derivative, max(order, DEFAULT_ORDER_1D))
        return _symmetrize(ss_t, iu, ju, p), (_symmetrize(dd_t, iu, ju, p) if derivative else None)
    # tensor rule off the diagonal; the diagonal is a 1-D integral (>= DEFAULT_ORDER_1D nodes)
    iu, ju = np.triu_indices(p, k=1)
    k11, k12, k22 = diag[iu], kernel[iu, ju], diag[ju]
    u, w = gauss_hermite(max(order, DEFAULT_ORDER_1D))
    zd = np.sqrt(diag)[:, None] * u
    ss = _symmetrize(expect_pair(act.fn, act.fn, k11, k12, k22, order), iu, ju, p)
    np.fill_diagonal(ss, np.asarray(act.fn(zd), dtype=float) ** 2 @ w)
    if not derivative:
        return ss, None
    dd = _symmetrize(expect_pair(act.derivative, act.derivative, k11, k12, k22, order), iu, ju, p)
    np.fill_diagonal(dd, np.asarray(act.derivative(zd), dtype=float) ** 2 @ w)
    return ss, dd


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
    if act.closed_form in ("erf", "sin"):
        ss, dd = _closed_pairs(act, k, k, k, True)
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
    if act.closed_form == "erf":
        return 4.0 / (math.pi * (1.0 + 2.0 * k) * np.sqrt(1.0 + 4.0 * k))
    if act.closed_form == "sin":
        return np.exp(-2.0 * k)
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
