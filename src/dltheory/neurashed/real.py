"""Real-network counterparts of the neurashed measurements (neurashed.md §11.1–11.2).

Torch lives here because training is the point. Every function takes an explicit
``torch.Generator``; kernels are computed in float64.

- §11.1 He & Su protocol: a two-layer scalar-output network f(x) = vᵀφ(Wx + b) + c (ReLU, or the
  identity ``"linear"`` as the linear control; any name of :mod:`dltheory.activations` is accepted)
  trained by SGD on MSE; its gradient kernel
  S_ker(x, x′) = ⟨∇f(x), ∇f(x′)⟩ = φ(h)·φ(h′) + (xᵀx′ + 1) Σ_k v_k² φ′(h_k) φ′(h′_k) + 1 in closed
  form (checked against autograd in the tests).
- §11.2 noisy-label memorization: a one-hidden-layer ReLU MLP trained with Adam on cross-entropy,
  recording per-example first-fit epochs and clean test accuracy per epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dltheory.activations import resolve_torch_activation
from dltheory.errors import require
from dltheory.nets.threads import limit_threads

__all__ = ["TwoLayerParams", "init_two_layer", "two_layer_forward", "two_layer_kernel", "autograd_kernel",
           "train_two_layer", "two_layer_relative_similarity", "training_loss", "he_su_task", "he_su_digits", "MemorizationRecord", "train_memorization"]

LOSSES = ("mse", "bce")


def _loss(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """(f − y)² (He & Su) or binary cross-entropy on the sigmoid of f, averaged."""
    if loss == "mse":
        return ((f - y) ** 2).mean()
    return torch.nn.functional.binary_cross_entropy_with_logits(f, y)


@dataclass
class TwoLayerParams:
    """Parameters of f(x) = vᵀφ(Wx + b) + c: W (m, d), b (m,), v (m,), c (scalar tensor)."""

    W: torch.Tensor
    b: torch.Tensor
    v: torch.Tensor
    c: torch.Tensor

    def tensors(self) -> list[torch.Tensor]:
        return [self.W, self.b, self.v, self.c]

    def clone(self) -> TwoLayerParams:
        return TwoLayerParams(*(t.detach().clone() for t in self.tensors()))


def init_two_layer(d: int, width: int, generator: torch.Generator, dtype=torch.float32) -> TwoLayerParams:
    """PyTorch's default ``nn.Linear`` initialization, U(±1/√fan_in), drawn from ``generator``."""
    require(d >= 1 and width >= 1, f"d and width must be >= 1; got {d}, {width}")

    def u(shape, fan_in):
        return (torch.rand(shape, generator=generator, dtype=dtype) * 2 - 1) / math.sqrt(fan_in)

    return TwoLayerParams(u((width, d), d), u((width,), d), u((width,), width), u((), width))


def two_layer_forward(p: TwoLayerParams, x: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """f(x), shape (n,); ``activation`` is a registry name (:mod:`dltheory.activations`)."""
    return resolve_torch_activation(activation).fn(x @ p.W.T + p.b) @ p.v + p.c


def training_loss(p: TwoLayerParams, x: np.ndarray, y: np.ndarray, activation: str = "relu",
                  loss: str = "mse") -> float:
    """Mean training loss (MSE of f, or BCE of sigmoid(f)) over ``x``."""
    with torch.no_grad():
        f = two_layer_forward(p, torch.as_tensor(np.asarray(x, np.float32)), activation)
        return float(_loss(f, torch.as_tensor(np.asarray(y, np.float32)), loss))


def two_layer_kernel(p: TwoLayerParams, x: np.ndarray, activation: str = "relu") -> np.ndarray:
    """Closed-form gradient kernel ⟨∇f(x_i), ∇f(x_j)⟩ (n, n), float64 (§11.1)."""
    act = resolve_torch_activation(activation)
    W, b, v = (t.detach().double() for t in (p.W, p.b, p.v))
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    h = xt @ W.T + b
    phi, dphi = act.fn(h), act.derivative(h)
    dv = dphi * v
    k = phi @ phi.T + (xt @ xt.T + 1.0) * (dv @ dv.T) + 1.0
    return k.numpy()


def autograd_kernel(p: TwoLayerParams, x: np.ndarray, activation: str = "relu") -> np.ndarray:
    """The same kernel from per-example gradients (``torch.func``: vmap over jacrev), float64."""
    from torch.func import jacrev, vmap

    params = {k: t.detach().double() for k, t in zip("Wbvc", p.tensors())}
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))

    def f(prm, xi):
        return two_layer_forward(TwoLayerParams(prm["W"], prm["b"], prm["v"], prm["c"]), xi[None], activation)[0]

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, xt)
    g = torch.cat([jac[k].reshape(len(xt), -1) for k in "Wbvc"], dim=1)
    return (g @ g.T).numpy()


