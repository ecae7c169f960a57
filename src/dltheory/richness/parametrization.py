"""Parametrizations as gauge-invariant per-layer quantities, realized in a chosen gauge.

Spec: richness.md §4 (richness knob), §5 (gauges and invariants), §7 (unified SGD exponents), §8
(Adam). For SGD, training depends per layer only on the effective init variance
``v = g^2 sigma^2`` and the effective learning rate ``lambda = eta g^2`` of the product weight
``g W`` [DER; SIM]. With activity ``alpha = gamma0 * n**r`` and base learning rate ``eta_hat``:

=========  ==================  =========================
role       v                   lambda / eta_hat
=========  ==================  =========================
readin     1 / fan_in          alpha^2 / fan_in
hidden     1 / fan_in          alpha^2 / fan_in
readout    1 / (alpha^2 fan_in)  1 / fan_in
=========  ==================  =========================

``n`` is the width (the largest hidden width, as in ``mupify``); fan_in is ``prod(weight.shape[1:])``.
A gauge is a choice of multiplier ``g``; then ``sigma = sqrt(v) / g`` and ``eta = lambda / g^2``:

* ``"stp"``: ``g = 1`` (per-layer learning rates);
* ``"mup"``: ``sigma = 1 / alpha`` (Table 1 of the tutorial; one global learning rate ``eta_hat``);
* ``"rescale"``: ``sigma = 1`` (NTP multipliers ``1/sqrt(fan_in)``, output ÷ alpha, global LR
  ``eta_hat * alpha^2``; Bordelon–Pehlevan / Chizat–Bach output rescaling).

Adam (TP V Table 3 at r = 1/2; the richness extension is [DER], experimental): the invariants are
``v`` and ``mu = g * eta`` with ``mu_in = eta_hat alpha / (d sqrt n)``, ``mu_hid = eta_hat alpha /
(n sqrt n)``, ``mu_out = eta_hat / n``. Only the ``"stp"`` gauge is supported for Adam, because
Adam's per-layer rule is not one global learning rate in the other gauges and its ``eps`` breaks
the gauge symmetry (§5 "Invariance scope").

Standard parametrization (SP, §7): ``v = (1/d, 1/n, 1/n)``, one global learning rate
``eta_hat * n**(-c)`` (``lr_exponent = c``; ``c = 1`` is TP IV's stable SP, ``c = 0`` the usual
practice, unstable as n grows).

Conventions and caveats (§5, §11): biases share their weight's init std, multiplier and LR factor
(``mupify``; TP V). SGD momentum keeps the gauge symmetry; coupled L2 weight decay does only if it
scales as ``wd * theta^2`` (keep ``eta_l * wd_l`` fixed), raw-gradient clipping and Adam's ``eps`` break
it. Base width (reproducing a user's SP at ``base_width``) is not implemented.

Notation clash (§4): this ``r`` is the tutorial's richness, not Tensor Programs' ``r_TP = 1/2 - r``
(see :mod:`dltheory.richness.abc_parametrization`), nor the effective theory's aspect ratio ``L/n``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import asdict, dataclass

from dltheory.errors import DLTheoryError, require

__all__ = ["GAUGES", "ROLES", "LayerScales", "Parametrization", "UnstableRichnessWarning", "mfp", "mup", "ntp",
           "preset", "richness", "sp", "PRESETS"]

ROLES = ("readin", "hidden", "readout")
GAUGES = ("stp", "mup", "rescale")
_OPTIMIZERS = ("sgd", "adam")


class UnstableRichnessWarning(UserWarning):
    """Richness outside [0, 1/2] was requested with ``allow_unstable=True`` (§4)."""


@dataclass(frozen=True)
class LayerScales:
    """One layer's realization: ``forward = multiplier * W @ a``, ``W ~ N(0, init_std^2)``.

    ``lr_factor`` multiplies the base learning rate for this layer's weight and bias.
    ``v`` and ``lam`` are the gauge invariants (``lam`` is ``mu = g * eta`` for Adam), per unit
    base learning rate.
    """

    role: str
    multiplier: float
    init_std: float
    lr_factor: float
    v: float
    lam: float


@dataclass(frozen=True)
class Parametrization:
    """A width-scaling rule for the layers of an MLP or CNN (spec richness.md §5, §11).

    Parameters
    ----------
    name : str
        ``"sp"``, ``"ntp"``, ``"mup"``, ``"mfp"`` or ``"richness"`` (label only, except ``"sp"``).
    r : float or None
        Richness exponent in [0, 1/2] (None for SP). ``alpha = gamma0 * width**r``.
    gamma0 : float
        Width-independent prefactor of the activity (> 0).
    gauge : {"stp", "mup", "rescale"}
    optimizer : {"sgd", "adam"}
    lr_exponent : float
        SP only: global learning rate ``eta_hat * width**(-lr_exponent)``.
    allow_unstable : bool
        Permit r outside [0, 1/2] (warns with :class:`UnstableRichnessWarning`).

    Instances are plain frozen dataclasses: serializable with :meth:`to_dict` / :meth:`from_dict`.
    """

    name: str
    r: float | None
    gamma0: float = 1.0
    gauge: str = "stp"
    optimizer: str = "sgd"
    lr_exponent: float = 0.0
    allow_unstable: bool = False

    def __post_init__(self) -> None:
        require(self.gauge in GAUGES, f"gauge must be one of {GAUGES}; got {self.gauge!r}")
        require(self.optimizer in _OPTIMIZERS, f"optimizer must be one of {_OPTIMIZERS}; got {self.optimizer!r}")
        require(isinstance(self.gamma0, (int, float)) and math.isfinite(self.gamma0) and self.gamma0 > 0,
                f"gamma0 must be a finite float > 0; got {self.gamma0!r}")
        if self.optimizer == "adam" and self.gauge != "stp":
            raise DLTheoryError(f"optimizer='adam' is supported only with gauge='stp' (got gauge={self.gauge!r}): "
                                "the 'mup' and 'rescale' gauges are one-global-learning-rate gauges for SGD only")
        if self.name == "sp":
            require(self.r is None, "SP has no richness exponent: use r=None")
            return
        require(isinstance(self.r, (int, float)) and math.isfinite(self.r), f"r must be a finite float; got {self.r!r}")
        if not 0.0 <= self.r <= 0.5:
            if not self.allow_unstable:
                raise DLTheoryError(f"r must be in [0, 1/2] (0 = NTK/lazy, 1/2 = muP/rich); got {self.r}. "
                                    "r < 0 blows up outputs, r > 1/2 blows up updates; pass allow_unstable=True "
                                    "to use it anyway")
            warnings.warn(f"richness r={self.r} is outside the stable range [0, 1/2]", UnstableRichnessWarning,
                          stacklevel=3)

    def alpha(self, width: int) -> float:
        """Activity ``gamma0 * width**r`` (1 for SP)."""
        _check_size(width, "width")
        return 1.0 if self.r is None else float(self.gamma0 * width ** self.r)

    def invariants(self, role: str, fan_in: int, width: int) -> tuple[float, float]:
        """``(v, lam)``: effective init variance and effective LR per unit base LR (Adam: ``mu``)."""
        require(role in ROLES, f"role must be one of {ROLES}; got {role!r}")
        _check_size(fan_in, "fan_in")
        a = self.alpha(width)
        if self.r is None:  # SP: v = 1/fan_in everywhere, one global LR n^-c
            return 1.0 / fan_in, float(width ** (-self.lr_exponent))
        v = 1.0 / (a * a * fan_in) if role == "readout" else 1.0 / fan_in
        if self.optimizer == "sgd":
            lam = 1.0 / fan_in if role == "readout" else a * a / fan_in
        else:
            lam = 1.0 / fan_in if role == "readout" else a / (fan_in * math.sqrt(width))
        return v, lam

    def realize(self, role: str, fan_in: int, width: int) -> LayerScales:
        """Multiplier, init std and LR factor of one layer in this gauge (§5)."""
        v, lam = self.invariants(role, fan_in, width)
        if self.gauge == "stp":
            g = 1.0
        elif self.gauge == "rescale":
            g = math.sqrt(v)
        else:
            g = math.sqrt(v) * self.alpha(width)
        lr_factor = lam / g if self.optimizer == "adam" else lam / (g * g)
        return LayerScales(role, g, math.sqrt(v) / g, lr_factor, v, lam)

    def with_gauge(self, gauge: str) -> Parametrization:
        """The same parametrization in another gauge (identical SGD training, §5)."""
        return Parametrization(self.name, self.r, self.gamma0, gauge, self.optimizer, self.lr_exponent,
                               self.allow_unstable)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Parametrization:
        return cls(**d)


def _check_size(n, what: str) -> None:
    require(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1,
            f"{what} must be a positive int; got {n!r}")


def richness(r, gamma0: float = 1.0, *, gauge: str = "stp", optimizer: str = "sgd",
             allow_unstable: bool = False) -> Parametrization:
    """The richness knob: ``alpha = gamma0 * n**r``; r = 0 (or ``"ntk"``) lazy, r = 1/2 (``"mup"``) rich (§4)."""
    if isinstance(r, str):
        named = {"ntk": 0.0, "ntp": 0.0, "mup": 0.5}
        require(r in named, f"r must be a float in [0, 1/2] or one of {sorted(named)}; got {r!r}")
        r = named[r]
    return Parametrization("richness", r, gamma0, gauge, optimizer, 0.0, allow_unstable)


def sp(lr_exponent: float = 0.0, *, optimizer: str = "sgd") -> Parametrization:
    """Standard parametrization: ``v = 1/fan_in``, unit multipliers, global LR ``eta_hat n**-c`` (§7)."""
    return Parametrization("sp", None, 1.0, "stp", optimizer, float(lr_exponent))


def ntp(gauge: str = "rescale") -> Parametrization:
    """Neural tangent parametrization, r = 0 (``mupify``'s ``ntp``; ``ntp-lr`` is ``gauge="stp"``)."""
    return Parametrization("ntp", 0.0, 1.0, gauge)


def mup(gauge: str = "mup", *, optimizer: str = "sgd") -> Parametrization:
    """Maximal-update parametrization, r = 1/2 (tutorial Table 1 gauge; ``mup-lr`` is ``gauge="stp"``)."""
    return Parametrization("mup", 0.5, 1.0, gauge, optimizer)


def mfp(gauge: str = "rescale") -> Parametrization:
    """Mean-field parametrization: NTP rescaled by ``alpha = sqrt(n)`` (readout multiplier 1/n, LR ∝ n)."""
    return Parametrization("mfp", 0.5, 1.0, gauge)


PRESETS = {"sp": sp, "ntp": ntp, "mup": mup, "mfp": mfp}


def preset(name: str) -> Parametrization:
    """A named preset: ``"sp"``, ``"ntp"``, ``"mup"``, ``"mfp"``."""
    require(name in PRESETS, f"preset must be one of {sorted(PRESETS)}; got {name!r}")
    return PRESETS[name]()
