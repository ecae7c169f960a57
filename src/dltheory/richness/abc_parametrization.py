"""abc-parametrizations (Tensor Programs IV) in exact rational arithmetic.

Spec richness.md §7. ``W^l = n^-a_l w^l``, ``w^l ~ N(0, n^-2b_l)``, SGD LR ``eta n^-c_l``,
``l = 1 .. L+1``. SGD invariant exponents: ``V_l = 2(a_l + b_l)`` (effective init variance
``n^-V``), ``Lambda_l = 2 a_l + c_l`` (effective LR ``n^-Lambda``) [DER]. Stability,
nontriviality and the feature-learning dichotomy use TP IV's ``r_TP`` (Thm 3.3, 3.6/3.8) [3P],
which needs one global ``c``; per-layer ``c`` is first moved to a global one by the gauge shift
``a -> a + theta, b -> b - theta, c -> c - 2 theta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction as Fr

from dltheory.errors import require

__all__ = ["ABC", "abc_mfp", "abc_mup", "abc_ntp", "abc_richness", "abc_sp"]


def _fr(xs) -> tuple[Fr, ...]:
    return tuple(Fr(x) for x in xs)


@dataclass(frozen=True)
class ABC:
    """Exponents ``a, b, c`` (tuples of length L+1, Fractions) of an abc-parametrization."""

    a: tuple
    b: tuple
    c: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _fr(self.a))
        object.__setattr__(self, "b", _fr(self.b))
        object.__setattr__(self, "c", _fr(self.c))
        require(len(self.a) == len(self.b) == len(self.c) >= 2, "a, b, c must have equal length L+1 >= 2")

    @property
    def n_hidden(self) -> int:
        return len(self.a) - 1

    def gauge_shift(self, theta) -> ABC:
        """Apply ``(a, b, c) -> (a + theta, b - theta, c - 2 theta)`` per layer (SGD gauge symmetry)."""
        th = _fr(theta)
        return ABC(tuple(x + t for x, t in zip(self.a, th)), tuple(x - t for x, t in zip(self.b, th)),
                   tuple(x - 2 * t for x, t in zip(self.c, th)))

    def sgd_exponents(self) -> tuple[tuple[Fr, ...], tuple[Fr, ...]]:
        """``(V, Lambda)`` per layer: ``v_l ∝ n^-V_l``, ``lambda_l ∝ n^-Lambda_l``."""
        return (tuple(2 * (a + b) for a, b in zip(self.a, self.b)),
                tuple(2 * a + c for a, c in zip(self.a, self.c)))

    def global_c(self) -> ABC:
        """Equivalent parametrization with one global ``c`` (equal to the readout's)."""
        target = self.c[-1]
        return self.gauge_shift([(c - target) / 2 for c in self.c])

    def r_tp(self) -> Fr:
        """TP IV's ``r = min(a_{L+1}+b_{L+1}, 2a_{L+1}+c) + c - 1 + min_l [2 a_l + 1(l=1)]``."""
        p = self.global_c()
        a, b, c, L = p.a, p.b, p.c[0], self.n_hidden
        return min(a[L] + b[L], 2 * a[L] + c) + c - 1 + min(2 * a[i] + (1 if i == 0 else 0) for i in range(L))

    def is_stable(self) -> bool:
        """TP IV Thm 3.3."""
        p = self.global_c()
        a, b, c, L, r = p.a, p.b, p.c[0], self.n_hidden, self.r_tp()
        return (a[0] + b[0] == 0 and all(a[i] + b[i] == Fr(1, 2) for i in range(1, L))
                and a[L] + b[L] >= Fr(1, 2) and r >= 0 and 2 * a[L] + c >= 1 and a[L] + b[L] + r >= 1)

    def is_nontrivial(self) -> bool:
        """``a_{L+1}+b_{L+1}+r_TP = 1`` or ``2 a_{L+1} + c = 1``."""
        p = self.global_c()
        L = self.n_hidden
        return p.a[L] + p.b[L] + self.r_tp() == 1 or 2 * p.a[L] + p.c[0] == 1

    def feature_learning(self) -> bool:
        """Stable, nontrivial and ``r_TP = 0`` (TP IV dichotomy)."""
        return self.is_stable() and self.is_nontrivial() and self.r_tp() == 0


def abc_sp(n_hidden: int = 2, c=1) -> ABC:
    """SP with LR ``n^-c`` (TP IV Table 1; stable for c = 1)."""
    L = n_hidden
    return ABC((0,) * (L + 1), (0,) + (Fr(1, 2),) * L, (c,) * (L + 1))


def abc_ntp(n_hidden: int = 2) -> ABC:
    L = n_hidden
    return ABC((0,) + (Fr(1, 2),) * L, (0,) * (L + 1), (0,) * (L + 1))


def abc_mfp() -> ABC:
    """MFP (one hidden layer only, TP IV Table 1)."""
    return ABC((0, 1), (0, 0), (-1, -1))


def abc_mup(n_hidden: int = 2) -> ABC:
    L = n_hidden
    return ABC((Fr(-1, 2),) + (0,) * (L - 1) + (Fr(1, 2),), (Fr(1, 2),) * (L + 1), (0,) * (L + 1))


def abc_richness(r, n_hidden: int = 2, gauge: str = "mup") -> ABC:
    """Richness family (§7 [DER]): μP-like gauge (c = 0) or STP gauge (a = 0)."""
    r, L = Fr(r), n_hidden
    require(gauge in ("mup", "stp"), f"gauge must be 'mup' or 'stp'; got {gauge!r}")
    if gauge == "mup":
        return ABC((-r,) + (Fr(1, 2) - r,) * (L - 1) + (Fr(1, 2),), (r,) * (L + 1), (0,) * (L + 1))
    return ABC((0,) * (L + 1), (0,) + (Fr(1, 2),) * (L - 1) + (Fr(1, 2) + r,),
               (-2 * r,) + (1 - 2 * r,) * (L - 1) + (1,))
