"""Train an ensemble of identically shaped networks as ONE vmapped computation.

``E`` networks with the same architecture (different initializations, or different learning
rates) are stacked into one dict of tensors with a leading ensemble axis (``torch.func``'s
``stack_module_state``), and every SGD/Adam step is one ``vmap(grad(...))`` call. Learning rates
are per parameter tensor (``lr_multipliers``, the way a parametrization such as μP assigns one
learning rate per layer) and may differ per member (a learning-rate sweep is one ensemble).

All members see the same batches (one explicit :class:`torch.Generator` draws the minibatch
order), so an ensemble of seeds differs only in its initializations. :func:`train_sequential`
is the plain one-model-at-a-time baseline with ``torch.optim``, used by benchmarks and tests.

Conventions
-----------
* ``loss="mse"``: ``0.5 * mean_over_examples(sum_over_outputs (f - y)^2)``; targets float,
  shape (n, k). ``loss="cross_entropy"``: mean cross-entropy; targets integer labels, shape (n,).
* SGD is PyTorch's: ``buf = momentum * buf + (grad + weight_decay * p)``; ``p -= lr * buf``.
* Adam is PyTorch's (bias-corrected, coupled L2 weight decay).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from dltheory.errors import require

__all__ = ["EnsembleTrainResult", "ensemble_forward", "stack_models", "train_ensemble", "train_sequential",
           "unstack"]

_OPTIMIZERS = ("sgd", "adam")
_LOSSES = ("mse", "cross_entropy")


@dataclass
class EnsembleTrainResult:
    """Result of :func:`train_ensemble`.

    Attributes
    ----------
    params : dict of str to Tensor, each shape (E, ...)
        Final stacked parameters.
    losses : Tensor, shape (steps, E)
        Training loss of each member on the batch of each step, before that step's update.
    """

    params: dict[str, torch.Tensor]
    losses: torch.Tensor


def stack_models(models: Sequence[nn.Module]) -> tuple[nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Stack ``models`` (same architecture) into ``(template, params, buffers)``.

    ``template`` is a parameter-free copy on the ``meta`` device used only for its ``forward``;
    ``params`` and ``buffers`` map names to tensors of shape (E, ...), detached copies.
    """
    require(len(models) >= 1, "models must be a non-empty sequence of nn.Module")
    names = [tuple(n for n, _ in m.named_parameters()) for m in models]
    require(all(n == names[0] for n in names), "all models must have the same parameter names and shapes")
    params, buffers = stack_module_state(list(models))
    params = {k: v.detach().clone() for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    template = copy.deepcopy(models[0]).to("meta")
    return template, params, buffers


def unstack(params: Mapping[str, torch.Tensor], index: int) -> dict[str, torch.Tensor]:
    """Parameters of member ``index`` (a state dict slice)."""
    return {k: v[index] for k, v in params.items()}


def ensemble_forward(template: nn.Module, params, buffers, x: torch.Tensor, **kwargs) -> torch.Tensor:
    """Outputs of all members on the shared input ``x``: shape (E, n, ...).

    Extra ``kwargs`` are passed to ``template.forward`` (e.g. a flag that returns features).
    """
    def one(p, b):
        return functional_call(template, (p, b), (x,), kwargs)

    return vmap(one)(dict(params), dict(buffers or {}))


def _loss_fn(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if kind == "mse":
        return lambda out, y: 0.5 * ((out - y) ** 2).sum(-1).mean()
    return lambda out, y: nn.functional.cross_entropy(out, y)


def _as_member_tensor(value, n_members: int, like: torch.Tensor, what: str) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=like.dtype)
    require(t.ndim == 0 or tuple(t.shape) == (n_members,),
            f"{what} must be a float or a tensor of shape ({n_members},); got shape {tuple(t.shape)}")
    return t.expand(n_members).clone()


def _check_common(optimizer: str, loss: str, steps: int, batch_size, n: int) -> None:
    require(optimizer in _OPTIMIZERS, f"optimizer must be one of {_OPTIMIZERS}; got {optimizer!r}")
    require(loss in _LOSSES, f"loss must be one of {_LOSSES}; got {loss!r}")
    require(isinstance(steps, int) and steps >= 0, f"steps must be a non-negative int; got {steps!r}")
    require(batch_size is None or (isinstance(batch_size, int) and 1 <= batch_size <= n),
            f"batch_size must be None (full batch) or an int in [1, {n}]; got {batch_size!r}")


def _batches(n: int, batch_size: int | None, steps: int, generator: torch.Generator | None):
    """Indices of each step's batch: epochs of a random permutation (None = full batch)."""
    if batch_size is None:
        for _ in range(steps):
            yield None
        return
    require(generator is not None, "minibatch training needs an explicit torch.Generator (generator=)")
    done = 0
    while done < steps:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            if done == steps:
                return
            yield perm[start:start + batch_size]
            done += 1


def train_ensemble(template: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, *,
                   steps: int, lr=0.1, lr_multipliers: Mapping[str, object] | None = None,
                   optimizer: str = "sgd", momentum: float = 0.0, weight_decay: float = 0.0,
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, loss: str = "mse",
                   batch_size: int | None = None, generator: torch.Generator | None = None,
                   buffers: Mapping[str, torch.Tensor] | None = None, center: bool = False,
                   callback: Callable[[int, dict[str, torch.Tensor]], None] | None = None) -> EnsembleTrainResult:
    """Train E stacked networks for ``steps`` steps as one vmapped computation.

    Parameters
    ----------
    template : nn.Module
        Architecture (e.g. from :func:`stack_models`); only its ``forward`` is used.
    params : dict of str to Tensor, shape (E, ...)
        Stacked initial parameters (not modified; a trained copy is returned).
    x : Tensor, shape (n, ...)
        Training inputs, shared by all members.
    y : Tensor, shape (n, k) float (mse) or (n,) int64 (cross_entropy)
    steps : int
    lr : float or Tensor of shape (E,)
        Base learning rate (per member if a tensor).
    lr_multipliers : dict of str to float or Tensor (E,), optional
        Per-parameter-tensor factor on ``lr`` (missing names: 1). Effective step of tensor ``p`` of
        member ``e`` is ``lr[e] * lr_multipliers[p][e]``.
    optimizer : {"sgd", "adam"}
    momentum, weight_decay : float
        SGD momentum; coupled L2 weight decay (both optimizers).
    betas, eps : Adam's constants.
    loss : {"mse", "cross_entropy"}
    batch_size : int or None
        None = full batch; else epochs of random permutations drawn from ``generator``.
    generator : torch.Generator, optional
        Required for minibatches.
    buffers : dict of str to Tensor (E, ...), optional
        Stacked buffers passed to ``forward`` (not trained).
    center : bool
        Train the centred model ``f(theta) - f(theta_0)`` (output 0 at init; Atanasov et al.'s
        ``CenteredModel``, Chizat–Bach's centring), e.g. so that small-width initial outputs do not
        bias width-scaling measurements.
    callback : callable(step, params), optional
        Called at step 0 (initial parameters) and after each update with the current stacked
        parameters (do not modify them in place).

    Returns
    -------
    EnsembleTrainResult
    """
    _check_common(optimizer, loss, steps, batch_size, len(x))
    params = {k: v.detach().clone() for k, v in params.items()}
    require(len(params) >= 1, "params must hold at least one tensor")
    first = next(iter(params.values()))
    n_members = first.shape[0]
    unknown = sorted(set(lr_multipliers or {}) - set(params))
    require(not unknown, f"lr_multipliers names unknown parameters {unknown}; known: {sorted(params)}")
    lr_t = _as_member_tensor(lr, n_members, first, "lr")
    step_size = {}
    for name, p in params.items():
        mult = _as_member_tensor((lr_multipliers or {}).get(name, 1.0), n_members, p, f"lr_multipliers[{name!r}]")
        step_size[name] = (lr_t * mult).reshape((n_members,) + (1,) * (p.ndim - 1))
    buffers = dict(buffers or {})
    loss_of = _loss_fn(loss)

    def member_loss(p, f0b, b, xb, yb):
        out = functional_call(template, (p, b), (xb,))
        return loss_of(out if f0b is None else out - f0b, yb)

    grad_fn = vmap(grad_and_value(member_loss), in_dims=(0, 0 if center else None, 0, None, None))
    with torch.no_grad():  # initial outputs on all of x, computed once: (E, n, k)
        f0 = ensemble_forward(template, params, buffers, x) if center else None
    state1 = {k: torch.zeros_like(v) for k, v in params.items()}
    state2 = {k: torch.zeros_like(v) for k, v in params.items()} if optimizer == "adam" else None
    losses = torch.empty((steps, n_members), dtype=first.dtype)
    if callback is not None:
        callback(0, params)
    for t, idx in enumerate(_batches(len(x), batch_size, steps, generator)):
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        f0b = None if f0 is None else (f0 if idx is None else f0[:, idx])
        grads, value = grad_fn(params, f0b, buffers, xb, yb)
        losses[t] = value.detach()
        with torch.no_grad():
            for k, p in params.items():
                g = grads[k] if weight_decay == 0.0 else grads[k] + weight_decay * p
                if optimizer == "sgd":
                    if momentum != 0.0:
                        g = state1[k].mul_(momentum).add_(g)
                    p.addcmul_(step_size[k], g, value=-1.0)
                else:
                    m = state1[k].mul_(betas[0]).add_(g, alpha=1 - betas[0])
                    v = state2[k].mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                    m_hat = m / (1 - betas[0] ** (t + 1))
                    v_hat = v / (1 - betas[1] ** (t + 1))
                    p.addcmul_(step_size[k], m_hat / (v_hat.sqrt() + eps), value=-1.0)
        if callback is not None:
            callback(t + 1, params)
    return EnsembleTrainResult(params=params, losses=losses)


def train_sequential(models: Sequence[nn.Module], x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float = 0.1,
                     lr_multipliers: Mapping[str, float] | None = None, optimizer: str = "sgd",
                     momentum: float = 0.0, weight_decay: float = 0.0, loss: str = "mse",
                     batch_size: int | None = None, generator_seed: int | None = None) -> torch.Tensor:
    """Baseline: train each model in turn with ``torch.optim`` (one param group per tensor).

    Trains ``models`` in place. Every model sees the same batch sequence (a fresh
    ``torch.Generator`` seeded with ``generator_seed`` per model), matching :func:`train_ensemble`
    with ``generator=torch.Generator().manual_seed(generator_seed)``.

    Returns
    -------
    Tensor, shape (steps, E)
        Loss per step and model, before each update.
    """
    _check_common(optimizer, loss, steps, batch_size, len(x))
    loss_of = _loss_fn(loss)
    out = torch.empty((steps, len(models)), dtype=x.dtype if x.is_floating_point() else torch.float32)
    for e, model in enumerate(models):
        groups = [{"params": [p], "lr": lr * float((lr_multipliers or {}).get(name, 1.0))}
                  for name, p in model.named_parameters()]
        opt = (torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay) if optimizer == "sgd"
               else torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay))
        gen = None if generator_seed is None else torch.Generator().manual_seed(generator_seed)
        for t, idx in enumerate(_batches(len(x), batch_size, steps, gen)):
            xb, yb = (x, y) if idx is None else (x[idx], y[idx])
            opt.zero_grad(set_to_none=True)
            value = loss_of(model(xb), yb)
            value.backward()
            opt.step()
            out[t, e] = value.detach()
    return out