def train_two_layer(x: np.ndarray, y: np.ndarray, *, width: int, activation: str = "relu", lr: float = 3e-3,
                    epochs: int = 200, batch_size: int = 50, checkpoints=None, loss: str = "mse",
                    generator: torch.Generator) -> tuple[list[int], list[TwoLayerParams]]:
    """SGD on the MSE (f(x) − y)² (He & Su) or, with ``loss="bce"``, on BCE of sigmoid(f).

    Returns the checkpoint epochs and parameter snapshots.

    ``checkpoints`` defaults to epoch 0 plus 11 equally spaced epochs (as in LANTK). Runs on one torch
    and BLAS thread (:func:`dltheory.nets.threads.limit_threads`).
    """
    resolve_torch_activation(activation)  # validate the name before training
    require(lr > 0 and epochs >= 1 and batch_size >= 1, "lr > 0, epochs >= 1 and batch_size >= 1 are required")
    require(loss in LOSSES, f"loss must be one of {LOSSES}; got {loss!r}")
    with limit_threads():  # tiny products: one thread is fastest (and not slowed by a loaded machine)
        ckpts = sorted(set(np.linspace(0, epochs, 12).round().astype(int).tolist() if checkpoints is None
                           else checkpoints))
        xt = torch.as_tensor(np.asarray(x, np.float32))
        yt = torch.as_tensor(np.asarray(y, np.float32))
        p = init_two_layer(xt.shape[1], width, generator)
        for t in p.tensors():
            t.requires_grad_(True)
        opt = torch.optim.SGD(p.tensors(), lr=lr)
        snaps, done = [], []
        if 0 in ckpts:
            snaps.append(p.clone())
            done.append(0)
        for ep in range(1, epochs + 1):
            perm = torch.randperm(len(xt), generator=generator)
            for s in range(0, len(xt), batch_size):
                idx = perm[s:s + batch_size]
                value = _loss(two_layer_forward(p, xt[idx], activation), yt[idx], loss)
                opt.zero_grad()
                value.backward()
                opt.step()
            if ep in ckpts:
                snaps.append(p.clone())
                done.append(ep)
    return done, snaps


def two_layer_relative_similarity(p: TwoLayerParams, x: np.ndarray, y: np.ndarray, activation: str = "relu",
                                  loss: str = "mse") -> tuple[np.ndarray, int]:
    """He & Su's one-step S_rel(x_i, x_j) = |Δf(x_j)| / |Δf(x_i)| after an SGD step at x_i (§9).

    The step is on the MSE (f(x_i) − y_i)² or, with ``loss="bce"``, on BCE of sigmoid(f).

    Step size escalated from 10⁻⁶ by ×3 until |Δf(x_i)| ≥ 10⁻¹⁰ (cap 10⁴); a vanishing gradient
    gives a NaN row and is counted, never 0. Float64, shape (n, n), not symmetrized.
    """
    from dltheory.neurashed.elasticity import escalate_step

    xt = torch.as_tensor(np.asarray(x, np.float64))
    base = [t.detach().double() for t in p.tensors()]
    with torch.no_grad():
        f0 = two_layer_forward(TwoLayerParams(*base), xt, activation)
    out = np.full((len(xt), len(xt)), np.nan)
    undefined = 0
    for i in range(len(xt)):
        prm = [t.clone().requires_grad_(True) for t in base]
        yi = torch.full((1,), float(y[i]), dtype=torch.float64)
        value = _loss(two_layer_forward(TwoLayerParams(*prm), xt[i:i + 1], activation), yi, loss)
        grads = torch.autograd.grad(value, prm)
        if all(bool((g == 0).all()) for g in grads):
            undefined += 1
            continue

        def moved(eta, rows):
            with torch.no_grad():
                q = TwoLayerParams(*(a - eta * g for a, g in zip(base, grads)))
                return two_layer_forward(q, xt[rows], activation) - f0[rows]

        eta, d_self = escalate_step(lambda e: float(moved(e, slice(i, i + 1))[0]))
        if d_self == 0.0:
            undefined += 1
            continue
        out[i] = np.abs(moved(eta, slice(None)).numpy()) / abs(d_self)
    return out, undefined


