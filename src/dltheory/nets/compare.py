"""Your own network against the infinite-width theory (effective-theory.md §2-§3, §6, §8, §10.1).

Give a torch model *factory* ``seed -> nn.Module`` (or a model plus a stated re-initialization rule)
and inputs X of shape (P, n0). :func:`compare_to_theory` builds one network per seed, reads its
architecture from an actual forward pass, and returns per layer ℓ

* the empirical NNGP kernel  Ĝ^(ℓ)_ab = (1/n_ℓ) Σ_i z^(ℓ)_{i;a} z^(ℓ)_{i;b}   (neuron average, §3.1),
* the empirical NTK          Ĥ^(ℓ)_ab = (1/n_ℓ) Σ_i Ĥ^(ℓ)_{ii;ab}            (§6.1, λ_W/n_{ℓ-1} on
  weights, λ_b on biases),

averaged over the ensemble with a standard error (replicate = one network, §10.1), the
infinite-width prediction K^(ℓ), Θ^(ℓ) for the same architecture and initialization
(:func:`dltheory.effective.network_kernels.network_ntk_recursion`), and their agreement.

**Architecture.** Supported: a chain of ``nn.Linear`` layers with elementwise activations between
them (modules such as ``nn.ReLU``/``nn.Tanh``/``nn.GELU``, or functional calls such as ``torch.relu``
in a custom ``forward``, recognized numerically among the registry's functions), and residual MLPs
z^(ℓ) = γ z^(ℓ-1) + W σ(z^(ℓ-1)) + b (§8). The model is traced with forward hooks and every link is
checked numerically (the next layer's input must equal σ of the previous preactivation; a residual
term must be γ times the previous preactivation), so an unsupported layer or an operation the
parser does not understand raises :class:`~dltheory.errors.DLTheoryError` instead of silently
comparing the wrong theory. A trailing activation after the last ``nn.Linear`` is ignored (the
compared quantities are preactivations). Models are put in ``eval()`` mode; ``nn.Identity``,
``nn.Flatten`` and ``nn.Dropout`` must act as the identity.

**Initialization** (C_W^(ℓ) = n_{ℓ-1} Var W^(ℓ), C_b^(ℓ) = Var b^(ℓ); entries i.i.d. and zero-mean):
``init="measured"`` (default) estimates them from the ensemble's own parameters and propagates that
estimate into the standard error (delta method per network, so the correlation between the
estimate and the measured kernel is accounted for); ``init="torch_default"`` uses PyTorch's
``nn.Linear`` rule (kaiming-uniform with a = √5: W, b ~ U(±1/√n_{ℓ-1}) ⇒ C_W = 1/3,
C_b = 1/(3 n_{ℓ-1})); ``cw=``/``cb=`` override either.

**What is exact at finite width** [DER, §5.4/§6.4 style arguments]: layer 1 (second moments of a
linear map); every entry of every layer of a deep *linear* network, residual or not (the recursions
are linear in the second moments); and, when every activation up to layer ℓ is scale-invariant
(ReLU, leaky) and no residual term precedes it, the diagonal entries Ĝ_aa, Ĥ_aa at every width
(sign-flip symmetry of each row of W, b makes ⟨σ(z)²⟩ = A_2⟨z²⟩ and ⟨σ'²Ĥ⟩ = A_2⟨Ĥ⟩ exactly).
Those rows are *tested* (``expectation == "exact"``): |z| ≤ z* with Bonferroni z* over the tested
rows (family-wise error 10⁻³, §10.1) and a power requirement (the minimal detectable normalized
effect (z* + 1.645)·SE must not exceed ``delta``). Every other row differs from the infinite-width
value at O(1/n) and is a *diagnostic* at a single width; :func:`width_sweep` removes the 1/n term by
fitting deviation(n) = D_0 + D_1/n (+ D_2/n²) over widths and tests D_0 = 0 (§10.1 (b)).

Caveat: the infinite-width theory assumes Gaussian first-layer preactivations. With a non-Gaussian
init (PyTorch's uniform default) and a small input dimension n_0, layers ≥ 2 of a non-scale-invariant
σ carry an O(1/n_0) deviation that does not vanish with the hidden width; the width sweep reports it
as D_0 ≠ 0.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from dltheory.activations import TorchActivation, get_activation, resolve_torch_activation
from dltheory.effective.kernels import per_layer
from dltheory.effective.network_kernels import network_ntk_recursion
from dltheory.errors import DLTheoryError
from dltheory.stats import POWER_Z, Verdict, bonferroni_z, inverse_width_design, judge, weighted_least_squares

__all__ = [
    "LayerSpec",
    "Architecture",
    "TheoryComparison",
    "WidthSweep",
    "activation_name",
    "parse_architecture",
    "compare_to_theory",
    "width_sweep",
]

ModelFactory = Callable[[int], nn.Module]

#: Activation modules mapped to registry names (:data:`dltheory.activations.ACTIVATION_NAMES`).
_REGISTRY_MODULES: dict[type, str] = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.SiLU: "swish", nn.Sigmoid: "sigmoid"}
#: Elementwise torch activations without a registry entry: the theory integrates the module itself by
#: Gauss–Hermite quadrature (§3.3).
_QUADRATURE_MODULES: tuple[type, ...] = (nn.ELU, nn.SELU, nn.CELU, nn.Mish, nn.Softsign, nn.LogSigmoid,
                                         nn.Tanhshrink, nn.GELU, nn.Softplus)
#: Registry functions tried, in order, when the forward applies an activation functionally.
_FUNCTIONAL_CANDIDATES = ("relu", "tanh", "gelu", "swish", "sigmoid", "softplus", "erf", "sin", "leaky_relu")
_SKIPPED_MODULES: tuple[type, ...] = (nn.Identity, nn.Flatten, nn.Dropout)
_INIT_MODES = ("measured", "torch_default")
_REINIT_RULES = ("torch_default", "gaussian")


# ----------------------------------------------------------------------------------------------------------------------
# activations


def activation_name(module: nn.Module) -> str | None:
    """Registry name of an activation module, or None if it has none.

    ``nn.ReLU`` → ``"relu"``, ``nn.Tanh`` → ``"tanh"``, ``nn.GELU()`` (exact form) → ``"gelu"``,
    ``nn.SiLU`` → ``"swish"``, ``nn.Sigmoid`` → ``"sigmoid"``, ``nn.Softplus()`` (β = 1) →
    ``"softplus"``, ``nn.LeakyReLU(a)`` → ``"leaky_relu:a"``, ``nn.Identity`` → ``"linear"``, and
    :class:`dltheory.nets.ActivationLayer` → its registry name.

    Parameters
    ----------
    module : nn.Module

    Returns
    -------
    str or None
    """
    kind = type(module)
    if kind in _REGISTRY_MODULES:
        return _REGISTRY_MODULES[kind]
    if kind is nn.GELU and module.approximate == "none":
        return "gelu"
    if kind is nn.Softplus and module.beta == 1:
        return "softplus"  # threshold (default 20) changes σ by < 2e-9
    if kind is nn.LeakyReLU:
        return f"leaky_relu:{module.negative_slope:g}"
    if kind is nn.Identity:
        return "linear"
    inner = getattr(module, "activation", None)
    if isinstance(inner, TorchActivation):
        try:
            get_activation(inner.name)
        except DLTheoryError:
            return None
        return inner.name
    return None


def _module_as_numpy(module: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy float64 function evaluating an elementwise torch module (for quadrature)."""

    def fn(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.as_tensor(np.asarray(z, dtype=np.float64))).numpy()

    fn.__name__ = repr(module)
    return fn


