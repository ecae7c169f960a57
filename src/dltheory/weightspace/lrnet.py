"""Binary-synapse networks trained with the local-reparameterisation trick (LR-net), as an ensemble.

Implements weight-space.md §3.2–3.3 (Shayer, Levi & Fetaya 2018, as used by Zou & Huang 2021).
Each weight is ±1 with P(w = +1) = sigmoid(θ); μ = tanh(θ/2), v = 1 − μ². Runs are independent
seeds trained together: every tensor carries a leading run axis (equivalent to ``vmap``).
Torch is used here because training is the point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dltheory.activations import resolve_torch_activation
from dltheory.errors import require
from dltheory.weightspace.data import PCAData
from dltheory.weightspace.layout import ACTIVATION, WeightLayout, accuracy_binary

__all__ = ["LRNetEnsemble", "train_lrnet", "lr_preactivation_moments", "sample_weights", "DEEP", "SHALLOW"]

DEEP = (20, 15, 15, 10)
SHALLOW = (20, 10)


@dataclass
class LRNetEnsemble:
    """Trained logits of R independent LR-net runs.

    Attributes
    ----------
    layout : WeightLayout
    theta : list of ndarray, each shape (R, n_out, n_in), float64
    loss_history : ndarray, shape (epochs, R)
        Mean training cross-entropy per epoch and run.
    config : dict
        Training hyper-parameters and seed (provenance).
    """

    layout: WeightLayout
    theta: list[np.ndarray]
    loss_history: np.ndarray
    config: dict = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return int(self.theta[0].shape[0])

    def prob_plus(self) -> np.ndarray:
        """P(w = +1) = sigmoid(θ) in the layout of σ, shape (R, M)."""
        flat = np.concatenate([t.reshape(len(t), -1) for t in self.theta], axis=1)
        return 1.0 / (1.0 + np.exp(-flat))


def lr_preactivation_moments(theta: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean a μᵀ and variance (a∘a) vᵀ of the pre-activation under independent ±1 weights (§3.2).

    theta : (n_out, n_in); a : (batch, n_in). Returns two arrays of shape (batch, n_out).
    """
    mu = np.tanh(np.asarray(theta) / 2.0)
    return a @ mu.T, (a * a) @ (1.0 - mu * mu).T


def _act(u, n_in):
    return resolve_torch_activation(ACTIVATION).fn(u) / math.sqrt(n_in)


def train_lrnet(data: PCAData, layer_sizes: tuple[int, ...] = DEEP, n_runs: int = 8, epochs: int = 200,
                lr: float = 0.3, batch_size: int = 200, weight_decay: float = 1e-5, init_std: float = 0.1,
                seed: int = 0, n_threads: int | None = 1) -> LRNetEnsemble:
    """Train ``n_runs`` LR-nets on ``data`` (§3.2): Adam, ceil(P/batch) reshuffled batches per epoch.

    Loss per run: mean cross-entropy + (γ/2)‖θ‖², γ = ``weight_decay``; pre-activation
    z = a μᵀ + √((a∘a) vᵀ) ⊙ ε with fresh ε ~ N(0, 1) per example and unit; hidden layers
    a ← LeakyReLU₀.₁(z)/√n_in. Gradients by autograd (through the variance too).

    ``n_threads``: torch intra-op threads while training (restored afterwards; None leaves them, see
    :func:`dltheory.nets.threads.limit_threads`). The tensors are tiny, so one thread is fastest; on a
    shared machine more threads spin and can be 10× slower.
    """
    import torch

    from dltheory.nets.threads import limit_threads

    require(n_threads is None or (isinstance(n_threads, int) and n_threads >= 1),
            f"n_threads must be a positive integer; got {n_threads}")
    with limit_threads(torch_threads=n_threads, blas_threads=None):
        return _train(torch, data, layer_sizes, n_runs, epochs, lr, batch_size, weight_decay, init_std, seed)