def he_su_task(dataset: str = "digits", positives=(5, 8), negatives=(3, 9), *,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The He & Su binary task (§11.1): inputs in [−1, 1], targets 1 (positives) / 0, and digit labels.

    ``dataset`` is ``"digits"`` (scikit-learn's 8×8 digits, all examples of the four classes, pixels
    0–16 mapped to [−1, 1]) or ``"mnist1d"`` (the locally generated training split, divided by its
    largest absolute value; ``seed`` is the generator's seed).
    """
    require(dataset in ("digits", "mnist1d"), f"dataset must be 'digits' or 'mnist1d'; got {dataset!r}")
    require(not set(positives) & set(negatives), "positives and negatives must be disjoint digit sets")
    if dataset == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x_all, y_all = bunch.data / 8.0 - 1.0, bunch.target
    else:
        from dltheory.data import load_mnist1d

        d = load_mnist1d(seed=seed, standardize=False)
        x_all, y_all = d.x_train / np.abs(d.x_train).max(), d.y_train
    keep = np.isin(y_all, tuple(positives) + tuple(negatives))
    digit = np.asarray(y_all[keep], dtype=np.int64)
    return np.asarray(x_all[keep], np.float64), np.isin(digit, positives).astype(np.float64), digit


def he_su_digits(positives=(5, 8), negatives=(3, 9)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`he_su_task` on scikit-learn's digits."""
    return he_su_task("digits", positives, negatives)


@dataclass
class MemorizationRecord:
    """Per-epoch record of §11.2: ``fitted`` (E+1, n) bool against observed labels (row 0 = init),
    ``acc_test`` (E+1,), and ``first_fit_epoch`` (n,) (inf if never)."""

    fitted: np.ndarray
    acc_test: np.ndarray
    first_fit_epoch: np.ndarray


def train_memorization(x_train: np.ndarray, y_observed: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
                       width: int, n_classes: int, lr: float = 1e-3, batch_size: int = 64, max_epochs: int = 1000,
                       patience: int = 10, weight_decay: float = 0.0,
                       generator: torch.Generator) -> MemorizationRecord:
    """One-hidden-layer ReLU MLP, Adam, cross-entropy; stop once train accuracy is 1.0 for ``patience`` epochs.

    Runs on one torch and BLAS thread (:func:`dltheory.nets.threads.limit_threads`).
    """
    require(width >= 1 and max_epochs >= 1 and patience >= 1, "width, max_epochs and patience must be >= 1")
    with limit_threads():
        xt = torch.as_tensor(np.asarray(x_train, np.float32))
        yt = torch.as_tensor(np.asarray(y_observed, np.int64))
        xe = torch.as_tensor(np.asarray(x_test, np.float32))
        ye = np.asarray(y_test)
        d = xt.shape[1]

        def u(shape, fan_in):
            return ((torch.rand(shape, generator=generator) * 2 - 1) / math.sqrt(fan_in)).requires_grad_(True)

        W1, b1, W2, b2 = u((width, d), d), u((width,), d), u((n_classes, width), width), u((n_classes,), width)
        params = [W1, b1, W2, b2]
        net = lambda z: torch.relu(z @ W1.T + b1) @ W2.T + b2  # noqa: E731
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        fitted, acc = [], []

        def evaluate():
            with torch.no_grad():
                fitted.append((net(xt).argmax(1) == yt).numpy())
                acc.append(float((net(xe).argmax(1).numpy() == ye).mean()))

        evaluate()
        streak = 0
        for _ in range(max_epochs):
            perm = torch.randperm(len(xt), generator=generator)
            for s in range(0, len(xt), batch_size):
                idx = perm[s:s + batch_size]
                loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            evaluate()
            streak = streak + 1 if fitted[-1].all() else 0
            if streak >= patience:
                break
        f = np.vstack(fitted)
        first = np.where(f.any(axis=0), np.argmax(f, axis=0).astype(float), np.inf)
    return MemorizationRecord(f, np.array(acc), first)