def _numpy_as_torch(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Tensor], Tensor]:
    def tfn(t: Tensor) -> Tensor:
        out = np.asarray(fn(t.detach().cpu().numpy()), dtype=np.float64)
        return torch.as_tensor(out, dtype=t.dtype, device=t.device)

    return tfn


@dataclass(frozen=True)
class _Act:
    """One hidden activation: label, theory form (registry name or NumPy callable), torch form."""

    label: str
    theory: str | Callable
    torch: TorchActivation


def _act_from_module(module: nn.Module, override: _Act | None, z: Tensor, out: Tensor, tol: float,
                     name: str = "") -> _Act:
    registry = activation_name(module)
    if override is not None:
        ref = override.torch.fn(z.to(torch.float64))
        if not _close(out.to(torch.float64), ref, tol):
            raise DLTheoryError(f"activation={override.label!r} does not match module {name!r} on the traced "
                                "preactivations; pass the function the module computes")
        return _Act(override.label, override.theory, _module_torch(module, override.label))
    if registry is not None:
        return _Act(registry, registry, _module_torch(module, registry))
    if isinstance(module, _QUADRATURE_MODULES) or isinstance(getattr(module, "activation", None), TorchActivation):
        return _Act(repr(module), _module_as_numpy(module), _module_torch(module, repr(module)))
    raise DLTheoryError(f"module {name!r} ({module!r}) is not a supported layer: supported are nn.Linear, elementwise "
                        "activations (ReLU, Tanh, GELU, SiLU, Sigmoid, Softplus, LeakyReLU, ELU, SELU, CELU, Mish, "
                        "Softsign, ...) and Identity/Flatten/Dropout; for your own elementwise activation module pass "
                        "activation=<NumPy function>")


def _module_torch(module: nn.Module, label: str) -> TorchActivation:
    base = resolve_torch_activation(module)  # derivative by autograd through the module itself
    return TorchActivation(label, base.fn, base.derivative)


def _override_act(activation: str | Callable | None) -> _Act | None:
    if activation is None:
        return None
    if isinstance(activation, str):
        theory = get_activation(activation)  # validates the name
        return _Act(theory.name, activation, resolve_torch_activation(activation))
    if callable(activation):
        theory = get_activation(activation)
        label = getattr(activation, "__name__", "custom")
        return _Act(label, activation, TorchActivation(label, _numpy_as_torch(theory.fn),
                                                       _numpy_as_torch(theory.derivative)))
    raise DLTheoryError(f"activation={activation!r}: expected None, a registry name or a NumPy callable")


# ----------------------------------------------------------------------------------------------------------------------
# architecture


@dataclass(frozen=True)
class LayerSpec:
    """One layer ℓ of a parsed network: z^(ℓ) = γ z^(ℓ-1) + b + W σ_ℓ(z^(ℓ-1)).

    Attributes
    ----------
    index : int
        ℓ = 1..L.
    name : str
        Qualified name of the ``nn.Linear`` module.
    fan_in, width : int
        n_{ℓ-1} and n_ℓ.
    bias : bool
        Whether the layer has a bias.
    activation : str or None
        Label of σ_ℓ (registry name, or the module's repr for quadrature-only activations);
        None for ℓ = 1.
    gamma : float
        Residual strength γ_ℓ (0 for a plain layer).
    """

    index: int
    name: str
    fan_in: int
    width: int
    bias: bool
    activation: str | None
    gamma: float


@dataclass(frozen=True)
class Architecture:
    """A network parsed by :func:`parse_architecture`.

    Attributes
    ----------
    layers : tuple of LayerSpec
        Layers ℓ = 1..L in forward order.
    theory_activations : tuple
        σ_ℓ for the theory (registry name or NumPy callable); entry 0 is None.
    torch_activations : tuple
        σ_ℓ with its derivative as :class:`~dltheory.nets.TorchActivation`; entry 0 is None.
    trailing_activation : str or None
        Label of an activation after the last Linear (ignored by the comparison).
    trailing : callable or None
        That module or function (used only to check the model's output).
    """

    layers: tuple[LayerSpec, ...]
    theory_activations: tuple = field(repr=False)
    torch_activations: tuple = field(repr=False)
    trailing_activation: str | None = None
    trailing: Callable | None = field(default=None, repr=False)

    @property
    def depth(self) -> int:
        """Number of ``nn.Linear`` layers L."""
        return len(self.layers)

    @property
    def gammas(self) -> np.ndarray:
        """Residual strengths γ_ℓ, shape (L,)."""
        return np.array([layer.gamma for layer in self.layers])

    def describe(self) -> str:
        """One line per layer, e.g. ``ℓ=2 fc2: 64 -> 64, σ=relu, γ=0.5``."""
        lines = []
        for layer in self.layers:
            act = "" if layer.activation is None else f", σ={layer.activation}"
            res = f", γ={layer.gamma:g}" if layer.gamma else ""
            bias = "" if layer.bias else ", no bias"
            name = layer.name or "<model>"
            lines.append(f"ℓ={layer.index} {name}: {layer.fan_in} -> {layer.width}{act}{res}{bias}")
        if self.trailing_activation is not None:
            lines.append(f"output activation {self.trailing_activation} (not compared: the layers' preactivations are)")
        return "\n".join(lines)

    def _signature(self) -> tuple:
        return tuple((s.name, s.fan_in, s.width, s.bias, s.activation) for s in self.layers)


@dataclass
class _Parsed:
    arch: Architecture
    weights: list[Tensor]
    biases: list[Tensor | None]
    final_z: Tensor
    output: Tensor


def _tolerance(dtype: torch.dtype) -> float:
    return 1e-9 if dtype == torch.float64 else (2e-4 if dtype == torch.float32 else 2e-2)


def _close(a: Tensor, b: Tensor, tol: float) -> bool:
    if a.shape != b.shape:
        return False
    scale = max(float(a.abs().max()), float(b.abs().max()), 1e-30)
    return float((a - b).abs().max()) <= tol * scale


def _residual(z: Tensor, y: Tensor, z_prev: Tensor | None, tol: float) -> float | None:
    """γ with z = y + γ z_prev (0.0 if z = y), or None if z has no such form."""
    if z.shape != y.shape:
        return None
    d = z - y
    scale = max(float(z.abs().max()), float(y.abs().max()), 1e-30)
    if float(d.abs().max()) <= tol * scale:
        return 0.0
    if z_prev is None or z_prev.shape != d.shape:
        return None
    den = float((z_prev * z_prev).sum())
    if den == 0.0:
        return None
    gamma = float((d * z_prev).sum()) / den
    if float((d - gamma * z_prev).abs().max()) <= tol * scale:
        return gamma
    return None


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear)


def _trace(model: nn.Module, x: Tensor) -> tuple[list[tuple[str, nn.Module, Tensor, Tensor]], Tensor]:
    calls: list[tuple[str, nn.Module, Tensor, Tensor]] = []
    handles = []

    def hook_for(name: str):
        def hook(module, args, out):
            if len(args) != 1 or not isinstance(args[0], Tensor) or not isinstance(out, Tensor):
                raise DLTheoryError(f"module {name!r} ({type(module).__name__}) must map one tensor to one tensor")
            calls.append((name, module, args[0].detach(), out.detach()))

        return hook

    for name, module in model.named_modules():
        if not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(hook_for(name)))
    try:
        with torch.no_grad():
            out = model(x)
    except DLTheoryError:
        raise
    except Exception as exc:  # noqa: BLE001 — the user's forward: report it as bad input
        raise DLTheoryError(f"the model's forward failed on inputs of shape {tuple(x.shape)} "
                            f"({type(exc).__name__}: {exc}); expected an MLP mapping (P, n0) -> (P, n_out)") from exc
    finally:
        for h in handles:
            h.remove()
    if not isinstance(out, Tensor):
        raise DLTheoryError(f"model output must be a tensor, got {type(out).__name__}")
    return calls, out.detach()


