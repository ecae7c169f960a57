"""Infinite-width NNGP kernel and mean NTK recursions of a deep MLP (effective-theory.md §3.1, §6.2).

Inputs are validated at the entry points (real, finite; see :mod:`dltheory.effective.validation`)
and every layer's K and Θ are checked: a layer that overflows float64 is a one-line
:class:`~dltheory.errors.DLTheoryError` naming it, never ``inf`` or NaN.

Layer ℓ = 1..L (index ℓ−1 in the returned arrays) [BOOK✓: eq. (4.41); MC]:

    K^(1)_ab = C_b^(1) + C_W^(1) x_a·x_b / n_0,   K^(ℓ+1)_ab = C_b^(ℓ+1) + C_W^(ℓ+1) ⟨σ_a σ_b⟩_{K^(ℓ)},
    Θ^(1)_ab = λ_b^(1) + λ_W^(1) x_a·x_b / n_0,
    Θ^(ℓ+1)_ab = λ_b^(ℓ+1) + λ_W^(ℓ+1) ⟨σ_a σ_b⟩_{K^(ℓ)} + C_W^(ℓ+1) ⟨σ'_a σ'_b⟩_{K^(ℓ)} Θ^(ℓ)_ab   [BOOK; MC].

Pairs are vectorised (the registry's closed forms over the full P×P matrix, otherwise the
Hermite series of :func:`dltheory.effective.gaussian.pair_expectations`); the cost is linear in depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.gaussian import (
    DEFAULT_ORDER_1D,
    DEFAULT_ORDER_2D,
    gauss_hermite,
    pair_expectations,
    single_moments,
)
from dltheory.effective.validation import LayerCheck, real_array, real_scalar
from dltheory.errors import DLTheoryError

__all__ = [
    "MAX_DEPTH",
    "check_depth",
    "input_gram",
    "per_layer",
    "kernel_recursion",
    "ntk_recursion",
    "kernel_recursion_single",
    "ntk_recursion_single",
]

ActivationLike = str | Activation | Callable
MAX_DEPTH = 1_000_000


def check_depth(depth: int) -> int:
    """The number of layers L as an int in [1, ``MAX_DEPTH``] (bools rejected); DLTheoryError naming ``depth`` otherwise."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 1 <= depth <= MAX_DEPTH:
        raise DLTheoryError(f"depth={depth!r}: must be an integer in [1, {MAX_DEPTH:_}]")
    return int(depth)


