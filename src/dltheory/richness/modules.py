"""Applying a :class:`~dltheory.richness.parametrization.Parametrization` to a ``torch.nn`` model.

Spec richness.md §5, §11. Unlike ``microsoft/mup`` (per-tensor ``infshape`` attributes, lost by
``torch.save``/``DataParallel``), nothing is attached to Parameters and no ``forward`` is patched:
each ``nn.Linear`` / ``nn.Conv2d`` is replaced by a :class:`ScaledLinear` / :class:`ScaledConv2d`
(ordinary subclasses, so the model pickles, loads from a ``state_dict`` and compiles) whose
multiplier and learning-rate factor are buffers. Roles follow ``mupify``: the first weight layer
is the read-in, the last the read-out, the rest hidden; the width is the largest hidden width.
Biases share their weight's init std, multiplier and learning rate (``mupify``; TP V).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from dltheory.activations import resolve_torch_activation
from dltheory.errors import DLTheoryError, require
from dltheory.nets.ntk import ActivationLayer
from dltheory.richness.parametrization import Parametrization

__all__ = ["ScaledConv2d", "ScaledLinear", "SUPPORTED_LAYERS", "layer_table", "lr_multipliers",
           "mlp", "param_groups", "parametrize", "scaled_layers"]

SUPPORTED_LAYERS = ("Linear", "Conv2d")


class _Scaled:
    """Mixin: ``multiplier`` and ``lr_factor`` buffers and a ``role`` string."""

    def _init_scales(self, multiplier: float, lr_factor: float, role: str) -> None:
        dtype = self.weight.dtype
        self.register_buffer("multiplier", torch.tensor(float(multiplier), dtype=dtype, device=self.weight.device))
        self.register_buffer("lr_factor", torch.tensor(float(lr_factor), dtype=torch.float64,
                                                       device=self.weight.device))
        self.role = role



class ScaledLinear(_Scaled, nn.Linear):
    """``nn.Linear`` computing ``multiplier * (W x + b)``; multiplier and LR factor are buffers."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, multiplier: float = 1.0,
                 lr_factor: float = 1.0, role: str = "hidden", device=None, dtype=None) -> None:
        nn.Linear.__init__(self, in_features, out_features, bias=bias, device=device, dtype=dtype)
        self._init_scales(multiplier, lr_factor, role)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # scale the output, not the weight: same function, no weight-sized temporary
        return F.linear(x, self.weight, self.bias) * self.multiplier

    def extra_repr(self) -> str:
        return f"{nn.Linear.extra_repr(self)}, role={self.role}"


class ScaledConv2d(_Scaled, nn.Conv2d):
    """``nn.Conv2d`` computing ``multiplier * conv(x, W, b)``; fan-in = in_channels·kh·kw."""

    def __init__(self, *args, multiplier: float = 1.0, lr_factor: float = 1.0, role: str = "hidden", **kwargs) -> None:
        nn.Conv2d.__init__(self, *args, **kwargs)
        self._init_scales(multiplier, lr_factor, role)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight, self.bias) * self.multiplier


def _weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    layers = []
    for name, module in model.named_modules():
        own = [p for _, p in module.named_parameters(recurse=False)]
        if isinstance(module, (nn.Linear, nn.Conv2d)) and type(module) in (nn.Linear, nn.Conv2d, ScaledLinear,
                                                                            ScaledConv2d):
            layers.append((name, module))
        elif own:
            raise DLTheoryError(f"cannot parametrize module {name!r} of type {type(module).__name__}: supported "
                                f"layers with parameters are {', '.join(SUPPORTED_LAYERS)} (parameter-free modules "
                                "such as activations, pooling and Flatten are fine)")
    require(len(layers) >= 2, f"model needs at least 2 weight layers (read-in and read-out); found {len(layers)}")
    return layers


def _fan_in(layer: nn.Module) -> int:
    return int(math.prod(layer.weight.shape[1:]))


def _fan_out(layer: nn.Module) -> int:
    return int(layer.weight.shape[0])