def _functional_link(inp: Tensor, y: Tensor, override: _Act | None, tol: float) -> _Act | None:
    """The activation f with inp = f(y) applied functionally (no module), if exactly one matches."""
    y64, inp64 = y.to(torch.float64), inp.to(torch.float64)
    if override is not None:
        return override if _close(inp64, override.torch.fn(y64), tol) else None
    matches = [name for name in _FUNCTIONAL_CANDIDATES
               if _close(inp64, resolve_torch_activation(name).fn(y64), tol)]
    if len(matches) > 1:
        raise DLTheoryError(f"the functional activation between layers is ambiguous ({', '.join(matches)} all match "
                            "the traced values); pass activation=<name>")
    if not matches:
        return None
    return _Act(matches[0], matches[0], resolve_torch_activation(matches[0]))


def _trailing_label(trailing: Callable | None) -> str | None:
    if trailing is None:
        return None
    if isinstance(trailing, nn.Module):
        return activation_name(trailing) or repr(trailing)
    return getattr(trailing, "__name__", repr(trailing))


def _parse(model: nn.Module, x: Tensor, override: _Act | None) -> _Parsed:
    """Trace ``model`` on ``x`` and parse it into layers (see the module docstring)."""
    with torch.no_grad():
        return _parse_traced(model, x, override)


def _parse_traced(model: nn.Module, x: Tensor, override: _Act | None) -> _Parsed:
    calls, output = _trace(model, x)
    tol = _tolerance(x.dtype)
    specs: list[dict] = []  # per Linear: name, module, out (y), act (for ℓ >= 2), gamma
    zs: list[Tensor] = []  # resolved preactivations z^(1..ℓ-1)
    pending: tuple[str, nn.Module, Tensor, Tensor] | None = None

    def resolve_previous(z_candidate: Tensor, where: str) -> None:
        """Set z^(ℓ-1) = z_candidate after checking z = y + γ z^(ℓ-2)."""
        prev = specs[-1]
        z_prev = zs[-1] if zs else None
        gamma = _residual(z_candidate, prev["out"], z_prev, tol)
        if gamma is None:
            raise DLTheoryError(f"{where}: the value after layer {prev['name']!r} is neither its output nor "
                                "output + γ·(previous preactivation); this architecture is not supported "
                                "(use nn.Linear with elementwise activation modules, or residual blocks "
                                "z' = γz + Wσ(z) + b)")
        if gamma and len(specs) == 1:
            raise DLTheoryError("a residual term on the first layer (z = Wx + b + γx) is not supported")
        prev["gamma"] = gamma
        zs.append(z_candidate)

    for name, module, inp, out in calls:
        if _is_linear(module):
            if any(sp["module"] is module for sp in specs):
                raise DLTheoryError(f"layer {name!r} is applied twice (weight sharing is not supported)")
            ref = F.linear(inp, module.weight, module.bias)
            if not _close(out, ref, tol):
                raise DLTheoryError(f"layer {name!r} ({type(module).__name__}) does not compute W x + b; "
                                    "Linear subclasses with a custom forward are not supported")
            if not specs:
                if not _close(inp, x, tol):
                    raise DLTheoryError(f"the first nn.Linear ({name!r}) must act on the model input directly")
                act = None
            elif pending is not None:
                p_name, p_mod, p_in, p_out = pending
                if not _close(inp, p_out, tol):
                    raise DLTheoryError(f"between {p_name!r} and {name!r} the forward applies an operation that is "
                                        "not a module; use activation modules (e.g. nn.ReLU)")
                act = _act_from_module(p_mod, override, p_in, p_out, tol, p_name)
                resolve_previous(p_in, f"before {p_name!r}")
            else:
                gamma = _residual(inp, specs[-1]["out"], zs[-1] if zs else None, tol)
                if gamma is not None and override is None:
                    act = _Act("linear", "linear", resolve_torch_activation("linear"))
                    resolve_previous(inp, f"before {name!r}")
                else:
                    act = _functional_link(inp, specs[-1]["out"], override, tol)
                    if act is None:
                        raise DLTheoryError(f"the input of {name!r} is not an elementwise registry activation of the "
                                            "previous layer's output (a functional activation after a residual sum "
                                            "is not recognized); use activation modules or pass activation=")
                    resolve_previous(specs[-1]["out"], f"before {name!r}")
            specs.append({"name": name, "module": module, "out": out, "act": act, "gamma": 0.0})
            pending = None
        elif isinstance(module, _SKIPPED_MODULES):
            if not _close(out, inp, tol):
                raise DLTheoryError(f"module {name!r} ({type(module).__name__}) must act as the identity "
                                    "(the model is traced in eval mode)")
        else:
            if not specs:
                raise DLTheoryError(f"module {name!r} runs before the first nn.Linear; the first layer must be "
                                    "nn.Linear acting on the input")
            if pending is not None:
                for p_name, p_mod, p_in, p_out in (pending, (name, module, inp, out)):
                    _act_from_module(p_mod, override, p_in, p_out, tol, p_name)  # names an unsupported module
                raise DLTheoryError(f"two activations in a row ({pending[0]!r}, {name!r}) are not supported")
            pending = (name, module, inp, out)  # a hidden activation if a Linear follows, else trailing
    if not specs:
        raise DLTheoryError("model contains no nn.Linear layer")
    owned = {id(p) for sp in specs for p in sp["module"].parameters()}
    stray = [n for n, p in model.named_parameters() if id(p) not in owned]
    if stray:
        raise DLTheoryError(f"parameters {', '.join(stray[:3])} are not weights or biases of the traced nn.Linear "
                            "layers; only nn.Linear parameters are supported")
    trailing = None
    if pending is not None:
        p_name, p_mod, p_in, p_out = pending
        if not _close(output, p_out, tol):
            raise DLTheoryError(f"the model output is not the output of its last activation {p_name!r}")
        trailing = p_mod
        resolve_previous(p_in, f"before {p_name!r}")
    else:
        z_last = output
        if _residual(output, specs[-1]["out"], zs[-1] if zs else None, tol) is None:
            act = _functional_link(output, specs[-1]["out"], None, tol)  # e.g. torch.sigmoid(self.out(h))
            if act is not None:
                trailing = act.torch.fn
                z_last = specs[-1]["out"]
        resolve_previous(z_last, "at the model output")
    layers = []
    for k, s in enumerate(specs):
        lin = s["module"]
        layers.append(LayerSpec(k + 1, s["name"], lin.in_features, lin.out_features, lin.bias is not None,
                                None if s["act"] is None else s["act"].label, float(s["gamma"])))
    arch = Architecture(tuple(layers), tuple(None if s["act"] is None else s["act"].theory for s in specs),
                        tuple(None if s["act"] is None else s["act"].torch for s in specs),
                        _trailing_label(trailing), trailing)
    weights = [s["module"].weight.detach() for s in specs]
    biases = [None if s["module"].bias is None else s["module"].bias.detach() for s in specs]
    return _Parsed(arch, weights, biases, zs[-1], output)


def _prepare_model(model: nn.Module) -> tuple[nn.Module, torch.dtype, torch.device]:
    if not isinstance(model, nn.Module):
        raise DLTheoryError(f"model factory must return an nn.Module, got {type(model).__name__}")
    model.eval()
    p = next(model.parameters(), None)
    if p is None:
        raise DLTheoryError("model has no parameters")
    return model, p.dtype, p.device


def _as_inputs(x: np.ndarray | Tensor) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2 or min(arr.shape) < 1 or not np.all(np.isfinite(arr)):
        raise DLTheoryError(f"x: expected a finite array of shape (P, n0) with P, n0 >= 1, got shape {arr.shape}")
    return arr


