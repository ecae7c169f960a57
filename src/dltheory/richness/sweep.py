"""Sweeps over (width, parametrization, learning rate, seed); the seeds of one configuration train
as ONE vmapped ensemble (:func:`dltheory.nets.training.train_ensemble`).

Spec richness.md §11–12. A run records, at chosen steps, the pre-activations of every layer on a
fixed probe batch and (optionally) the effective weights ``g W``, which is all the measurements of
:mod:`dltheory.richness.measurements` need.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from dltheory.activations import torch_activation
from dltheory.errors import require
from dltheory.nets.training import stack_models, train_ensemble
from dltheory.richness.modules import lr_multipliers, mlp, scaled_layers
from dltheory.richness.parametrization import Parametrization

__all__ = ["EnsembleRun", "run_ensemble", "sweep"]


@dataclass
class EnsembleRun:
    """One configuration trained for all its members.

    Attributes
    ----------
    width : int
    param : Parametrization
    lr : ndarray, shape (E,)
        Base learning rate of each member.
    seeds : tuple of int, length E
    losses : ndarray, shape (steps, E)
    preacts : dict step -> list of ndarray (E, m, n_l)
        Pre-activations (last entry: output) on the probe batch.
    weights : dict step -> list of ndarray (E, n_l, n_{l-1})
        Effective weights ``g_l W_l`` at the steps in ``weight_steps``.
    eff_lrs : list of float
        Effective learning rate ``lr_factor * g^2`` of each layer per unit base LR (SGD), of member 0.
    """

    width: int
    param: Parametrization
    lr: np.ndarray
    seeds: tuple[int, ...]
    losses: np.ndarray
    preacts: dict[int, list[np.ndarray]] = field(default_factory=dict)
    weights: dict[int, list[np.ndarray]] = field(default_factory=dict)
    eff_lrs: list[float] = field(default_factory=list)


def _effective(template, params, buffers) -> list[torch.Tensor]:
    out = []
    for name, _ in scaled_layers(template):
        p = f"{name}." if name else ""
        w = params[p + "weight"]
        out.append(w * buffers[p + "multiplier"].reshape((-1,) + (1,) * (w.ndim - 1)))
    return out


def _preacts(ws: list[torch.Tensor], x: torch.Tensor, activation: str) -> list[torch.Tensor]:
    phi = torch_activation(activation)
    a = x.expand(ws[0].shape[0], *x.shape)
    hs = []
    for i, w in enumerate(ws):
        h = torch.einsum("emi,eoi->emo", a, w)
        hs.append(h)
        if i < len(ws) - 1:
            a = phi(h)
    return hs


def run_ensemble(sizes: Sequence[int], param: Parametrization | Sequence[Parametrization], *, seeds: Sequence[int],
                 x: np.ndarray,
                 y: np.ndarray, steps: int, lr=0.1, loss: str = "mse", activation: str = "relu*sqrt2",
                 momentum: float = 0.0, batch_size: int | None = None, batch_seed: int = 0,
                 probe: np.ndarray | None = None, record_steps: Sequence[int] = (),
                 weight_steps: Sequence[int] = (), center: bool = False,
                 dtype: torch.dtype = torch.float64) -> EnsembleRun:
    """Train ``len(seeds)`` MLPs of shape ``sizes`` in ``param`` as one vmapped ensemble.

    Parameters
    ----------
    sizes : sequence of int
        ``(d, n, ..., n, k)``; no biases.
    param : Parametrization or sequence of Parametrization (one per member)
        Members may differ in parametrization (multipliers and LR factors are per member).
    seeds : sequence of int
        Initialization seed of each member (repeats allowed, e.g. for a learning-rate sweep).
    x, y : ndarray
        Training data; ``y`` float (n, k) for ``mse``, int labels for ``cross_entropy``.
    lr : float or sequence of float (one per member)
    activation : str
        Registry name (:mod:`dltheory.activations`); default √2·ReLU (gains are explicit names).
    probe : ndarray (m, d), optional
        Inputs on which pre-activations are recorded (default: ``x``).
    record_steps, weight_steps : sequences of int
        Steps (0 = initialization) at which to record probe pre-activations / effective weights.
    center : bool
        Train the centred model ``f - f_0`` (see :func:`~dltheory.nets.training.train_ensemble`).
    """
    require(len(seeds) >= 1, "seeds must be non-empty")
    params_list = [param] * len(seeds) if isinstance(param, Parametrization) else list(param)
    require(len(params_list) == len(seeds), f"param must be one Parametrization or {len(seeds)} (one per seed)")
    models = [mlp(tuple(sizes), p, generator=torch.Generator().manual_seed(int(s)), activation=activation,
                  dtype=dtype) for p, s in zip(params_list, seeds)]
    per_model = [lr_multipliers(m) for m in models]
    mults = {k: torch.tensor([pm[k] for pm in per_model], dtype=dtype) for k in per_model[0]}
    eff_lrs = [float(m.lr_factor) * float(m.multiplier) ** 2 for _, m in scaled_layers(models[0])]
    template, params, buffers = stack_models(models)
    del models
    xt = torch.as_tensor(x, dtype=dtype)
    yt = torch.as_tensor(y, dtype=dtype if loss == "mse" else torch.int64)
    pt = xt if probe is None else torch.as_tensor(probe, dtype=dtype)
    lr_arr = np.broadcast_to(np.asarray(lr, dtype=np.float64), (len(seeds),)).copy()
    preacts, weights = {}, {}
    record, keep = set(record_steps), set(weight_steps)

    def callback(t, p):
        if t in record or t in keep:
            with torch.no_grad():
                ws = _effective(template, p, buffers)
                if t in record:
                    preacts[t] = [h.numpy().copy() for h in _preacts(ws, pt, activation)]
                if t in keep:
                    weights[t] = [w.numpy().copy() for w in ws]

    gen = torch.Generator().manual_seed(batch_seed) if batch_size is not None else None
    res = train_ensemble(template, params, xt, yt, steps=steps, lr=torch.as_tensor(lr_arr, dtype=dtype),
                         lr_multipliers=mults, momentum=momentum, loss=loss, batch_size=batch_size, generator=gen,
                         buffers=buffers, center=center, callback=callback)
    return EnsembleRun(sizes[1], param, lr_arr, tuple(int(s) for s in seeds), res.losses.numpy(), preacts, weights,
                       eff_lrs)


def sweep(widths: Sequence[int], params: Mapping[str, Parametrization], lrs: Sequence[float], seeds: Sequence[int],
          *, d: int, k: int, depth: int = 3, max_members: int | None = None,
          **kwargs) -> Iterator[tuple[int, str, float, EnsembleRun]]:
    """Iterate over (width, named parametrization, lr), training all ``seeds`` as vmapped ensembles.

    ``depth`` is the number of weight layers (``d -> n -> ... -> n -> k``); ``max_members`` splits
    the seeds into chunks (memory). Extra ``kwargs`` go to :func:`run_ensemble`.
    Yields ``(width, name, lr, run)`` (one per chunk).
    """
    require(depth >= 2, f"depth must be >= 2 weight layers; got {depth}")
    chunk = len(seeds) if max_members is None else max_members
    for n in widths:
        sizes = (d,) + (n,) * (depth - 1) + (k,)
        for name, p in params.items():
            for lr in lrs:
                for i in range(0, len(seeds), chunk):
                    yield n, name, lr, run_ensemble(sizes, p, seeds=seeds[i:i + chunk], lr=lr, **kwargs)
