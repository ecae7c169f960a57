"""Infinite-width kernel and mean NTK of a layer-by-layer specified MLP or residual MLP.

Generalizes :func:`dltheory.effective.kernels.ntk_recursion` (effective-theory.md §3.1, §6.2) to a
network whose layers each carry their own activation σ_ℓ, initialization (C_W^(ℓ), C_b^(ℓ)),
learning-rate tensor (λ_b^(ℓ), λ_W^(ℓ)) and residual strength γ_ℓ (§8, Appendix B):

    z^(1) = b^(1) + W^(1) x,                 z^(ℓ) = γ_ℓ z^(ℓ-1) + b^(ℓ) + W^(ℓ) σ_ℓ(z^(ℓ-1))   (ℓ ≥ 2),

    K^(1)_ab = C_b^(1) + C_W^(1) x_a·x_b/n_0,
    K^(ℓ)_ab = γ_ℓ² K^(ℓ-1)_ab + C_b^(ℓ) + C_W^(ℓ) ⟨σ_a σ_b⟩_{K^(ℓ-1)}                         (§3.1, §8),
    Θ^(1)_ab = λ_b^(1) + λ_W^(1) x_a·x_b/n_0,
    Θ^(ℓ)_ab = γ_ℓ² Θ^(ℓ-1)_ab + λ_b^(ℓ) + λ_W^(ℓ) ⟨σ_a σ_b⟩ + C_W^(ℓ) ⟨σ'_a σ'_b⟩ Θ^(ℓ-1)_ab   (§6.2).

γ_ℓ = 0 everywhere reproduces :func:`~dltheory.effective.kernels.ntk_recursion` exactly. The residual
NTK recursion is derived here [DER]: dz^(ℓ)/dθ = γ dz^(ℓ-1)/dθ + W σ' dz^(ℓ-1)/dθ for earlier
parameters θ, and the cross terms γ W σ' average to zero over the fresh zero-mean W^(ℓ); the
residual kernel recursion is the multi-input form of §8's K' = γ²K + C_b + C_W g(K).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from dltheory.activations import Activation, get_activation
from dltheory.effective.gaussian import DEFAULT_ORDER_2D, pair_expectations
from dltheory.effective.kernels import per_layer
from dltheory.errors import DLTheoryError

__all__ = ["network_ntk_recursion"]

ActivationLike = str | Activation | Callable


def network_ntk_recursion(
    x: np.ndarray,
    activations: Sequence[ActivationLike | None],
    cw: float | Sequence[float],
    cb: float | Sequence[float] = 0.0,
    gamma: float | Sequence[float] = 0.0,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    ntk: bool = True,
    method: str = "auto",
    order: int = DEFAULT_ORDER_2D,
) -> tuple[np.ndarray, np.ndarray | None]:
    """NNGP kernel K^(ℓ) and mean NTK Θ^(ℓ) of a per-layer specified (residual) MLP (§3.1, §6.2, §8).

    Parameters
    ----------
    x : ndarray, shape (P, n0)
        Inputs (finite).
    activations : sequence of length L
        ``activations[l]`` is σ_{l+1}, the activation applied to z^(l) before layer l+1 (a registry
        name, an :class:`~dltheory.activations.Activation` or a NumPy callable).
        ``activations[0]`` is unused (layer 1 acts on the input) and may be ``None``. L = len(activations).
    cw : float or sequence of length L
        Weight variances C_W^(ℓ) > 0 (weights ~ C_W/n_{ℓ-1}).
    cb : float or sequence of length L
        Bias variances C_b^(ℓ) ≥ 0 (0 for bias-free layers).
    gamma : float or sequence of length L
        Residual strengths γ_ℓ (finite, any sign). A scalar sets γ_ℓ for ℓ ≥ 2 (γ_1 = 0); a
        sequence must have γ_1 = 0.
    lambda_b, lambda_w : float or sequence of length L
        Learning-rate tensor λ_b^(ℓ), λ_W^(ℓ) ≥ 0 (weights get λ_W/n_{ℓ-1}; λ_b = 0 for bias-free layers).
    ntk : bool
        Also compute Θ (needs ⟨σ'σ'⟩).
    method : {"auto", "closed", "quadrature"}
        See :func:`dltheory.effective.gaussian.pair_expectations`.
    order : int
        Gauss–Hermite nodes per dimension where quadrature is used.

    Returns
    -------
    K : ndarray, shape (L, P, P)
        ``K[l-1]`` is K^(l).
    Theta : ndarray, shape (L, P, P) or None
        ``Theta[l-1]`` is Θ^(l); None unless ``ntk``.

    Raises
    ------
    DLTheoryError
        Bad shapes, negative variances or learning rates, non-finite γ, or γ_1 ≠ 0.
    """
    try:
        depth = len(activations)
    except TypeError:
        raise DLTheoryError("activations: expected a sequence with one entry per layer") from None
    if depth < 1:
        raise DLTheoryError("activations: need at least one layer")
    acts = [None] + [get_activation(a) if a is not None else get_activation("linear") for a in activations[1:]]
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or min(x.shape) < 1 or not np.all(np.isfinite(x)):
        raise DLTheoryError(f"x: expected a finite array of shape (P, n0), got shape {x.shape}")
    cws = per_layer(cw, depth, "cw", positive=True)
    cbs = per_layer(cb, depth, "cb", positive=False)
    lbs = per_layer(lambda_b, depth, "lambda_b", positive=False)
    lws = per_layer(lambda_w, depth, "lambda_w", positive=False)
    gam = np.asarray(gamma, dtype=float)
    if gam.ndim == 0:
        gam = np.concatenate([[0.0], np.full(depth - 1, float(gam))])  # a scalar sets the blocks ℓ ≥ 2
    if gam.shape != (depth,) or not np.all(np.isfinite(gam)):
        raise DLTheoryError(f"gamma: expected a finite scalar or a sequence of length {depth}")
    if gam[0] != 0.0:
        raise DLTheoryError(f"gamma[0]={gam[0]!r}: the first layer acts on the input and has no residual term")
    gram = x @ x.T / x.shape[1]
    p = gram.shape[0]
    kern = np.empty((depth, p, p))
    kern[0] = cbs[0] + cws[0] * gram
    theta = np.empty((depth, p, p)) if ntk else None
    if ntk:
        theta[0] = lbs[0] + lws[0] * gram
    for ell in range(1, depth):
        ss, dd = pair_expectations(acts[ell], kern[ell - 1], derivative=ntk, method=method, order=order)
        g2 = gam[ell] ** 2
        kern[ell] = g2 * kern[ell - 1] + cbs[ell] + cws[ell] * ss
        if ntk:
            theta[ell] = g2 * theta[ell - 1] + lbs[ell] + lws[ell] * ss + cws[ell] * dd * theta[ell - 1]
    return kern, theta