def layer_table(model: nn.Module, param: Parametrization, width: int | None = None) -> list[dict]:
    """Role, fan-in and realized scales of every weight layer of ``model`` (no changes made)."""
    layers = _weight_layers(model)
    n = width if width is not None else max(_fan_out(m) for _, m in layers[:-1])
    rows = []
    for i, (name, layer) in enumerate(layers):
        role = "readin" if i == 0 else ("readout" if i == len(layers) - 1 else "hidden")
        s = param.realize(role, _fan_in(layer), n)
        rows.append({"name": name, "role": role, "fan_in": _fan_in(layer), "width": n, "multiplier": s.multiplier,
                     "init_std": s.init_std, "lr_factor": s.lr_factor, "v": s.v, "lam": s.lam})
    return rows


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def parametrize(model: nn.Module, param: Parametrization, *, generator: torch.Generator,
                width: int | None = None) -> nn.Module:
    """Re-initialize ``model`` in ``param`` (in place) and return it.

    Every ``nn.Linear``/``nn.Conv2d`` is replaced by its scaled subclass carrying the multiplier and
    LR factor as buffers; weights and biases are drawn from ``N(0, init_std^2)`` with ``generator``.

    Activation modules are left exactly as the user wrote them: a user's ``nn.ReLU`` stays the
    plain ReLU. This differs from ``mupify``, which rewrites ``nn.ReLU`` layers to evaluate
    ``max(0, sqrt(2) x)``; here the gain is never applied silently. For that convention use
    ``ActivationLayer("relu*sqrt2")`` (:class:`~dltheory.nets.ntk.ActivationLayer`, as :func:`mlp` does
    by default) in the model. The scaling rules (§5) assume ``E phi(h)^2 = E h^2``; with a plain ReLU
    every hidden pre-activation variance is halved per layer, a width-independent factor that leaves
    the width exponents unchanged.

    Parameters
    ----------
    model : nn.Module
        Made of Linear/Conv2d layers and parameter-free modules; anything else with parameters
        raises :class:`~dltheory.errors.DLTheoryError` listing the supported layers.
    param : Parametrization
    generator : torch.Generator
        Source of the initial weights (explicit seeding).
    width : int, optional
        The ``n`` of the scaling rules; default the largest fan-out among non-readout layers.
    """
    require(isinstance(param, Parametrization), f"param must be a Parametrization; got {type(param).__name__}")
    require(isinstance(generator, torch.Generator), "generator must be a torch.Generator")
    if isinstance(model, (nn.Linear, nn.Conv2d)):
        raise DLTheoryError("parametrize needs a container model with >= 2 weight layers, not a single layer")
    rows = layer_table(model, param, width)
    for row in rows:
        old = model.get_submodule(row["name"])
        device = torch.device("cpu") if old.weight.device.type == "meta" else old.weight.device
        kw = dict(multiplier=row["multiplier"], lr_factor=row["lr_factor"], role=row["role"], device="meta",
                  dtype=old.weight.dtype)
        if isinstance(old, nn.Linear):
            new = ScaledLinear(old.in_features, old.out_features, bias=old.bias is not None, **kw)
        else:
            new = ScaledConv2d(old.in_channels, old.out_channels, old.kernel_size, stride=old.stride,
                               padding=old.padding, dilation=old.dilation, groups=old.groups,
                               bias=old.bias is not None, padding_mode=old.padding_mode, **kw)
        new = new.to_empty(device=device)  # built on 'meta': no wasted default initialization
        with torch.no_grad():
            new.multiplier.fill_(row["multiplier"])
            new.lr_factor.fill_(row["lr_factor"])
            for p in (new.weight, new.bias):
                if p is not None:
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype).mul_(row["init_std"]))
        _set_submodule(model, row["name"], new)
    return model


def scaled_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, layer)`` of the scaled layers of a parametrized model, in order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (ScaledLinear, ScaledConv2d))]


def lr_multipliers(model: nn.Module) -> dict[str, float]:
    """Per-parameter LR factor ``{param_name: lr_factor}`` of a parametrized model (for training)."""
    out = {}
    layers = scaled_layers(model)
    require(bool(layers), "model has no scaled layers: call parametrize(model, param, generator=...) first")
    for name, layer in layers:
        prefix = f"{name}." if name else ""
        for pname, _ in layer.named_parameters(recurse=False):
            out[prefix + pname] = float(layer.lr_factor)
    return out


def param_groups(model: nn.Module, lr: float) -> list[dict]:
    """``torch.optim`` parameter groups, one per tensor, with ``lr * lr_factor`` (§5)."""
    mults = lr_multipliers(model)
    return [{"params": [p], "lr": lr * mults[name]} for name, p in model.named_parameters()]


def mlp(sizes: tuple[int, ...], param: Parametrization, *, generator: torch.Generator,
        activation: str = "relu*sqrt2", bias: bool = False, dtype: torch.dtype | None = None) -> nn.Sequential:
    """A parametrized MLP ``sizes[0] -> ... -> sizes[-1]``.

    ``dtype``: of the parameters; default ``torch.get_default_dtype()`` (float32 unless changed), so
    ``net(torch.randn(3, sizes[0]))`` works as for any ``nn.Module``. Pass ``torch.float64`` for
    measurements that need it.

    ``activation``: a name of the one registry :mod:`dltheory.activations`, applied by
    :class:`~dltheory.nets.ntk.ActivationLayer`. The default ``"relu*sqrt2"`` is √2·ReLU
    (``E phi(h)^2 = E h^2``, the ``mupify`` convention, §5); ``"relu"`` is the plain ReLU.
    """
    require(len(sizes) >= 3 and all(isinstance(s, int) and s >= 1 for s in sizes),
            f"sizes must be >= 3 positive ints (input, hidden..., output); got {sizes}")
    act = resolve_torch_activation(activation)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    mods: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1], bias=bias, dtype=dtype, device="meta"))
        if i < len(sizes) - 2:
            mods.append(ActivationLayer(act))
    return parametrize(nn.Sequential(*mods), param, generator=generator)