def per_layer(value: float | Sequence[float] | np.ndarray, depth: int, name: str, *, positive: bool) -> np.ndarray:
    """Broadcast a scalar or length-``depth`` hyperparameter to shape (depth,) and validate it.

    Parameters
    ----------
    value : float or sequence of float
        Layer-independent scalar or one value per layer ℓ = 1..depth.
    depth : int
    name : str
        Parameter name for error messages.
    positive : bool
        Require > 0 (e.g. C_W); otherwise require >= 0 (C_b, λ).

    Returns
    -------
    ndarray, shape (depth,)
    """
    arr = real_array(value, name)
    if arr.ndim == 0:
        arr = np.full(depth, float(arr))
    if arr.shape != (depth,):
        raise DLTheoryError(f"{name}: expected a scalar or a sequence of length depth={depth}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DLTheoryError(f"{name}: values must be finite")
    if positive and np.any(arr <= 0):
        raise DLTheoryError(f"{name}: values must be > 0, got min {arr.min()}")
    if not positive and np.any(arr < 0):
        raise DLTheoryError(f"{name}: values must be >= 0, got min {arr.min()}")
    return arr


def input_gram(x: np.ndarray) -> np.ndarray:
    """The input Gram matrix x_a·x_b/n0 of finite inputs x of shape (P, n0), P, n0 >= 1; shape (P, P) (§3.1)."""
    x = real_array(x, "x")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise DLTheoryError(f"x: expected shape (P, n0) with P, n0 >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise DLTheoryError("x: entries must be finite")
    with np.errstate(over="ignore", invalid="ignore"):
        gram = (x @ x.T) / x.shape[1]
    if not np.all(np.isfinite(gram)):
        raise DLTheoryError("x: the Gram matrix x_a·x_b/n0 overflows float64; rescale the inputs")
    return gram


def kernel_recursion(
    x: np.ndarray,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    method: str = "auto",
    order: int = DEFAULT_ORDER_2D,
) -> np.ndarray:
    """NNGP kernel K^(ℓ) of an MLP for P inputs, layers ℓ = 1..depth (§3.1).

    Parameters
    ----------
    x : ndarray, shape (P, n0)
        Inputs (finite).
    depth : int
        Number of layers L ≥ 1.
    activation : str, Activation or callable
    cb, cw : float or sequence of length depth
        Bias variance C_b ≥ 0 and weight variance C_W > 0 per layer.
    method : {"auto", "closed", "series", "quadrature"}
        See :func:`dltheory.effective.gaussian.pair_expectations`.
    order : int
        Gauss–Hermite nodes per dimension where quadrature is used.

    Returns
    -------
    ndarray, shape (depth, P, P)
        ``K[l-1]`` is K^(l).
    """
    return _recursion(x, depth, activation, cb, cw, None, None, method, order)[0]


def ntk_recursion(
    x: np.ndarray,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    method: str = "auto",
    order: int = DEFAULT_ORDER_2D,
) -> tuple[np.ndarray, np.ndarray]:
    """NNGP kernel K^(ℓ) and infinite-width mean NTK Θ^(ℓ) for P inputs (§3.1, §6.2).

    Parameters
    ----------
    x : ndarray, shape (P, n0)
    depth : int
    activation : str, Activation or callable
    cb, cw : float or sequence of length depth
        C_b ≥ 0, C_W > 0.
    lambda_b, lambda_w : float or sequence of length depth
        Learning-rate tensor λ_b^(ℓ), λ_W^(ℓ) ≥ 0 (§6.1; weights get λ_W/n_{ℓ−1}).
    method, order
        See :func:`kernel_recursion`.

    Returns
    -------
    K, Theta : ndarray, each shape (depth, P, P)
    """
    return _recursion(x, depth, activation, cb, cw, lambda_b, lambda_w, method, order)  # type: ignore[return-value]


def _recursion(x, depth, activation, cb, cw, lambda_b, lambda_w, method, order):
    act = get_activation(activation)
    depth = check_depth(depth)
    gram = input_gram(x)
    cb = per_layer(cb, depth, "cb", positive=False)
    cw = per_layer(cw, depth, "cw", positive=True)
    with_ntk = lambda_b is not None
    p = gram.shape[0]
    kern = np.empty((depth, p, p))
    theta = None
    if with_ntk:
        lb = per_layer(lambda_b, depth, "lambda_b", positive=False)
        lw = per_layer(lambda_w, depth, "lambda_w", positive=False)
        theta = np.empty((depth, p, p))
    with LayerCheck(act.name, C_b=cb, C_W=cw) as check:
        kern[0] = cb[0] + cw[0] * gram
        outputs = {"kernel K": kern[0]}
        if with_ntk:
            theta[0] = lb[0] + lw[0] * gram
            outputs["NTK Θ"] = theta[0]
        check(1, **outputs)
        for ell in range(1, depth):
            check.layer = ell + 1
            ss, dd = pair_expectations(act, kern[ell - 1], derivative=with_ntk, method=method, order=order)
            kern[ell] = cb[ell] + cw[ell] * ss
            outputs = {"kernel K": kern[ell]}
            if with_ntk:
                theta[ell] = lb[ell] + lw[ell] * ss + cw[ell] * dd * theta[ell - 1]
                outputs["NTK Θ"] = theta[ell]
            check(ell + 1, **outputs)
    return kern, theta


def kernel_recursion_single(
    k1: float,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    order: int = DEFAULT_ORDER_1D,
) -> np.ndarray:
    """One-input kernel K^(ℓ+1) = C_b + C_W g(K^(ℓ)), starting from K^(1) = ``k1`` (§3.1).

    Parameters
    ----------
    k1 : float
        First-layer kernel K^(1) ≥ 0 (C_b^(1) and C_W^(1) are then unused).
    depth : int
    activation : str, Activation or callable
    cb, cw : float or sequence of length depth
    order : int
        1-D Gauss–Hermite nodes.

    Returns
    -------
    ndarray, shape (depth,)
    """
    return _single(k1, depth, activation, cb, cw, None, None, None, order)[0]


def ntk_recursion_single(
    k1: float,
    depth: int,
    activation: ActivationLike,
    cb: float | Sequence[float] = 0.0,
    cw: float | Sequence[float] = 1.0,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    theta1: float | None = None,
    order: int = DEFAULT_ORDER_1D,
) -> tuple[np.ndarray, np.ndarray]:
    """One-input K^(ℓ) and Θ^(ℓ): Θ' = λ_b + λ_W g(K) + χ_⊥ Θ, χ_⊥ = C_W⟨σ'²⟩ (§6.2).

    Parameters
    ----------
    k1 : float
        K^(1) ≥ 0.
    depth : int
    activation : str, Activation or callable
    cb, cw, lambda_b, lambda_w : float or sequence of length depth
    theta1 : float, optional
        Θ^(1) ≥ 0 (finite); default λ_b^(1) + λ_W^(1) |x|²/n_0 with |x|²/n_0 = (k1 − C_b^(1))/C_W^(1).
    order : int

    Returns
    -------
    K, Theta : ndarray, each shape (depth,)
    """
    return _single(k1, depth, activation, cb, cw, lambda_b, lambda_w, theta1, order)


def _single(k1, depth, activation, cb, cw, lambda_b, lambda_w, theta1, order):
    act = get_activation(activation)
    depth = check_depth(depth)
    k1 = real_scalar(k1, "k1")
    if k1 < 0:
        raise DLTheoryError(f"k1={k1!r}: must be finite and >= 0")
    cb = per_layer(cb, depth, "cb", positive=False)
    cw = per_layer(cw, depth, "cw", positive=True)
    with_ntk = lambda_b is not None
    kern = np.empty(depth)
    kern[0] = k1
    theta = None
    if with_ntk:
        lb = per_layer(lambda_b, depth, "lambda_b", positive=False)
        lw = per_layer(lambda_w, depth, "lambda_w", positive=False)
        theta = np.empty(depth)
        if theta1 is None:
            theta1 = lb[0] + lw[0] * (k1 - cb[0]) / cw[0]
        else:
            theta1 = real_scalar(theta1, "theta1")
            if theta1 < 0:
                raise DLTheoryError(f"theta1={theta1!r}: the first-layer NTK must be finite and >= 0")
        theta[0] = float(theta1)
    if act.kernel is not None:
        moments = lambda k: _closed_single(act, k)  # noqa: E731
    else:
        u, w = gauss_hermite(order)
        moments = lambda k: _quadrature_single(act, k, u, w, with_ntk)  # noqa: E731
    with LayerCheck(act.name, C_b=cb, C_W=cw) as check:
        check(1, **({"NTK Θ": theta[0]} if with_ntk else {}))
        for ell in range(1, depth):
            check.layer = ell + 1
            s2, d2 = moments(kern[ell - 1])
            kern[ell] = cb[ell] + cw[ell] * s2
            if with_ntk:
                theta[ell] = lb[ell] + lw[ell] * s2 + cw[ell] * d2 * theta[ell - 1]
                check(ell + 1, **{"kernel K": kern[ell], "NTK Θ": theta[ell]})
            else:
                check(ell + 1, **{"kernel K": kern[ell]})
    return kern, theta


def _closed_single(act: Activation, k: float) -> tuple[float, float]:
    m = single_moments(act, k)
    return float(m["sigma2"]), float(m["dsigma2"])


def _quadrature_single(act: Activation, k: float, u: np.ndarray, w: np.ndarray, with_ntk: bool) -> tuple[float, float]:
    z = math.sqrt(k) * u
    s2 = float(np.asarray(act.fn(z), dtype=float) ** 2 @ w)
    d2 = float(np.asarray(act.derivative(z), dtype=float) ** 2 @ w) if with_ntk else math.nan
    return s2, d2
