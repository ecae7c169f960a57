"""Feature-learning measurements over a training run (pure NumPy, float64).

Spec richness.md §10 (definitions) and §9 (predicted width scalings). Networks are given by their
*effective* weights ``g_l W_l`` (what the forward pass multiplies by), so every function is
gauge-invariant. MLP conventions: ``h_l = W_l a_{l-1}`` (pre-activations, no biases),
``a_l = phi(h_l)``, ``a_0 = x``, output ``f = h_L``. ``phi`` is any name of the one registry
:mod:`dltheory.activations`; the default ``"relu*sqrt2"`` is √2·ReLU (E phi(h)² = E h², the ``mupify``
convention, §5), and ``"relu"`` is the plain ReLU.
"""

from __future__ import annotations

import numpy as np

from dltheory.activations import get_activation
from dltheory.errors import require

__all__ = ["cka", "coordinate_size", "kernel_alignment", "kernel_target_alignment", "mlp_ntk", "mlp_preactivations",
           "relative_change", "relative_ntk_change", "relative_weight_change", "representation_change",
           "update_alignment"]

def mlp_preactivations(weights: list[np.ndarray], x: np.ndarray,
                       activation: str = "relu*sqrt2") -> list[np.ndarray]:
    """Pre-activations ``[h_1, ..., h_L]`` of an MLP; ``h_l`` has shape (m, n_l), ``h_L`` is the output.

    Parameters
    ----------
    weights : list of ndarray, shapes (n_l, n_{l-1})
        Effective weights ``g_l W_l``.
    x : ndarray, shape (m, n_0)
    activation : str
        Registry name (:func:`dltheory.activations.get_activation`); default √2·ReLU.
    """
    phi = get_activation(activation).fn
    hs, a = [], np.asarray(x, dtype=np.float64)
    for i, w in enumerate(weights):
        h = a @ np.asarray(w).T
        hs.append(h)
        if i < len(weights) - 1:
            a = phi(h)
    return hs


def mlp_ntk(weights: list[np.ndarray], eff_lrs: list[float], x: np.ndarray,
            activation: str = "relu*sqrt2") -> np.ndarray:
    """LR-weighted empirical NTK, traced over outputs (§10 item 1, Jacobian-free [DER]).

    ``Theta(x, x') = sum_k sum_l lambda_l <delta^k_l(x), delta^k_l(x')> <a_{l-1}(x), a_{l-1}(x')>`` with
    ``delta^k_l = d f_k / d h_l`` and ``lambda_l = eta_l g_l^2`` the effective learning rate.

    Returns
    -------
    ndarray, shape (m, m)
    """
    require(len(eff_lrs) == len(weights), "eff_lrs must have one entry per layer")
    act = get_activation(activation)
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    hs = mlp_preactivations(weights, x, activation)
    acts = [np.asarray(x, dtype=np.float64)] + [act.fn(h) for h in hs[:-1]]
    m, k = x.shape[0], hs[-1].shape[1]
    delta = np.broadcast_to(np.eye(k)[:, None, :], (k, m, k))  # (k, m, n_L): d f_k / d h_L
    theta = np.zeros((m, m))
    for layer in range(len(weights) - 1, -1, -1):
        flat = np.transpose(delta, (1, 0, 2)).reshape(m, -1)  # (m, k * n_l)
        dd = flat @ flat.T
        theta += eff_lrs[layer] * dd * (acts[layer] @ acts[layer].T)
        if layer > 0:
            delta = (delta @ weights[layer]) * act.derivative(hs[layer - 1])[None]
    return theta


def relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """``||after - before||_F / ||before||_F``."""
    return float(np.linalg.norm(np.asarray(after) - before) / np.linalg.norm(before))


def relative_ntk_change(theta0: np.ndarray, theta_t: np.ndarray) -> float:
    """``||Theta_t - Theta_0||_F / ||Theta_0||_F`` (§10 item 2; Lee et al. 2019)."""
    return relative_change(theta0, theta_t)


def kernel_alignment(k1: np.ndarray, k2: np.ndarray) -> float:
    """``<K1, K2>_F / (||K1||_F ||K2||_F)`` (§10 item 3; Cristianini et al.)."""
    return float(np.sum(k1 * k2) / (np.linalg.norm(k1) * np.linalg.norm(k2)))


def _centre(k: np.ndarray) -> np.ndarray:
    return k - k.mean(0, keepdims=True) - k.mean(1, keepdims=True) + k.mean()


def cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of feature matrices ``x`` (m, p) and ``y`` (m, q) (§10 item 4; Kornblith et al.)."""
    require(x.shape[0] == y.shape[0], "x and y need the same number of rows (probe inputs)")
    xc, yc = x - x.mean(0), y - y.mean(0)
    num = np.linalg.norm(yc.T @ xc) ** 2
    return float(num / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)))


def kernel_target_alignment(k: np.ndarray, y: np.ndarray, centered: bool = True) -> float:
    """``A(K, Y Y^T)``, centred by default (§10 item 5); ``y`` shape (m, c) targets (e.g. one-hot)."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    ky = y @ y.T
    if centered:
        k, ky = _centre(k), _centre(ky)
    return kernel_alignment(k, ky)


def relative_weight_change(w0: np.ndarray, w1: np.ndarray, norm: str = "fro") -> float:
    """``||W1 - W0|| / ||W0||`` on effective weights, Frobenius (``"fro"``) or spectral (``"spectral"``)."""
    require(norm in ("fro", "spectral"), f"norm must be 'fro' or 'spectral'; got {norm!r}")
    if norm == "fro":
        return relative_change(w0, w1)
    return float(np.linalg.norm(w1 - w0, 2) / np.linalg.norm(w0, 2))


def representation_change(h0: np.ndarray, h1: np.ndarray) -> float:
    """Per-example representation change ``||H1 - H0||_F / sqrt(m)`` on a probe batch (§10 item 8).

    Predicted ``~ n**r`` for hidden layers (§9); its width exponent estimates ``r``.
    """
    return float(np.linalg.norm(np.asarray(h1) - h0) / np.sqrt(len(h0)))


def coordinate_size(x: np.ndarray, kind: str = "l1") -> float:
    """Coordinate scale of activations ``x`` (m, n): ``mean |x|`` (``"l1"``, as ``mup``) or RMS (§10 item 9)."""
    require(kind in ("l1", "rms"), f"kind must be 'l1' or 'rms'; got {kind!r}")
    x = np.asarray(x)
    return float(np.abs(x).mean() if kind == "l1" else np.sqrt((x ** 2).mean()))


def update_alignment(dw: np.ndarray, a: np.ndarray) -> float:
    """``||dW A^T||_F / (||dW||_2 ||A||_F)`` for layer inputs ``A`` (m, n_in) (§10 item 10 [DER]).

    Theta(1) on training inputs, ``~ n^-1/2`` on random probes.
    """
    return float(np.linalg.norm(a @ dw.T) / (np.linalg.norm(dw, 2) * np.linalg.norm(a)))