def _train(torch, data, layer_sizes, n_runs, epochs, lr, batch_size, weight_decay, init_std, seed):
    layout = WeightLayout(tuple(layer_sizes))
    require(layout.layer_sizes[0] == data.n_features,
            f"layer_sizes[0] must equal the input dimension {data.n_features}; got {layout.layer_sizes[0]}")
    require(layout.layer_sizes[-1] >= data.n_classes,
            f"layer_sizes[-1] must be >= n_classes = {data.n_classes}; got {layout.layer_sizes[-1]}")
    for name, v in (("n_runs", n_runs), ("epochs", epochs), ("batch_size", batch_size)):
        require(isinstance(v, (int, np.integer)) and v >= 1, f"{name} must be a positive integer; got {v}")
    require(lr > 0 and weight_decay >= 0 and init_std >= 0, "lr must be > 0, weight_decay and init_std >= 0")
    gen = torch.Generator().manual_seed(int(seed))
    R, P = int(n_runs), len(data.x_train)
    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.long)
    thetas = [(init_std * torch.randn((R, o, i), generator=gen)).requires_grad_(True) for o, i in layout.shapes]
    opt = torch.optim.Adam(thetas, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    n_batches = math.ceil(P / batch_size)
    history = np.zeros((epochs, R))
    for epoch in range(epochs):
        order = torch.stack([torch.randperm(P, generator=gen) for _ in range(R)])
        for b in range(n_batches):
            idx = order[:, b * batch_size:(b + 1) * batch_size]
            a, yb = x[idx], y[idx]                      # (R, B, D), (R, B)
            for l, th in enumerate(thetas):
                mu = torch.tanh(th / 2)
                mean = torch.einsum("rbi,roi->rbo", a, mu)
                var = torch.einsum("rbi,roi->rbo", a * a, 1 - mu * mu)
                z = mean + torch.sqrt(var + 1e-12) * torch.randn(mean.shape, generator=gen)
                a = z if l == len(thetas) - 1 else _act(z, th.shape[2])
            ce = torch.nn.functional.cross_entropy(a.reshape(-1, a.shape[-1]), yb.reshape(-1),
                                                   reduction="none").reshape(R, -1).mean(1)
            reg = 0.5 * weight_decay * sum((th * th).sum(dim=(1, 2)) for th in thetas)
            opt.zero_grad()
            (ce + reg).sum().backward()
            opt.step()
            history[epoch] += ce.detach().numpy() / n_batches
    theta_np = [th.detach().double().numpy() for th in thetas]
    config = {"layer_sizes": list(layout.layer_sizes), "n_runs": R, "epochs": int(epochs), "lr": lr,
              "batch_size": int(batch_size), "weight_decay": weight_decay, "init_std": init_std,
              "seed": int(seed), "n_train": P, "data": dict(data.meta)}
    return LRNetEnsemble(layout, theta_np, history, config)


def sample_weights(ens: LRNetEnsemble, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_samples`` weight vectors per run, w = +1 with probability sigmoid(θ), independently (§3.3).

    Returns
    -------
    sigma : ndarray, shape (R * n_samples, M), int8 (±1)
    run_id : ndarray, shape (R * n_samples,), int64
    """
    require(isinstance(n_samples, (int, np.integer)) and n_samples >= 1, f"n_samples must be >= 1; got {n_samples}")
    p = ens.prob_plus()                                   # (R, M)
    u = rng.random((ens.n_runs, int(n_samples), p.shape[1]))
    sigma = np.where(u < p[:, None, :], 1, -1).astype(np.int8).reshape(-1, p.shape[1])
    run_id = np.repeat(np.arange(ens.n_runs), int(n_samples))
    return sigma, run_id


def sample_accuracy(ens: LRNetEnsemble, sigma: np.ndarray, data: PCAData) -> np.ndarray:
    """Test accuracy of each sampled network with the deterministic forward pass, shape (n,)."""
    return accuracy_binary(ens.layout, sigma, data.x_test, data.y_test)
