"""The one activation registry of dltheory (effective-theory.md §3.2-3.3, §4.2-4.3, §9.4).

Every pillar resolves activations here. A name maps to one :class:`Activation` carrying

* the NumPy forms σ and σ' (float64, vectorised) used by the effective theory;
* the torch forms σ and σ' (:attr:`Activation.torch`, built on first use — torch is imported only
  inside those builders, so :mod:`dltheory.effective` can use this module without torch);
* the Taylor coefficients σ_0..σ_3 at 0 (σ(z) = Σ σ_k z^k / k!, §4.3) and the slopes (a_+, a_-)
  of the scale-invariant class (§3.2);
* the universality class the §4.1 solver is expected to find (§4.2; metadata, tested against the
  solver in ``tests/effective/test_criticality.py``);
* the closed-form kernel hook ``kernel(k11, k12, k22, derivative) -> (⟨σ_1σ_2⟩, ⟨σ'_1σ'_2⟩)``
  over the bivariate Gaussian with covariance [[k11, k12], [k12, k22]] (elementwise over broadcast
  arrays), used by :mod:`dltheory.effective.gaussian` before any quadrature (§3.2, §9.1), and the
  closed-form g'(K) where one is used (erf, sin).

Closed-form kernels (ρ = k12/√(k11 k22) = cos ψ; each checked against a kink-aware 2-D quadrature
to ≤ 1e-10 in ``tests/test_closed_form_kernels.py``):

* scale-invariant (linear, ReLU, leaky ReLU, ABReLU): the §3.2 arc-cosine forms [MC];
* erf, sin: §3.2 [MC]; cos: ⟨cos cos⟩ = e^{-(k11+k22)/2} cosh k12, ⟨sin sin⟩ = e^{-(k11+k22)/2} sinh k12;
* GELU z Φ(z) [Tsuchida, Pearce & Roosta, arXiv:2002.08517; checked here]: with
  Δ² = (1+k11)(1+k22) − k12², θ = atan2(k12, Δ),
  ⟨σσ⟩ = k12/4 + [k12 θ + (k12² + k11 k22 Δ²)/((1+k11)(1+k22)Δ)]/(2π),
  ⟨σ'σ'⟩ = 1/4 + θ/(2π) + k12 [1/Δ² + (2+k11+k22)/((1+k11)(1+k22))]/(2πΔ);
* gaussian e^{-z²/2}: with D = (1+k11)(1+k22) − k12², ⟨σσ⟩ = D^{-1/2}, ⟨σ'σ'⟩ = k12 D^{-3/2};
* step 1{z>0}: ⟨σσ⟩ = (π − ψ)/(2π); sign: ⟨σσ⟩ = 1 − 2ψ/π; both have σ' = 0 almost everywhere,
  so ⟨σ'σ'⟩ = 0 (the finite network's gradient; the δ at 0 is not a function);
* ReLU^k = max(z, 0)^k (arc-cosine kernel of order k, Cho & Saul 2009): ⟨σσ⟩ = (k11 k22)^{k/2} F_kk(ρ)
  with F_mn(ρ) = E[u_+^m v_+^n] for unit variances from the Stein recursion [DER]
  F_mn = A_mn + ρ B_mn, A_mn = (m−1)F_{m−2,n} (m ≥ 2) or φ(0) s^n M_n (m = 1),
  B_mn = n F_{m−1,n−1} (n ≥ 1) or φ(0) s^{m−1} M_{m−1} (n = 0), F_00 = (π − ψ)/(2π),
  s = √(1−ρ²), M_j = E[w_+^j] = 2^{j/2−1} Γ((j+1)/2)/√π; ⟨σ'σ'⟩ = k² (k11 k22)^{(k−1)/2} F_{k−1,k−1}(ρ);
* monomials z^k (Mehler, a finite sum [DER]): ⟨σσ⟩ = Σ_{m ≤ k/2} [k!/(m!(k−2m)! 2^m)]² (k−2m)!
  k12^{k−2m} (k11 k22)^m, ⟨σ'σ'⟩ = k² × the same at k − 1.

Activations without a closed form (tanh, SWISH, softplus, sigmoid, user callables) go through the
Hermite (Mehler) series of :func:`dltheory.effective.gaussian.pair_expectations`.

Names (case-insensitive; see :data:`ACTIVATION_NAMES`)
------------------------------------------------------
``linear, relu, leaky_relu, erf, sin, tanh, gelu, swish, softplus, sigmoid, cos, gaussian, step,
sign`` and the alias ``silu`` (= ``swish``). GELU is the exact z Φ(z); ``gaussian`` is e^{-z²/2};
``step`` is 1{z > 0}. Parametrised forms:

* ``"leaky_relu:<slope>"`` — negative-side slope a_- (``"leaky_relu"`` alone: 0.01);
* ``"abrelu:<a>,<b>"`` — a·min(z, 0) + b·max(z, 0) (``"abrelu:-1,1"`` is |z|);
* ``"relu^<k>"`` — max(z, 0)^k, integer k ≥ 1 (``"relu^1"`` is ``"relu"``);
* ``"monomial:<k>"`` — z^k, integer k ≥ 1 (``"monomial:1"`` is ``"linear"``);
* ``"<name>*<gain>"`` — the gain-scaled activation g·σ(z), with ``<gain>`` a finite non-zero
  number or ``sqrt<x>`` for √x. **Gains are always explicit**: ``"relu"`` is the plain ReLU
  everywhere, and ``"relu*sqrt2"`` is √2·ReLU (E[σ(h)²] = E[h²] for h ~ N(0, v), the ``mupify``
  convention used by the richness pillar). A gain multiplies σ, σ', the Taylor coefficients and
  the slopes by g and keeps the universality class (critical C_W divides by g²).

At the kink of ReLU-like σ the derivative takes the negative-side slope (σ'(0) = a_-), in both
forms, as torch autograd does.

User callables (NumPy-vectorised, float64 in/out) are accepted by :func:`get_activation`; their
derivative is a fourth-order central difference unless supplied, and they have no torch form.
Torch callables are accepted by :func:`resolve_torch_activation` (derivative by autograd).
Registry objects pickle by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from scipy.special import erf, expit, log_expit, ndtr

from dltheory.errors import DLTheoryError

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "TorchActivation",
    "get_activation",
    "resolve_torch_activation",
    "torch_activation",
]

ArrayFn = Callable[[np.ndarray], np.ndarray]
TensorFn = Callable[[Any], Any]  # torch.Tensor -> torch.Tensor (torch is not imported here)
TorchBuilder = Callable[[], tuple[TensorFn, TensorFn]]
PairKernel = Callable[[np.ndarray, np.ndarray, np.ndarray, bool], tuple[np.ndarray, "np.ndarray | None"]]
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / _SQRT_2PI
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_MAX_POWER = 12  # relu^k and z^k: closed forms exact for any k, capped to keep float64 moments sane


@dataclass(frozen=True)
class TorchActivation:
    """An elementwise torch activation σ with its derivative σ'.

    Attributes
    ----------
    name : str
        Registry name, or the torch callable's ``__name__``.
    fn, derivative : callable
        ``Tensor -> Tensor``, elementwise, any shape.
    registered : bool
        True for registry objects (they pickle by name).
    """

    name: str
    fn: TensorFn
    derivative: TensorFn
    registered: bool = field(default=False, compare=False, repr=False)

    def __call__(self, z):
        return self.fn(z)

    def __reduce_ex__(self, protocol):
        if self.registered:
            return (resolve_torch_activation, (self.name,))
        return super().__reduce_ex__(protocol)


@dataclass(frozen=True)
class Activation:
    """An activation function with everything the pillars need (see the module docstring).

    Attributes
    ----------
    name : str
        Canonical registry name (or the user callable's name).
    fn, derivative : callable
        NumPy σ and σ', vectorised over arrays of any shape (float64).
    taylor : tuple of 4 float or None
        (σ_0, σ_1, σ_2, σ_3), the Taylor coefficients at 0 (§4.3); ``None`` for kinked σ.
    slopes : tuple (a_plus, a_minus) or None
        Slopes of a scale-invariant σ (§3.2); ``None`` otherwise.
    kernel : callable or None
        Closed form ``kernel(k11, k12, k22, derivative) -> (ss, dd)``: ss = ⟨σ(z_1)σ(z_2)⟩ and
        dd = ⟨σ'(z_1)σ'(z_2)⟩ (``None`` unless ``derivative``) under the covariance
        [[k11, k12], [k12, k22]], elementwise over broadcast arrays (PSD entries); ``None`` when σ
        has no closed form (then the Hermite series of :mod:`dltheory.effective.gaussian` is used).
    g_prime : callable or None
        Closed-form g'(K) = d⟨σ²⟩_K/dK (erf, sin and their gains); ``None``: §3.4 quadrature.
    universality : str or None
        Universality class the §4.1 solver finds (§4.2: ``"scale-invariant"``, ``"K*=0"``,
        ``"half-stable"``, ``"none"``); ``None`` when not declared (user callables) or when σ' = 0
        almost everywhere (step, sign: χ_⊥ = 0, no criticality).
    gain : float
        g of a ``"<name>*<gain>"`` form (1 otherwise).
    registered : bool
        True for registry objects (they pickle by name and have a torch form).
    """

    name: str
    fn: ArrayFn
    derivative: ArrayFn
    taylor: tuple[float, float, float, float] | None = None
    slopes: tuple[float, float] | None = None
    kernel: PairKernel | None = field(default=None, compare=False, repr=False)
    g_prime: ArrayFn | None = field(default=None, compare=False, repr=False)
    universality: str | None = None
    gain: float = 1.0
    registered: bool = field(default=False, compare=False, repr=False)
    torch_builder: TorchBuilder | None = field(default=None, compare=False, repr=False)

    @property
    def is_scale_invariant(self) -> bool:
        """True for σ(z) = a_+ z (z ≥ 0), a_- z (z < 0) (§3.2)."""
        return self.slopes is not None

    @property
    def a2(self) -> float:
        """A_2 = (a_+² + a_-²)/2 of a scale-invariant σ (§3.2)."""
        self._require_scale_invariant("a2")
        ap, am = self.slopes  # type: ignore[misc]
        return 0.5 * (ap * ap + am * am)

    @property
    def a4(self) -> float:
        """A_4 = (a_+⁴ + a_-⁴)/2 of a scale-invariant σ (§3.2)."""
        self._require_scale_invariant("a4")
        ap, am = self.slopes  # type: ignore[misc]
        return 0.5 * (ap**4 + am**4)

    @cached_property
    def torch(self) -> TorchActivation:
        """The torch twin (σ, σ' on tensors), built on first access.

        Raises
        ------
        DLTheoryError
            A NumPy user callable (it has no torch form; pass a torch callable to
            :func:`resolve_torch_activation` instead).
        """
        if self.torch_builder is None:
            raise DLTheoryError(f"activation={self.name!r} is a NumPy callable without a torch form; "
                                "pass a registry name or a torch callable")
        fn, der = self.torch_builder()
        return TorchActivation(self.name, fn, der, registered=self.registered)

    def _require_scale_invariant(self, what: str) -> None:
        if self.slopes is None:
            raise DLTheoryError(f"{what} is defined only for scale-invariant activations; got {self.name!r}")

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.fn(z)

    def __reduce_ex__(self, protocol):
        if self.registered:
            return (get_activation, (self.name,))
        return super().__reduce_ex__(protocol)


# ---------------------------------------------------------------- built-ins: NumPy and torch forms


def _scale_invariant(name: str, a_plus: float, a_minus: float) -> Activation:
    if a_plus == 1.0 and a_minus == 0.0:  # ReLU: the cheapest exact form
        def fn(z: np.ndarray) -> np.ndarray:
            return np.maximum(np.asarray(z, dtype=float), 0.0)
    else:
        def fn(z: np.ndarray) -> np.ndarray:
            z = np.asarray(z, dtype=float)
            return np.where(z >= 0, a_plus * z, a_minus * z)

    def der(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.where(z > 0, a_plus, a_minus) + 0.0 * z

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        import torch

        def tder(z):
            return torch.where(z > 0, torch.full_like(z, a_plus), torch.full_like(z, a_minus))

        if a_plus == a_minus:
            return (lambda z: a_plus * z), (lambda z: torch.full_like(z, a_plus))
        if a_plus == 1.0 and a_minus == 0.0:
            return torch.relu, tder
        if a_plus == 1.0:
            return (lambda z: torch.nn.functional.leaky_relu(z, a_minus)), tder
        return (lambda z: torch.where(z >= 0, a_plus * z, a_minus * z)), tder

    taylor = (0.0, a_plus, 0.0, 0.0) if a_plus == a_minus else None
    return Activation(name, fn, der, taylor=taylor, slopes=(a_plus, a_minus),
                      kernel=_scale_invariant_kernel(a_plus, a_minus), universality="scale-invariant",
                      registered=True, torch_builder=torch_forms)


def _scale_invariant_kernel(ap: float, am: float) -> PairKernel:
    """§3.2: a_+a_- k12 + (a_+ − a_-)² √(k11k22)[sin ψ + (π−ψ)cos ψ]/(2π); a_+a_- + (a_+ − a_-)²(π−ψ)/(2π)."""

    def kernel(k11, k12, k22, derivative):
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

    return kernel


def _gelu(z: np.ndarray) -> np.ndarray:
    return z * ndtr(z)


def _gelu_der(z: np.ndarray) -> np.ndarray:
    return ndtr(z) + z * np.exp(-0.5 * z * z) / _SQRT_2PI


def _swish(z: np.ndarray) -> np.ndarray:
    return z * expit(z)


def _swish_der(z: np.ndarray) -> np.ndarray:
    s = expit(z)
    return s + z * s * (1.0 - s)


def _softplus(z: np.ndarray) -> np.ndarray:
    return -log_expit(-np.asarray(z, dtype=float))


def _sigmoid_der(z: np.ndarray) -> np.ndarray:
    s = expit(z)
    return s * (1.0 - s)


def _tanh_der(z: np.ndarray) -> np.ndarray:
    t = np.tanh(z)
    return 1.0 - t * t


def _erf_der(z: np.ndarray) -> np.ndarray:
    return _TWO_OVER_SQRT_PI * np.exp(-np.asarray(z, dtype=float) ** 2)


# ---------------------------------------------------------------- closed-form kernels (§3.2)


def _unit_correlation(k11, k12, k22):
    """ρ = k12/√(k11 k22) clipped to [−1, 1] (1 where a variance is 0), and √(k11 k22)."""
    norm = np.sqrt(k11 * k22)
    rho = np.divide(k12, norm, out=np.ones(np.broadcast(k12, norm).shape), where=norm > 0)
    np.clip(rho, -1.0, 1.0, out=rho)
    return rho, norm


def _erf_kernel(k11, k12, k22, derivative):
    d = (1.0 + 2.0 * k11) * (1.0 + 2.0 * k22)
    ss = (2.0 / math.pi) * np.arcsin(np.clip(2.0 * k12 / np.sqrt(d), -1.0, 1.0))
    dd = (4.0 / math.pi) / np.sqrt(d - 4.0 * k12 * k12) if derivative else None
    return ss, dd


def _erf_g_prime(k):
    return 4.0 / (math.pi * (1.0 + 2.0 * k) * np.sqrt(1.0 + 4.0 * k))


def _sin_kernel(k11, k12, k22, derivative):
    m = 0.5 * (k11 + k22)
    ss = 0.5 * (np.exp(k12 - m) - np.exp(-k12 - m))
    dd = 0.5 * (np.exp(k12 - m) + np.exp(-k12 - m)) if derivative else None
    return ss, dd


def _sin_g_prime(k):
    return np.exp(-2.0 * k)


def _cos_kernel(k11, k12, k22, derivative):
    m = 0.5 * (k11 + k22)
    ss = 0.5 * (np.exp(k12 - m) + np.exp(-k12 - m))
    dd = 0.5 * (np.exp(k12 - m) - np.exp(-k12 - m)) if derivative else None
    return ss, dd


def _gelu_kernel(k11, k12, k22, derivative):
    p11, p22 = 1.0 + k11, 1.0 + k22
    pp = p11 * p22
    delta2 = pp - k12 * k12  # ≥ 1 + k11 + k22 > 0 for PSD input
    delta = np.sqrt(delta2)
    theta = np.arctan2(k12, delta)
    ss = 0.25 * k12 + (k12 * theta + (k12 * k12 + k11 * k22 * delta2) / (pp * delta)) / (2.0 * math.pi)
    if not derivative:
        return ss, None
    dd = 0.25 + theta / (2.0 * math.pi) + k12 / (2.0 * math.pi * delta) * (1.0 / delta2 + (2.0 + k11 + k22) / pp)
    return ss, dd


def _gaussian_kernel(k11, k12, k22, derivative):
    d = (1.0 + k11) * (1.0 + k22) - k12 * k12
    ss = 1.0 / np.sqrt(d)
    dd = k12 * ss / d if derivative else None
    return ss, dd


def _step_kernel(k11, k12, k22, derivative):
    rho, norm = _unit_correlation(k11, k12, k22)
    ss = np.where(norm > 0, (math.pi - np.arccos(rho)) / (2.0 * math.pi), 0.0)
    return ss, (0.0 * ss if derivative else None)


def _sign_kernel(k11, k12, k22, derivative):
    rho, norm = _unit_correlation(k11, k12, k22)
    ss = np.where(norm > 0, 1.0 - (2.0 / math.pi) * np.arccos(rho), 0.0)
    return ss, (0.0 * ss if derivative else None)


def _half_moment(j: int) -> float:
    """M_j = E[w_+^j] = 2^{j/2−1} Γ((j+1)/2)/√π for w ~ N(0, 1) (M_0 = 1/2)."""
    return 2.0 ** (0.5 * j - 1.0) * math.gamma(0.5 * (j + 1)) / math.sqrt(math.pi)


def _rectified_moments(rho, order: int):
    """F_kk(ρ) = E[u_+^k v_+^k] for k = 0..order, unit variances, correlation ρ (Stein recursion [DER])."""
    s = np.sqrt(np.maximum(1.0 - rho * rho, 0.0))
    phi0 = 1.0 / math.sqrt(2.0 * math.pi)
    table: dict[tuple[int, int], np.ndarray] = {(0, 0): (math.pi - np.arccos(rho)) / (2.0 * math.pi)}

    def f(m: int, n: int) -> np.ndarray:
        if m < n:
            m, n = n, m
        if (m, n) not in table:
            a = (m - 1) * f(m - 2, n) if m >= 2 else phi0 * s**n * _half_moment(n)
            b = n * f(m - 1, n - 1) if n >= 1 else phi0 * s ** (m - 1) * _half_moment(m - 1)
            table[(m, n)] = a + rho * b
        return table[(m, n)]

    return [f(k, k) for k in range(order + 1)]


def _relu_power_kernel(power: int) -> PairKernel:
    def kernel(k11, k12, k22, derivative):
        rho, norm = _unit_correlation(k11, k12, k22)
        f = _rectified_moments(rho, power)
        ss = norm**power * f[power]
        dd = power * power * norm ** (power - 1) * f[power - 1] if derivative else None
        return ss, dd

    return kernel


def _monomial_sum(k11, k12, k22, k: int):
    """E[z_1^k z_2^k] = Σ_m [k!/(m!(k−2m)! 2^m)]² (k−2m)! k12^{k−2m} (k11 k22)^m (exact polynomial)."""
    prod = k11 * k22
    out = 0.0 * k12
    for m in range(k // 2 + 1):
        j = k - 2 * m
        coef = (math.factorial(k) / (math.factorial(m) * math.factorial(j) * 2**m)) ** 2 * math.factorial(j)
        out = out + coef * k12**j * prod**m
    return out


def _monomial_kernel(power: int) -> PairKernel:
    def kernel(k11, k12, k22, derivative):
        ss = _monomial_sum(k11, k12, k22, power)
        dd = power * power * _monomial_sum(k11, k12, k22, power - 1) if derivative else None
        return ss, dd

    return kernel


def _torch_erf() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.erf, lambda z: _TWO_OVER_SQRT_PI * torch.exp(-z * z)


def _torch_sin() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.sin, torch.cos


def _torch_tanh() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        t = torch.tanh(z)
        return 1.0 - t * t

    return torch.tanh, der


def _torch_gelu() -> tuple[TensorFn, TensorFn]:
    import torch

    def fn(z):
        return 0.5 * z * (1.0 + torch.erf(z * _INV_SQRT2))

    def der(z):
        return 0.5 * (1.0 + torch.erf(z * _INV_SQRT2)) + z * torch.exp(-0.5 * z * z) * _INV_SQRT_2PI

    return fn, der


def _torch_swish() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        s = torch.sigmoid(z)
        return s + z * s * (1.0 - s)

    return (lambda z: z * torch.sigmoid(z)), der


def _torch_softplus() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.nn.functional.softplus, torch.sigmoid


def _torch_sigmoid() -> tuple[TensorFn, TensorFn]:
    import torch

    def der(z):
        s = torch.sigmoid(z)
        return s * (1.0 - s)

    return torch.sigmoid, der


def _torch_cos() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.cos, lambda z: -torch.sin(z)


def _gaussian(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.square(z))


def _gaussian_der(z: np.ndarray) -> np.ndarray:
    return -z * np.exp(-0.5 * np.square(z))


def _torch_gaussian() -> tuple[TensorFn, TensorFn]:
    import torch

    return (lambda z: torch.exp(-0.5 * z * z)), (lambda z: -z * torch.exp(-0.5 * z * z))


def _step(z: np.ndarray) -> np.ndarray:
    return (np.asarray(z, dtype=float) > 0).astype(float)


def _zero_der(z: np.ndarray) -> np.ndarray:
    return np.zeros_like(np.asarray(z, dtype=float))


def _torch_step() -> tuple[TensorFn, TensorFn]:
    import torch

    # + 0·z keeps the autograd graph connected (gradient 0, as torch.sign)
    return (lambda z: (z > 0).to(z.dtype) + 0.0 * z), torch.zeros_like


def _sign(z: np.ndarray) -> np.ndarray:
    return np.sign(np.asarray(z, dtype=float))


def _torch_sign() -> tuple[TensorFn, TensorFn]:
    import torch

    return torch.sign, torch.zeros_like


def _relu_power(power: int) -> Activation:
    def fn(z: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(z, dtype=float), 0.0) ** power

    def der(z: np.ndarray) -> np.ndarray:
        return power * np.maximum(np.asarray(z, dtype=float), 0.0) ** (power - 1)

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        import torch

        return (lambda z: torch.relu(z) ** power), (lambda z: power * torch.relu(z) ** (power - 1))

    return Activation(f"relu^{power}", fn, der, kernel=_relu_power_kernel(power), universality="none",
                      registered=True, torch_builder=torch_forms)


def _monomial(power: int) -> Activation:
    def fn(z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=float) ** power

    def der(z: np.ndarray) -> np.ndarray:
        return power * np.asarray(z, dtype=float) ** (power - 1)

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        return (lambda z: z**power), (lambda z: power * z ** (power - 1))

    taylor = tuple(float(math.factorial(power)) if j == power else 0.0 for j in range(4))
    return Activation(f"monomial:{power}", fn, der, taylor=taylor, kernel=_monomial_kernel(power),  # type: ignore[arg-type]
                      universality="none", registered=True, torch_builder=torch_forms)


def _builtin(name: str, fn: ArrayFn, der: ArrayFn, torch_builder: TorchBuilder, **kw) -> Activation:
    return Activation(name, fn, der, registered=True, torch_builder=torch_builder, **kw)


_BUILTINS: dict[str, Activation] = {
    "linear": _scale_invariant("linear", 1.0, 1.0),
    "relu": _scale_invariant("relu", 1.0, 0.0),
    "leaky_relu": _scale_invariant("leaky_relu", 1.0, 0.01),
    "erf": _builtin("erf", erf, _erf_der, _torch_erf, taylor=(0.0, _TWO_OVER_SQRT_PI, 0.0, -2.0 * _TWO_OVER_SQRT_PI),
                    kernel=_erf_kernel, g_prime=_erf_g_prime, universality="K*=0"),
    "sin": _builtin("sin", np.sin, np.cos, _torch_sin, taylor=(0.0, 1.0, 0.0, -1.0), kernel=_sin_kernel,
                    g_prime=_sin_g_prime, universality="K*=0"),
    "tanh": _builtin("tanh", np.tanh, _tanh_der, _torch_tanh, taylor=(0.0, 1.0, 0.0, -2.0), universality="K*=0"),
    "gelu": _builtin("gelu", _gelu, _gelu_der, _torch_gelu, taylor=(0.0, 0.5, 2.0 / _SQRT_2PI, 0.0),
                     kernel=_gelu_kernel, universality="half-stable"),
    "swish": _builtin("swish", _swish, _swish_der, _torch_swish, taylor=(0.0, 0.5, 0.5, 0.0),
                      universality="half-stable"),
    "softplus": _builtin("softplus", _softplus, expit, _torch_softplus, taylor=(math.log(2.0), 0.5, 0.25, 0.0),
                         universality="none"),
    "sigmoid": _builtin("sigmoid", expit, _sigmoid_der, _torch_sigmoid, taylor=(0.5, 0.25, 0.0, -0.125),
                        universality="none"),
    # g'(K) < 0 for cos and gaussian, so χ_∥ = 1 has no solution: class "none" [DER]
    "cos": _builtin("cos", np.cos, lambda z: -np.sin(z), _torch_cos, taylor=(1.0, 0.0, -1.0, 0.0),
                    kernel=_cos_kernel, universality="none"),
    "gaussian": _builtin("gaussian", _gaussian, _gaussian_der, _torch_gaussian, taylor=(1.0, 0.0, -1.0, 0.0),
                         kernel=_gaussian_kernel, universality="none"),
    "step": _builtin("step", _step, _zero_der, _torch_step, kernel=_step_kernel),
    "sign": _builtin("sign", _sign, _zero_der, _torch_sign, kernel=_sign_kernel),
}
_ALIASES = {"silu": "swish"}

#: Built-in names accepted by :func:`get_activation` and :func:`resolve_torch_activation` (plus the
#: parametrised forms ``"leaky_relu:<slope>"``, ``"abrelu:<a>,<b>"``, ``"relu^<k>"``,
#: ``"monomial:<k>"`` and ``"<name>*<gain>"``, e.g. ``"relu*sqrt2"``).
ACTIVATION_NAMES: tuple[str, ...] = tuple(_BUILTINS) + tuple(_ALIASES)


# ---------------------------------------------------------------- names: parsing and gains


def _format_number(x: float) -> str:
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def _parse_number(text: str, what: str, original: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DLTheoryError(f"activation={original!r}: {what} must be a number") from None
    if not math.isfinite(value):
        raise DLTheoryError(f"activation={original!r}: {what} must be finite")
    return value


def _parse_power(text: str, original: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= _MAX_POWER:
        raise DLTheoryError(f"activation={original!r}: the power must be an integer in [1, {_MAX_POWER}]")
    return int(text)


def _parse_gain(text: str, original: str) -> tuple[float, str]:
    """Gain token → (g, canonical token); ``sqrt<x>`` means √x."""
    token = text.strip()
    if token.startswith("sqrt"):
        inner = token[4:].strip("()")
        x = _parse_number(inner, "the number after 'sqrt' in the gain", original)
        if x <= 0:
            raise DLTheoryError(f"activation={original!r}: sqrt<x> gain needs x > 0")
        return math.sqrt(x), f"sqrt{_format_number(x)}"
    g = _parse_number(token, "gain after '*'", original)
    if g == 0:
        raise DLTheoryError(f"activation={original!r}: gain after '*' must be non-zero")
    return g, _format_number(g)


def _scaled(base: Activation, gain: float, name: str) -> Activation:
    """g·σ: σ, σ', Taylor data and slopes scale by g, kernels by g²; the class is unchanged."""
    g = gain
    fn, der = base.fn, base.derivative

    def sfn(z: np.ndarray) -> np.ndarray:
        return g * fn(z)

    def sder(z: np.ndarray) -> np.ndarray:
        return g * der(z)

    kernel = None
    if base.kernel is not None and base.slopes is None:
        inner, g2 = base.kernel, g * g

        def kernel(k11, k12, k22, derivative):
            ss, dd = inner(k11, k12, k22, derivative)
            return g2 * ss, (None if dd is None else g2 * dd)

    g_prime = None
    if base.g_prime is not None:
        inner_gp = base.g_prime

        def g_prime(k):
            return (g * g) * inner_gp(k)

    builder = base.torch_builder

    def torch_forms() -> tuple[TensorFn, TensorFn]:
        tfn, tder = builder()  # type: ignore[misc]
        return (lambda z: g * tfn(z)), (lambda z: g * tder(z))

    slopes = None if base.slopes is None else (g * base.slopes[0], g * base.slopes[1])
    return Activation(
        name, sfn, sder,
        taylor=None if base.taylor is None else tuple(g * t for t in base.taylor),  # type: ignore[arg-type]
        slopes=slopes,
        kernel=_scale_invariant_kernel(*slopes) if slopes is not None else kernel,
        g_prime=g_prime,
        universality=base.universality,
        gain=g,
        registered=True,
        torch_builder=torch_forms if builder is not None else None,
    )


def _accepted() -> str:
    return (", ".join(ACTIVATION_NAMES) + ", 'leaky_relu:<slope>', 'abrelu:<a>,<b>', 'relu^<k>', 'monomial:<k>', "
            "'<name>*<gain>' (e.g. 'relu*sqrt2'), an Activation or a callable")


def _from_name(name: str) -> Activation:
    """The registry object of a name (one cached object per spelling after lower-casing)."""
    return _build(name.strip().lower().replace(" ", ""), name)


@lru_cache(maxsize=256)
def _build(text: str, name: str) -> Activation:
    base_text, star, gain_text = text.partition("*")
    base_text = _ALIASES.get(base_text, base_text)
    if base_text in _BUILTINS:
        base = _BUILTINS[base_text]
    elif base_text.startswith("leaky_relu:"):
        slope = _parse_number(base_text.split(":", 1)[1], "slope after 'leaky_relu:'", name)
        base = _scale_invariant(f"leaky_relu:{_format_number(slope)}", 1.0, slope)
    elif base_text.startswith("abrelu:"):
        parts = base_text.split(":", 1)[1].split(",")
        if len(parts) != 2:
            raise DLTheoryError(f"activation={name!r}: expected 'abrelu:<a>,<b>' (slopes for z < 0 and z > 0)")
        a, b = (_parse_number(t, "abrelu slope", name) for t in parts)
        base = _scale_invariant(f"abrelu:{_format_number(a)},{_format_number(b)}", b, a)
    elif base_text.startswith("relu^") or base_text.startswith("monomial:"):
        power = _parse_power(base_text.split("^" if base_text.startswith("relu^") else ":", 1)[1], name)
        if power == 1:
            base = _BUILTINS["relu" if base_text.startswith("relu^") else "linear"]
        else:
            base = _relu_power(power) if base_text.startswith("relu^") else _monomial(power)
    else:
        raise DLTheoryError(f"activation={name!r} is unknown; accepted: {_accepted()}")
    if not star:
        return base
    gain, token = _parse_gain(gain_text, name)
    return _scaled(base, gain, f"{base.name}*{token}")


# ---------------------------------------------------------------- user callables


def _numerical_derivative(fn: ArrayFn, h: float = 1e-3) -> ArrayFn:
    """Fourth-order central difference (truncation ~h⁴, round-off ~ε/h)."""

    def der(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return (8.0 * (fn(z + h) - fn(z - h)) - (fn(z + 2 * h) - fn(z - 2 * h))) / (12.0 * h)

    return der


def _numerical_taylor(fn: ArrayFn, h: float = 1e-2) -> tuple[float, float, float, float]:
    """σ_0..σ_3 at 0 by fourth-order central-difference stencils."""
    f = {k: float(np.asarray(fn(np.array(k * h)), dtype=float)) for k in range(-3, 4)}
    s0 = f[0]
    s1 = (8.0 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12.0 * h)
    s2 = (-f[2] + 16.0 * f[1] - 30.0 * f[0] + 16.0 * f[-1] - f[-2]) / (12.0 * h * h)
    s3 = (-f[3] + 8.0 * f[2] - 13.0 * f[1] + 13.0 * f[-1] - 8.0 * f[-2] + f[-3]) / (8.0 * h**3)
    return (s0, s1, s2, s3)


# ---------------------------------------------------------------- resolution


def get_activation(
    activation: str | Activation | ArrayFn,
    derivative: ArrayFn | None = None,
    name: str | None = None,
) -> Activation:
    """Resolve a name, an :class:`Activation` or a NumPy callable into an :class:`Activation`.

    Parameters
    ----------
    activation : str, Activation or callable
        A name from :data:`ACTIVATION_NAMES` (case-insensitive), ``"leaky_relu:<slope>"``,
        ``"<name>*<gain>"`` (e.g. ``"relu*sqrt2"``), an existing :class:`Activation` (returned
        unchanged) or a vectorised NumPy callable σ(z) (evaluated only through quadrature, §3.3).
    derivative : callable, optional
        σ' for a user callable; default: fourth-order central difference.
    name : str, optional
        Name for a user callable; default: its ``__name__``.

    Returns
    -------
    Activation
        Registry objects are cached: the same name returns the same object.

    Raises
    ------
    DLTheoryError
        Unknown name, malformed slope or gain, or a non-callable object.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        return _from_name(activation)
    if callable(activation):
        fn = activation
        der = derivative if derivative is not None else _numerical_derivative(fn)
        label = name or getattr(activation, "__name__", "custom")
        return Activation(label, fn, der, taylor=_numerical_taylor(fn))
    raise DLTheoryError(f"activation={activation!r} is not accepted; accepted: {_accepted()}")


def _autograd_derivative(fn: TensorFn) -> TensorFn:
    def der(z):
        import torch

        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(fn(zz).sum(), zz)
        return g

    return der


def resolve_torch_activation(activation: str | Activation | TorchActivation | TensorFn) -> TorchActivation:
    """Resolve a name, a registry object or a torch callable into a :class:`TorchActivation`.

    Parameters
    ----------
    activation : str, Activation, TorchActivation or callable
        A registry name (as for :func:`get_activation`), an :class:`Activation` (its torch twin),
        a :class:`TorchActivation` (returned unchanged) or an elementwise torch callable
        (derivative by autograd).

    Returns
    -------
    TorchActivation

    Raises
    ------
    DLTheoryError
        Unknown name, malformed slope or gain, a NumPy user callable without a torch form, or a
        non-callable object.
    """
    if isinstance(activation, TorchActivation):
        return activation
    if isinstance(activation, str):
        return _from_name(activation).torch
    if isinstance(activation, Activation):
        return activation.torch
    if callable(activation):
        return TorchActivation(getattr(activation, "__name__", "custom"), activation,
                               _autograd_derivative(activation))
    raise DLTheoryError(f"activation={activation!r} is not a name or a callable; accepted: {_accepted()}")


def torch_activation(activation: str | Activation | TorchActivation | TensorFn) -> TensorFn:
    """The elementwise torch function σ for ``activation`` (see :func:`resolve_torch_activation`)."""
    return resolve_torch_activation(activation).fn