def parse_architecture(model: nn.Module, x: np.ndarray | Tensor,
                       activation: str | Callable | None = None) -> Architecture:
    """Read the layers, activations and residual strengths of ``model`` from a traced forward pass.

    Parameters
    ----------
    model : nn.Module
        An MLP (``nn.Linear`` + elementwise activations) or a residual MLP (see the module docstring);
        traced in eval mode, its train/eval mode is restored afterwards.
    x : array or Tensor, shape (P, n0)
        Inputs for the trace.
    activation : str or callable, optional
        Hidden activation override: a registry name or a NumPy function σ(z), checked numerically
        against the traced activation modules; needed for your own activation modules.

    Returns
    -------
    Architecture

    Raises
    ------
    DLTheoryError
        Unsupported layers or links (the message names the module).
    """
    was_training = getattr(model, "training", False)
    model, dtype, device = _prepare_model(model)
    try:
        xt = torch.as_tensor(_as_inputs(x), dtype=dtype, device=device)
        return _parse(model, xt, _override_act(activation)).arch
    finally:
        model.train(was_training)


# ----------------------------------------------------------------------------------------------------------------------
# empirical kernel and NTK, batched over networks


def _empirical(x: Tensor, arch: Architecture, weights: list[Tensor], biases: list[Tensor | None],
               lbs: np.ndarray, lws: np.ndarray, with_ntk: bool) -> tuple[Tensor, Tensor | None, Tensor]:
    """Per-network kernels and NTK traces of C networks (float64).

    x : (P, n0); weights[l] : (C, n_l, n_{l-1}); biases[l] : (C, n_l) or None.
    Returns kernel (C, L, P, P), ntk (C, L, P, P) or None, final preactivation (C, P, n_L).
    """
    depth = arch.depth
    c = weights[0].shape[0]
    p = x.shape[0]
    zs, inputs, derivs = [], [], []
    a = x.expand(c, *x.shape)
    z = None
    for ell in range(depth):
        if ell > 0:
            act = arch.torch_activations[ell]
            a = act.fn(z)
            if with_ntk:
                derivs.append(act.derivative(z))
        inputs.append(a)
        new = torch.bmm(a, weights[ell].transpose(1, 2))
        if biases[ell] is not None:
            new = new + biases[ell][:, None, :]
        gamma = arch.layers[ell].gamma
        z = new if not gamma else new + gamma * z
        zs.append(z)
    kernel = torch.stack([torch.bmm(zz, zz.transpose(1, 2)) / zz.shape[2] for zz in zs], dim=1)
    if not with_ntk:
        return kernel, None, zs[-1]
    # c_k[a, b] = λ_b^(k) + λ_W^(k)/n_{k-1} a^(k-1)_a · a^(k-1)_b: the NTK of layer k's own parameters
    coef = [lbs[k] * (biases[k] is not None) + lws[k] * torch.bmm(inputs[k], inputs[k].transpose(1, 2))
            / inputs[k].shape[2] for k in range(depth)]
    ntk = torch.empty(c, depth, p, p, dtype=x.dtype, device=x.device)
    for ell in range(depth):
        total = coef[ell] * weights[ell].shape[1]  # J = identity on layer ℓ: tr(I) = n_ℓ
        jac = None  # J^(ℓ,k)_a = dz^(ℓ)_a/dz^(k)_a, shape (C, P, n_ℓ, n_k)
        for k in range(ell - 1, -1, -1):
            w = weights[k + 1]  # (C, n_{k+1}, n_k)
            sp = derivs[k]  # σ'_{k+1}(z^(k)): (C, P, n_k)
            gamma = arch.layers[k + 1].gamma
            if jac is None:
                jac = w[:, None, :, :] * sp[:, :, None, :]
                if gamma:
                    jac = jac + gamma * torch.eye(w.shape[1], dtype=x.dtype, device=x.device)
            else:
                new = torch.matmul(jac, w[:, None, :, :]) * sp[:, :, None, :]
                jac = new + gamma * jac if gamma else new
            flat = jac.reshape(c, p, -1)
            total = total + coef[k] * torch.bmm(flat, flat.transpose(1, 2))
        ntk[:, ell] = total / weights[ell].shape[1]
    return kernel, ntk, zs[-1]


# ----------------------------------------------------------------------------------------------------------------------
# results


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """Run with ``n`` torch intra-op threads (restored afterwards); ``None`` leaves the setting."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: Floor of the relative SE used to judge deterministic entries (zero ensemble variance, e.g. the
#: first-layer NTK): float64 round-off of the recursions, so an exact agreement is not a z = ∞ FAIL.
_ROUNDOFF = 1e-9


@dataclass(frozen=True, eq=False)
class TheoryComparison:
    """Empirical kernel/NTK of an ensemble of your networks against the infinite-width theory.

    S networks, L layers, P inputs. Entries are compared for a ≤ b.

    Attributes
    ----------
    architecture : Architecture
    x : ndarray, shape (P, n0)
    seeds : tuple of int
        One network per seed.
    kernel : ndarray, shape (S, L, P, P)
        Per-network empirical kernels Ĝ^(ℓ)_ab = (1/n_ℓ) Σ_i z_{i;a} z_{i;b}.
    ntk : ndarray, shape (S, L, P, P) or None
        Per-network empirical NTK traces (1/n_ℓ) Σ_i Ĥ_{ii;ab}.
    kernel_theory, ntk_theory : ndarray, shape (L, P, P)
        K^(ℓ), Θ^(ℓ) (``ntk_theory`` None without NTK).
    kernel_replicates, ntk_replicates : ndarray, shape (S, L, P, P)
        Per-network values corrected for the fluctuation of a measured init estimate
        (Q̂_s − ∇Q·(ĉ_s − c̄)); same mean as ``kernel``/``ntk``, and their SE is the SE of
        mean − theory. Equal to ``kernel``/``ntk`` when the init is given or a rule.
    cw, cb : ndarray, shape (L,)
        C_W^(ℓ), C_b^(ℓ) used by the theory.
    cw_measured, cw_measured_se, cb_measured, cb_measured_se : ndarray, shape (L,)
        Estimates n_{ℓ-1}·mean W², mean b² over the ensemble with SEs (NaN for bias-free layers).
    cw_source, cb_source : tuple of str
        Per layer, where C_W and C_b came from: "measured", "torch_default", "gaussian", "given"
        (and "no bias" for C_b of bias-free layers).
    lambda_b, lambda_w : ndarray, shape (L,)
    delta : float
        Declared effect size δ (normalized deviation) the exact rows must be able to detect.
    family_error : float
        Family-wise error of the Bonferroni threshold.

    Verdicts are :class:`dltheory.stats.Verdict` values decided by :func:`dltheory.stats.judge`:
    exact rows are PASS, FAIL or INCONCLUSIVE (no power: SE > δ/(z* + 1.645)); O(1/n) rows are
    REPORTED (a number with no gate at a single width; :func:`width_sweep` tests them).
    """

    architecture: Architecture
    x: np.ndarray
    seeds: tuple[int, ...]
    kernel: np.ndarray
    ntk: np.ndarray | None
    kernel_theory: np.ndarray
    ntk_theory: np.ndarray | None
    kernel_replicates: np.ndarray
    ntk_replicates: np.ndarray | None
    cw: np.ndarray
    cb: np.ndarray
    cw_measured: np.ndarray
    cw_measured_se: np.ndarray
    cb_measured: np.ndarray
    cb_measured_se: np.ndarray
    cw_source: tuple[str, ...]
    cb_source: tuple[str, ...]
    lambda_b: np.ndarray
    lambda_w: np.ndarray
    delta: float
    family_error: float

    @property
    def n_networks(self) -> int:
        """Ensemble size S."""
        return int(self.kernel.shape[0])

    def _quantities(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        out = [("kernel", self.kernel, self.kernel_replicates, self.kernel_theory)]
        if self.ntk is not None:
            out.append(("ntk", self.ntk, self.ntk_replicates, self.ntk_theory))
        return out

    def exact_mask(self, quantity: str) -> np.ndarray:
        """Entries whose ensemble mean equals the theory at any width, shape (L, P, P).

        Layer 1 always; every entry of layer ℓ when σ_2..σ_ℓ are linear (any γ: the recursions are
        linear in the second moments); the diagonal when they are scale-invariant and γ_2..γ_ℓ = 0
        (module docstring). Same mask for ``"kernel"`` and ``"ntk"``.
        """
        if quantity not in ("kernel", "ntk"):
            raise DLTheoryError(f"quantity={quantity!r}: accepted 'kernel', 'ntk'")
        depth, p = self.kernel.shape[1], self.kernel.shape[2]
        mask = np.zeros((depth, p, p), dtype=bool)
        mask[0] = True
        linear = scale_inv = True
        for ell in range(1, depth):
            act = get_activation(self.architecture.theory_activations[ell])
            linear = linear and act.is_scale_invariant and act.slopes[0] == act.slopes[1]
            scale_inv = scale_inv and act.is_scale_invariant and self.architecture.layers[ell].gamma == 0.0
            if linear:
                mask[ell] = True
            elif scale_inv:
                mask[ell] = np.eye(p, dtype=bool)
        return mask

    def _entry_stats(self, quantity: str) -> dict[str, np.ndarray]:
        raw, reps, theory = {q: (r, rep, th) for q, r, rep, th in self._quantities()}[quantity]
        s = raw.shape[0]
        mean = raw.mean(0)
        se = reps.std(0, ddof=1) / math.sqrt(s) if s > 1 else np.full(mean.shape, np.inf)
        diag = np.abs(np.diagonal(theory, axis1=1, axis2=2))  # (L, P)
        scale = np.sqrt(diag[:, :, None] * diag[:, None, :])
        scale = np.where(scale > 0, scale, np.maximum(np.abs(theory), 1e-300))
        dev = mean - theory
        deterministic = se <= 1e-12 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(deterministic, np.where(np.abs(dev) <= 1e-9 * scale, 0.0, np.inf * np.sign(dev)), dev / se)
        return {"mean": mean, "se": np.where(deterministic, 0.0, se), "theory": theory, "dev": dev,
                "scale": scale, "z": z}

    def z_star(self) -> float:
        """Bonferroni threshold z* over the tested (exact) rows (:func:`dltheory.stats.bonferroni_z`)."""
        m = sum(int(np.triu(self.exact_mask(q)).sum()) for q, *_ in self._quantities())
        return bonferroni_z(max(m, 1), self.family_error)

    def table(self):
        """Tidy per-entry comparison (a ≤ b), one row per (quantity, layer, a, b).

        Returns
        -------
        pandas.DataFrame
            Columns: quantity ("kernel"/"ntk"), layer, a, b, width, empirical, se, theory,
            deviation, rel_deviation (deviation/√(theory_aa theory_bb)), rel_se (se on that scale), z,
            expectation ("exact" or "O(1/n)"), min_detectable ((z* + 1.645)·se, normalized),
            verdict (:class:`~dltheory.stats.Verdict`: PASS, FAIL or INCONCLUSIVE for exact rows by
            :func:`~dltheory.stats.judge` against 0 with δ = ``delta``; REPORTED for O(1/n) rows),
            reason (why a row is FAIL or INCONCLUSIVE), n_networks.
        """
        import pandas as pd

        zs = self.z_star()
        rows = []
        for q, *_ in self._quantities():
            st = self._entry_stats(q)
            exact = self.exact_mask(q)
            depth, p = st["mean"].shape[0], st["mean"].shape[1]
            for ell in range(depth):
                for a in range(p):
                    for b in range(a, p):
                        rel_se = st["se"][ell, a, b] / st["scale"][ell, a, b]
                        mde = (zs + POWER_Z) * rel_se
                        z = float(st["z"][ell, a, b])
                        rel_dev = float(st["dev"][ell, a, b] / st["scale"][ell, a, b])
                        if exact[ell, a, b]:
                            verdict, reason = judge(rel_dev, max(float(rel_se), _ROUNDOFF), 0.0, self.delta, zs,
                                                    n=self.n_networks, n_label="networks")
                        else:
                            verdict, reason = Verdict.REPORTED, "O(1/n) at finite width: tested by width_sweep"
                        rows.append({
                            "quantity": q, "layer": ell + 1, "a": a, "b": b,
                            "width": self.architecture.layers[ell].width,
                            "empirical": float(st["mean"][ell, a, b]), "se": float(st["se"][ell, a, b]),
                            "theory": float(st["theory"][ell, a, b]), "deviation": float(st["dev"][ell, a, b]),
                            "rel_deviation": rel_dev, "rel_se": float(rel_se), "z": z,
                            "expectation": "exact" if exact[ell, a, b] else "O(1/n)",
                            "min_detectable": float(mde), "verdict": verdict, "reason": reason,
                            "n_networks": self.n_networks,
                        })
        return pd.DataFrame(rows)

    def init_table(self):
        """Per-layer initialization used by the theory and measured on the ensemble.

        Returns
        -------
        pandas.DataFrame
            Columns: layer, name, fan_in, width, bias, activation, gamma, cw, cw_measured,
            cw_measured_se, cb, cb_measured, cb_measured_se, cw_source, cb_source.
        """
        import pandas as pd

        rows = []
        for k, spec in enumerate(self.architecture.layers):
            rows.append({"layer": spec.index, "name": spec.name, "fan_in": spec.fan_in, "width": spec.width,
                         "bias": spec.bias, "activation": spec.activation, "gamma": spec.gamma,
                         "cw": float(self.cw[k]), "cw_measured": float(self.cw_measured[k]),
                         "cw_measured_se": float(self.cw_measured_se[k]), "cb": float(self.cb[k]),
                         "cb_measured": float(self.cb_measured[k]), "cb_measured_se": float(self.cb_measured_se[k]),
                         "cw_source": self.cw_source[k], "cb_source": self.cb_source[k]})
        return pd.DataFrame(rows)

    @property
    def verdict(self) -> Verdict:
        """PASS if every exact row agrees and is powered, FAIL if any disagrees, else INCONCLUSIVE."""
        return _overall(self.table().verdict)

    def layer_summary(self, quantity: str = "kernel", entries: str = "diag") -> dict[str, np.ndarray]:
        """Per-layer mean normalized deviation over diagonal or off-diagonal entries, with its SE.

        Averages the per-network replicates before taking the SE, so correlations between entries
        are accounted for.

        Parameters
        ----------
        quantity : {"kernel", "ntk"}
        entries : {"diag", "offdiag"}

        Returns
        -------
        dict
            ``rel_deviation``, ``se`` : ndarray, shape (L,).
        """
        if entries not in ("diag", "offdiag"):
            raise DLTheoryError(f"entries={entries!r}: accepted 'diag', 'offdiag'")
        quantities = {q: (rep, th) for q, _, rep, th in self._quantities()}
        if quantity not in quantities:
            raise DLTheoryError(f"quantity={quantity!r}: accepted {', '.join(quantities)}")
        reps, theory = quantities[quantity]
        st = self._entry_stats(quantity)
        p = theory.shape[1]
        mask = np.eye(p, dtype=bool) if entries == "diag" else ~np.eye(p, dtype=bool)
        if not mask.any():
            raise DLTheoryError("entries='offdiag' needs at least two inputs")
        normalized = (reps - theory) / st["scale"]  # (S, L, P, P)
        per_net = normalized[:, :, mask].mean(-1)  # (S, L)
        s = per_net.shape[0]
        se = per_net.std(0, ddof=1) / math.sqrt(s) if s > 1 else np.full(per_net.shape[1], np.inf)
        return {"rel_deviation": per_net.mean(0), "se": se}

    def summary(self) -> str:
        """A few lines: architecture, ensemble, verdict, largest |z| of exact and diagnostic rows."""
        t = self.table()
        zs = self.z_star()
        exact = t[t.expectation == "exact"]
        diag = t[t.expectation != "exact"]
        fin = exact[np.isfinite(exact.z)]
        under = int((exact.verdict == Verdict.INCONCLUSIVE).sum())
        lines = [self.architecture.describe(),
                 f"{self.n_networks} networks, {len(t)} entries; C_W from {', '.join(sorted(set(self.cw_source)))}",
                 f"exact rows: {len(exact)}, max |z| = {float(np.abs(fin.z).max()) if len(fin) else 0.0:.2f} "
                 f"(z* = {zs:.2f}, δ = {self.delta:g}) -> {self.verdict.value.upper()}"
                 + (f"; {under} inconclusive for lack of power (need (z* + 1.645)·SE ≤ δ: more networks, wider "
                    "layers or a larger δ)" if under else "")]
        if len(diag):
            lines.append(f"O(1/n) rows (diagnostic at one width): {len(diag)}, "
                         f"max |z| = {float(np.abs(diag.z).max()):.2f}, "
                         f"max |rel. deviation| = {float(np.abs(diag.rel_deviation).max()):.3g}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------------
# the ensemble


def _seed_list(seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 2:
            raise DLTheoryError(f"seeds={seeds!r}: need at least 2 networks for a standard error")
        return tuple(range(int(seeds)))
    try:
        out = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise DLTheoryError(f"seeds={seeds!r}: expected a count >= 2 or a sequence of ints") from None
    if len(out) < 2 or len(set(out)) != len(out):
        raise DLTheoryError("seeds: need at least 2 distinct seeds (one network each)")
    return out


def _reinit(model: nn.Module, rule: str, seed: int, cw: np.ndarray | None, cb: np.ndarray | None) -> nn.Module:
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for k, lin in enumerate(linears):
            fan_in = lin.in_features
            if rule == "torch_default":
                bound = 1.0 / math.sqrt(fan_in)
                w = torch.empty(lin.weight.shape, dtype=torch.float64).uniform_(-bound, bound, generator=g)
                b = None if lin.bias is None else torch.empty(lin.bias.shape, dtype=torch.float64).uniform_(
                    -bound, bound, generator=g)
            else:
                w = torch.randn(lin.weight.shape, generator=g, dtype=torch.float64) * math.sqrt(cw[k] / fan_in)
                b = None if lin.bias is None else torch.randn(lin.bias.shape, generator=g,
                                                              dtype=torch.float64) * math.sqrt(cb[k])
            lin.weight.copy_(w)
            if b is not None:
                lin.bias.copy_(b)
    return model


def _mismatch(net: nn.Module, xm: Tensor, override: _Act | None, arch: Architecture, seed: int, first: int):
    """Raise a DLTheoryError explaining how network ``seed`` differs from the first network."""
    parsed = _parse(net, xm, override)  # raises on its own if the network cannot be parsed
    if parsed.arch._signature() != arch._signature() or not np.allclose(parsed.arch.gammas, arch.gammas,
                                                                            rtol=1e-6, atol=1e-9):
        raise DLTheoryError(f"seed {seed}: the network's architecture differs from seed {first}'s:\n"
                            f"{parsed.arch.describe()}\nvs\n{arch.describe()}")
    raise DLTheoryError(f"seed {seed}: the network's output differs from its parsed architecture's "
                        f"(activations or residual strengths differ from seed {first}'s)")


def compare_to_theory(
    model: ModelFactory | nn.Module,
    x: np.ndarray | Tensor,
    seeds: int | Sequence[int] = 100,
    *,
    reinit: str | None = None,
    init: str = "measured",
    cw: float | Sequence[float] | None = None,
    cb: float | Sequence[float] | None = None,
    activation: str | Callable | None = None,
    lambda_b: float | Sequence[float] = 1.0,
    lambda_w: float | Sequence[float] = 1.0,
    ntk: bool = True,
    delta: float = 0.05,
    family_error: float = 1e-3,
    chunk_size: int | None = None,
    order: int = 80,
    n_threads: int | None = 1,
) -> TheoryComparison:
    """Empirical NNGP kernel and NTK of your networks, per layer, against the infinite-width theory.

    Parameters
    ----------
    model : callable or nn.Module
        A factory ``seed -> nn.Module`` (seed it explicitly, e.g. with a ``torch.Generator``), or a
        template module re-initialized per seed by ``reinit``.
    x : array or Tensor, shape (P, n0)
        Inputs.
    seeds : int or sequence of int
        One network per seed; an int N means seeds 0..N−1 (N ≥ 2).
    reinit : {"torch_default", "gaussian"}, optional
        Rule for a template module (default "torch_default"): PyTorch's ``nn.Linear`` law
        W, b ~ U(±1/√n_{ℓ-1}), or W ~ N(0, C_W/n_{ℓ-1}), b ~ N(0, C_b) with ``cw``/``cb`` (required
        ``cw``; ``cb`` default 0). Drawn with ``torch.Generator(seed)``; the theory uses the rule's
        constants exactly. Not allowed with a factory.
    init : {"measured", "torch_default"}
        For a factory: estimate C_W, C_b from the ensemble (SE propagated), or use PyTorch's rule
        C_W = 1/3, C_b = 1/(3 n_{ℓ-1}).
    cw, cb : float or sequence of L floats, optional
        Explicit C_W^(ℓ), C_b^(ℓ) for the theory (override ``init``).
    activation : str or callable, optional
        Hidden activation override (registry name or NumPy function), checked against the model.
    lambda_b, lambda_w : float or sequence of L floats
        NTK learning-rate tensor (§6.1): λ_b on biases, λ_W/n_{ℓ-1} on weights (the book's
        width-independent normalization). Plain SGD with one learning rate η on every parameter is
        ``lambda_b=η``, ``lambda_w=[η·n_0, ..., η·n_{L-1}]``.
    ntk : bool
        Also compute the NTK (cost O(L² P n³) per network).
    delta : float
        Declared minimal normalized effect for the power requirement of the exact rows.
    family_error : float
        Family-wise error for the Bonferroni z* (§10.1).
    chunk_size : int, optional
        Networks processed together (default: about 64 MB of parameters, activations and NTK
        Jacobians per chunk).
    order : int
        Gauss–Hermite nodes per dimension for activations without a closed form.
    n_threads : int or None
        Torch intra-op threads while the per-seed networks are built and run (small operations;
        more threads spin on a shared machine); restored afterwards. None leaves the setting.

    Returns
    -------
    TheoryComparison

    Raises
    ------
    DLTheoryError
        Bad arguments, unsupported layers, or networks that differ in architecture across seeds.
    """
    xs = _as_inputs(x)
    seed_list = _seed_list(seeds)
    if init not in _INIT_MODES:
        raise DLTheoryError(f"init={init!r}: accepted {', '.join(_INIT_MODES)}")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise DLTheoryError(f"delta={delta!r}: must be in (0, 1)")
    if not (isinstance(family_error, (int, float)) and 0 < family_error < 1):
        raise DLTheoryError(f"family_error={family_error!r}: must be in (0, 1)")
    override = _override_act(activation)
    template = None
    if isinstance(model, nn.Module):
        template = copy.deepcopy(model)
        reinit = "torch_default" if reinit is None else reinit
        if reinit not in _REINIT_RULES:
            raise DLTheoryError(f"reinit={reinit!r}: accepted {', '.join(_REINIT_RULES)}")
        if reinit == "gaussian" and cw is None:
            raise DLTheoryError("reinit='gaussian' needs cw= (and optionally cb=, default 0)")
    elif callable(model):
        if reinit is not None:
            raise DLTheoryError("reinit= applies to a template nn.Module, not to a factory (the factory initializes)")
    else:
        raise DLTheoryError(f"model: expected a factory seed -> nn.Module or an nn.Module, got {type(model).__name__}")

    arch: Architecture | None = None
    reinit_cw = reinit_cb = None
    s_total = len(seed_list)
    kern_out = ntk_out = None
    cw_hat = cb_hat = None
    lbs = lws = None
    start = 0
    xt64 = torch.as_tensor(xs, dtype=torch.float64)
    while start < s_total:
        batch_w: list[list[Tensor]] = []
        batch_b: list[list[Tensor | None]] = []
        nets: list[tuple] = []
        chunk = chunk_size or 8
        with _torch_threads(n_threads):  # small per-network ops: one thread avoids spinning under load
            for seed in seed_list[start:start + chunk]:
                if template is not None:
                    if arch is None and reinit == "gaussian":
                        n_lin = sum(1 for m in template.modules() if isinstance(m, nn.Linear))
                        reinit_cw = per_layer(cw, n_lin, "cw", positive=True)
                        reinit_cb = per_layer(0.0 if cb is None else cb, n_lin, "cb", positive=False)
                    net = _reinit(template, reinit, seed, reinit_cw, reinit_cb)
                else:
                    net = model(seed)
                net, dtype, device = _prepare_model(net)
                xm = torch.as_tensor(xs, dtype=dtype, device=device)
                if arch is None:
                    parsed = _parse(net, xm, override)
                    arch = parsed.arch
                    depth = arch.depth
                    lbs = per_layer(lambda_b, depth, "lambda_b", positive=False)
                    lws = per_layer(lambda_w, depth, "lambda_w", positive=False)
                    kern_out = np.empty((s_total, depth, len(xs), len(xs)))
                    ntk_out = np.empty_like(kern_out) if ntk else None
                    cw_hat = np.empty((s_total, depth))
                    cb_hat = np.full((s_total, depth), np.nan)
                    if chunk_size is None:  # ~64 MB per chunk: parameters, activations, NTK Jacobians
                        n_max = max(s.width for s in arch.layers)
                        per_net = 8 * (sum(s.width * s.fan_in for s in arch.layers)
                                       + 4 * len(xs) * sum(s.width for s in arch.layers)
                                       + (3 * len(xs) * n_max**2 if ntk else 0))
                        chunk = chunk_size = int(max(1, min(256, 64 * 2**20 // per_net)))
                    weights_k, biases_k, out = parsed.weights, parsed.biases, parsed.output
                else:
                    # later networks: read the parameters by name; the batched recomputation below is checked
                    # against each network's own output (a full re-parse explains any mismatch)
                    try:
                        mods = [net.get_submodule(spec.name) for spec in arch.layers]
                    except AttributeError:
                        mods = []
                    same = len(mods) == depth and all(
                        isinstance(m, nn.Linear) and m.weight.shape == (sp.width, sp.fan_in)
                        and (m.bias is not None) == sp.bias for m, sp in zip(mods, arch.layers))
                    if not same:
                        _mismatch(net, xm, override, arch, seed, seed_list[0])
                    weights_k = [m.weight.detach() for m in mods]
                    biases_k = [None if m.bias is None else m.bias.detach() for m in mods]
                    with torch.no_grad():
                        out = net(xm)
                # copies: a re-initialized template reuses its parameter tensors for the next seed
                batch_w.append([w.detach().to("cpu", torch.float64, copy=True) for w in weights_k])
                batch_b.append([None if b is None else b.detach().to("cpu", torch.float64, copy=True)
                                for b in biases_k])
                nets.append((seed, net, xm, out, dtype))
        c = len(batch_w)
        weights = [torch.stack([bw[k] for bw in batch_w]) for k in range(arch.depth)]
        biases = [None if batch_b[0][k] is None else torch.stack([bb[k] for bb in batch_b]) for k in range(arch.depth)]
        sl = slice(start, start + c)
        for k in range(arch.depth):
            cw_hat[sl, k] = (weights[k] ** 2).mean((1, 2)).numpy() * arch.layers[k].fan_in
            if biases[k] is not None:
                cb_hat[sl, k] = (biases[k] ** 2).mean(1).numpy()
        kern, ntk_t, final = _empirical(xt64, arch, weights, biases, lbs, lws, ntk)
        for j, (seed, net, xm, out, dtype) in enumerate(nets):
            expected = final[j]
            if arch.trailing is not None:
                with torch.no_grad():
                    expected = arch.trailing(expected)
            if not _close(out.to(torch.float64).cpu(), expected, _tolerance(dtype)):
                _mismatch(net, xm, override, arch, seed, seed_list[0])
        kern_out[sl] = kern.numpy()
        if ntk:
            ntk_out[sl] = ntk_t.numpy()
        start += c

    depth = arch.depth
    has_bias = np.array([s.bias for s in arch.layers])
    fan_in = np.array([s.fan_in for s in arch.layers], dtype=float)
    s = s_total
    cw_m, cb_m = cw_hat.mean(0), np.where(has_bias, np.nan_to_num(cb_hat).mean(0), np.nan)
    cw_se = cw_hat.std(0, ddof=1) / math.sqrt(s)
    cb_se = np.where(has_bias, np.nan_to_num(cb_hat).std(0, ddof=1) / math.sqrt(s), np.nan)
    # the constants the theory uses, and which of them are estimates (delta method below)
    mode = reinit if template is not None else init
    if mode == "torch_default":
        cw_use, cb_use = np.full(depth, 1.0 / 3.0), 1.0 / (3.0 * fan_in)
    elif mode == "gaussian":
        cw_use, cb_use = reinit_cw.copy(), reinit_cb.copy()
    else:
        cw_use, cb_use = cw_m.copy(), np.nan_to_num(cb_m)
    src_w = [mode] * depth
    src_b = [mode if has_bias[k] else "no bias" for k in range(depth)]
    measured_w = np.full(depth, mode == "measured")
    measured_b = has_bias & (mode == "measured")
    if cw is not None and mode != "gaussian":
        cw_use, measured_w = per_layer(cw, depth, "cw", positive=True), np.zeros(depth, dtype=bool)
        src_w = ["given"] * depth
    if cb is not None and mode != "gaussian":
        cb_use, measured_b = per_layer(cb, depth, "cb", positive=False), np.zeros(depth, dtype=bool)
        src_b = ["given" if has_bias[k] else "no bias" for k in range(depth)]
    cb_use = np.where(has_bias, cb_use, 0.0)
    if np.any(cw_use <= 0):
        raise DLTheoryError("cw: weight variances C_W must be > 0")
    lb_eff = np.where(has_bias, lbs, 0.0)

    def theory(cw_v: np.ndarray, cb_v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return network_ntk_recursion(xs, list(arch.theory_activations), cw_v, cb_v, arch.gammas, lb_eff, lws,
                                     ntk=ntk, order=order)

    k_th, t_th = theory(cw_use, cb_use)
    k_rep = kern_out.copy()
    n_rep = None if ntk_out is None else ntk_out.copy()
    # delta method: subtract ∇Q · (ĉ_s − c̄) per network for every measured constant
    for k in range(depth):
        for which, is_measured, est in (("cw", measured_w[k], cw_hat[:, k]), ("cb", measured_b[k], cb_hat[:, k])):
            if not is_measured:
                continue
            cw_v, cb_v = cw_use.copy(), cb_use.copy()
            bumped = cw_v if which == "cw" else cb_v
            h = 1e-5 * max(abs(bumped[k]), 1e-6)
            bumped[k] += h
            k2, t2 = theory(cw_v, cb_v)
            shift = (est - est.mean())[:, None, None, None]
            k_rep -= shift * ((k2 - k_th) / h)[None]
            if n_rep is not None:
                n_rep -= shift * ((t2 - t_th) / h)[None]
    return TheoryComparison(
        architecture=arch, x=xs, seeds=seed_list, kernel=kern_out, ntk=ntk_out, kernel_theory=k_th,
        ntk_theory=t_th, kernel_replicates=k_rep, ntk_replicates=n_rep, cw=np.asarray(cw_use, dtype=float),
        cb=np.asarray(cb_use, dtype=float), cw_measured=cw_m, cw_measured_se=cw_se, cb_measured=cb_m,
        cb_measured_se=cb_se, cw_source=tuple(src_w), cb_source=tuple(src_b), lambda_b=lb_eff, lambda_w=lws,
        delta=float(delta), family_error=float(family_error),
    )


# ----------------------------------------------------------------------------------------------------------------------
# width sweep


def _overall(verdicts) -> Verdict:
    """FAIL if any gated row fails, PASS if every gated row passes (and there is one), else INCONCLUSIVE."""
    gated = [Verdict(v) for v in verdicts if Verdict(v).gated]
    if any(v is Verdict.FAIL for v in gated):
        return Verdict.FAIL
    return Verdict.PASS if gated and all(v is Verdict.PASS for v in gated) else Verdict.INCONCLUSIVE


@dataclass(frozen=True, eq=False)
class WidthSweep:
    """Comparisons of one architecture at several widths (see :func:`width_sweep`).

    Attributes
    ----------
    widths : tuple of int
        Hidden widths n passed to the factory, increasing.
    comparisons : tuple of TheoryComparison
        One per width.
    order : int
        Highest power of 1/n in the trend fit.
    delta : float
        Declared minimal normalized effect for the extrapolated D_0.
    family_error : float
    """

    widths: tuple[int, ...]
    comparisons: tuple[TheoryComparison, ...]
    order: int = 1
    delta: float = 0.05
    family_error: float = 1e-3

    def table(self):
        """All per-width comparison rows (:meth:`TheoryComparison.table`) with a ``n`` column.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        frames = []
        for n, comp in zip(self.widths, self.comparisons):
            t = comp.table()
            t.insert(0, "n", n)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)

    def trend(self):
        """Per entry, the fit rel_deviation(n) = D_0 + D_1/n (+ D_2/n²) and the test D_0 = 0.

        The fit is :func:`dltheory.stats.weighted_least_squares` on
        :func:`dltheory.stats.inverse_width_design` (weights 1/SE², §10.1 (b)).

        Deterministic entries (SE 0 at every width, e.g. the first-layer NTK) are left out.
        Verdict per row (:class:`~dltheory.stats.Verdict`): INCONCLUSIVE if the fit's p-value < 0.01
        (the 1/n expansion does not describe these widths); otherwise :func:`dltheory.stats.judge` of
        D_0 against 0 with δ = ``delta`` and the Bonferroni z* over the fitted rows (FAIL if
        |D_0|/SE > z*, INCONCLUSIVE if SE(D_0) > δ/(z* + 1.645), else PASS).

        Returns
        -------
        pandas.DataFrame
            Columns: quantity, layer, a, b, expectation, d0, d0_se, z0, d1, d1_se, p_value, verdict,
            reason.
        """
        import pandas as pd

        t = self.table()
        t = t[t.se > 0]
        groups = list(t.groupby(["quantity", "layer", "a", "b"], sort=False))
        zs = bonferroni_z(max(len(groups), 1), self.family_error)
        rows = []
        for (q, layer, a, b), g in groups:
            g = g.sort_values("n")
            if len(g) < self.order + 1:
                continue
            fit = weighted_least_squares(inverse_width_design(g.n.to_numpy(), self.order), g.rel_deviation.to_numpy(),
                                         g.rel_se.to_numpy())
            (d0, d1), (d0_se, d1_se) = fit.coef[:2], fit.se[:2]
            z0 = d0 / d0_se
            if fit.dof > 0 and fit.p_value < 0.01:
                verdict, reason = Verdict.INCONCLUSIVE, (f"fit χ² p = {fit.p_value:.2g} < 0.01: the 1/n "
                                                         "expansion does not describe these widths")
            else:
                verdict, reason = judge(float(d0), float(d0_se), 0.0, self.delta, zs)
            rows.append({"quantity": q, "layer": layer, "a": a, "b": b, "expectation": g.expectation.iloc[0],
                         "d0": float(d0), "d0_se": float(d0_se), "z0": float(z0), "d1": float(d1),
                         "d1_se": float(d1_se), "p_value": fit.p_value, "verdict": verdict, "reason": reason})
        return pd.DataFrame(rows)

    @property
    def verdict(self) -> Verdict:
        """PASS if every fitted row passes, FAIL if any fails, else INCONCLUSIVE."""
        tr = self.trend()
        return _overall(tr.verdict if len(tr) else [])


def width_sweep(
    factory: Callable[[int, int], nn.Module],
    x: np.ndarray | Tensor,
    widths: Sequence[int],
    seeds: int | Sequence[int] | Callable[[int], int | Sequence[int]] = 100,
    *,
    order: int = 1,
    **kwargs,
) -> WidthSweep:
    """Run :func:`compare_to_theory` at several widths to show the approach to the theory.

    Parameters
    ----------
    factory : callable
        ``(width, seed) -> nn.Module``.
    x : array or Tensor, shape (P, n0)
    widths : sequence of int
        At least ``order + 2`` distinct hidden widths (one degree of freedom for the fit's p-value).
    seeds : int, sequence of int, or callable
        Per width: an ensemble size, explicit seeds, or ``width -> size or seeds`` (e.g. N ∝ n, §10.1).
        An int or a sequence is offset by ``2**20 · k`` at the k-th width, so the ensembles at
        different widths are independent.
    order : {1, 2}
        Highest power of 1/n in :meth:`WidthSweep.trend`.
    **kwargs
        Passed to :func:`compare_to_theory` (``init``, ``cw``, ``cb``, ``activation``, ``lambda_b``,
        ``lambda_w``, ``ntk``, ``delta``, ``family_error``, ...).

    Returns
    -------
    WidthSweep
    """
    try:
        ws = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        raise DLTheoryError(f"widths={widths!r}: expected a sequence of ints") from None
    if order not in (1, 2):
        raise DLTheoryError(f"order={order!r}: accepted 1 or 2")
    if len(set(ws)) != len(ws) or len(ws) < order + 2 or min(ws) < 1:
        raise DLTheoryError(f"widths={widths!r}: need >= {order + 2} distinct positive widths")
    if "reinit" in kwargs:
        raise DLTheoryError("width_sweep needs a factory (width, seed) -> nn.Module; reinit= is not accepted")
    ws = tuple(sorted(ws))
    comps = []
    for k, n in enumerate(ws):
        spec = seeds(n) if callable(seeds) else seeds
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            seed_list = tuple(range(k * 2**20, k * 2**20 + int(spec)))
        else:
            seed_list = tuple(int(s) + (0 if callable(seeds) else k * 2**20) for s in spec)
        comps.append(compare_to_theory(lambda seed, n=n: factory(n, seed), x, seed_list, **kwargs))
    return WidthSweep(ws, tuple(comps), order, comps[0].delta, comps[0].family_error)
