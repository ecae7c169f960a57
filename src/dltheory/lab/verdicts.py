"""Verdicts on claims: how a measured statistic becomes PASS, FAIL, INCONCLUSIVE or REPORTED.

The rule itself is :func:`dltheory.stats.judge` (pure statistics, also used by library code such
as :mod:`dltheory.nets.compare`); this module turns it into :class:`~dltheory.lab.base.Claim`
objects and provides the counterfactual of the power test.

Every gated claim compares a measured statistic :math:`\\hat Q` (with standard error SE) with a
target :math:`Q` (a theory value or a bound) and declares δ, the smallest disagreement the check
must be able to see, in the statistic's own units (effective-theory.md §10.1, richness.md §10):

* the check has **power** when SE ≤ δ / (z* + 1.645): a true disagreement of size δ is then seen
  with probability ≥ 95 % at the Bonferroni critical value z*;
* ``kind="equal"``: FAIL when :math:`|\\hat Q - Q| > z^*\\,\\mathrm{SE}` (a significant
  disagreement is a FAIL whether or not the check was powered); otherwise PASS if powered and
  INCONCLUSIVE ("no power") if not;
* ``kind="greater"`` (``"less"``): the claim is that :math:`\\hat Q > Q` (``<``), e.g. an ordering or
  an effect that must exist. PASS when :math:`\\hat Q - Q > z^*\\,\\mathrm{SE}`; otherwise FAIL if
  powered (an effect of size δ would have been seen) and INCONCLUSIVE if not;
* a NaN or infinite statistic or SE, or an unconverged solver, is INCONCLUSIVE, never FAIL;
* :func:`reported` makes a number with no gate (REPORTED; never counted);
* :func:`with_control` gates a claim on a negative control: PASS only if the control FAILs the
  same criterion.

The **power test** of the test suite re-evaluates an experiment's ``claims(table, config)`` inside
:func:`counterfactual`: there every target is moved by δ in the direction that breaks the claim
(for ``"equal"``: the theory shifted by δ away from the measurement; for one-sided kinds: the bound
placed δ beyond the measured value), so every decided claim must turn into a FAIL. A claim that
cannot fail this way is not a check and must be :func:`reported` instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from dltheory.stats import POWER_Z, Verdict, judge, required_se, samples_to_decide

if TYPE_CHECKING:
    from dltheory.lab.base import Claim

__all__ = [
    "POWER_Z",
    "Verdict",
    "count_verdicts",
    "counterfactual",
    "decide",
    "decide_all",
    "in_counterfactual",
    "reported",
    "required_se",
    "samples_to_decide",
    "summary_line",
    "with_control",
]

Kind = Literal["equal", "greater", "less"]
_KINDS = ("equal", "greater", "less")
_COUNTERFACTUAL: contextvars.ContextVar[bool] = contextvars.ContextVar("dltheory_counterfactual", default=False)


@contextlib.contextmanager
def counterfactual() -> Iterator[None]:
    """Within this context :func:`decide` evaluates every claim against a target moved by δ.

    Used by the generic power test: with the theory deliberately wrong by δ, every decided claim
    must FAIL.
    """
    token = _COUNTERFACTUAL.set(True)
    try:
        yield
    finally:
        _COUNTERFACTUAL.reset(token)


def in_counterfactual() -> bool:
    """True inside :func:`counterfactual`."""
    return _COUNTERFACTUAL.get()


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _shifted_target(measured: float, target: float, delta: float, kind: str) -> float:
    if kind == "equal":
        direction = 1.0 if measured >= target else -1.0
        return target - direction * delta
    if kind == "greater":
        return measured + delta
    return measured - delta


def decide(
    name: str,
    statistic: str,
    measured: float,
    *,
    target: float,
    delta: float,
    se: float,
    z_star: float,
    meaning: str,
    kind: Kind = "equal",
    figure: str | None = None,
    n: float | None = None,
    n_label: str = "samples",
    converged: bool = True,
    reason: str = "",
) -> Claim:
    """A gated claim: ``measured`` (± ``se``) against ``target`` with declared effect size ``delta``.

    Parameters
    ----------
    name, statistic, meaning : str
        Identifier, what was measured, and one line on what PASS means.
    measured, se : float
        The statistic and its standard error (add a theory error in quadrature before calling).
    target : float
        Theory value (``kind="equal"``) or bound (``"greater"``/``"less"``).
    delta : float
        Smallest disagreement the check must detect, in the statistic's units (> 0).
    z_star : float
        Critical value (Bonferroni over the experiment's comparisons).
    kind : {"equal", "greater", "less"}
        See the module docstring.
    n : float, optional
        Current number of independent samples; an INCONCLUSIVE for lack of power then states how
        many would decide the claim (SE ∝ n^(-1/2)).
    converged : bool
        False marks the underlying solver or fit as unconverged: INCONCLUSIVE with ``reason``.
    reason : str
        Extra cause for INCONCLUSIVE or FAIL (appended).

    Returns
    -------
    Claim
    """
    from dltheory.lab.base import Claim

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}; got {kind!r}")
    if not (delta is not None and math.isfinite(delta) and delta > 0):
        raise ValueError(f"claim {name!r}: delta must be a finite number > 0; got {delta!r}")
    if not (math.isfinite(z_star) and z_star > 0):
        raise ValueError(f"claim {name!r}: z_star must be a finite number > 0; got {z_star!r}")
    measured = float(measured)
    se = float(se) if se is not None else math.nan
    target = float(target)
    if in_counterfactual() and _finite(measured):
        target = _shifted_target(measured, target, delta, kind)
    criterion = {"equal": f"|Q − {_fmt(target)}| ≤ z*·SE", "greater": f"Q − {_fmt(target)} > z*·SE",
                 "less": f"{_fmt(target)} − Q > z*·SE"}[kind]
    criterion += f", z* = {z_star:.3g}; power: SE ≤ δ/(z*+1.645), δ = {_fmt(delta)}"
    fields = dict(name=name, statistic=statistic, measured=measured, meaning=meaning, criterion=criterion,
                  target=target, delta=float(delta), se=se, z_star=float(z_star), figure=figure, kind=kind)
    verdict, why = judge(measured, se, target, delta, z_star, kind=kind, converged=converged, n=n, n_label=n_label)
    return Claim(verdict=verdict, reason="; ".join(r for r in (why, reason) if r), **fields)


def decide_all(
    name: str,
    statistic: str,
    measured: Sequence[float] | np.ndarray,
    *,
    target: Sequence[float] | np.ndarray,
    delta: Sequence[float] | np.ndarray | float,
    se: Sequence[float] | np.ndarray,
    z_star: float,
    meaning: str,
    labels: Sequence[str] | None = None,
    figure: str | None = None,
    n: float | None = None,
    n_label: str = "samples",
    converged: bool = True,
    reason: str = "",
) -> Claim:
    """One claim over a family of equality comparisons (e.g. every layer and kernel entry).

    Each cell i is an ``"equal"`` comparison of ``measured[i]`` with ``target[i]``. The claim's
    statistic is the worst standardised deviation max_i |m_i − t_i| / SE_i, its SE is 1 (z units)
    and its δ is min_i δ_i / SE_i, so the power rule reads min_i δ_i/SE_i ≥ z* + 1.645. FAIL if any
    cell fails; else INCONCLUSIVE if any cell is non-finite or unpowered; else PASS.

    Parameters
    ----------
    measured, target, se : array_like, shape (m,)
    delta : float or array_like, shape (m,)
        Effect size per cell in the statistic's units.
    labels : sequence of str, optional
        Names of the cells, used to name the worst one in the reason.
    """
    from dltheory.lab.base import Claim

    m = np.asarray(measured, dtype=float).ravel()
    t = np.asarray(target, dtype=float).ravel()
    s = np.asarray(se, dtype=float).ravel()
    d = np.broadcast_to(np.asarray(delta, dtype=float), m.shape).ravel()
    if not (m.shape == t.shape == s.shape) or m.size == 0:
        raise ValueError(f"claim {name!r}: measured, target and se must have one equal, non-zero length")
    if not np.all(np.isfinite(d) & (d > 0)):
        raise ValueError(f"claim {name!r}: every delta must be a finite number > 0")
    if in_counterfactual():
        ok = np.isfinite(m)
        t = np.where(ok, np.where(m >= t, t - d, t + d), t)
    cells = list(labels) if labels is not None else [str(i) for i in range(m.size)]
    finite = np.isfinite(m) & np.isfinite(s) & (s > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(finite, np.abs(m - t) / s, np.nan)
        power_ratio = np.where(finite, d / s, np.nan)
    worst = float(np.nanmax(z)) if np.any(finite) else math.nan
    min_ratio = float(np.nanmin(power_ratio)) if np.any(finite) else math.nan
    criterion = (f"every cell |Q_i − target_i| ≤ z*·SE_i, z* = {z_star:.3g}; power: min δ_i/SE_i ≥ z*+1.645 "
                 f"= {z_star + POWER_Z:.3g}")
    fields = dict(name=name, statistic=statistic, measured=worst, meaning=meaning, criterion=criterion, target=0.0,
                  delta=min_ratio, se=1.0, z_star=float(z_star), figure=figure, kind="equal")
    extra = f"; {reason}" if reason else ""
    if not converged:
        return Claim(verdict=Verdict.INCONCLUSIVE, reason=f"not converged{extra}", **fields)
    if np.any(finite) and worst > z_star:
        i = int(np.nanargmax(z))
        n_bad = int(np.sum(z > z_star))
        return Claim(verdict=Verdict.FAIL, reason=f"{n_bad} of {m.size} cells beyond z*; worst {cells[i]}: "
                     f"{_fmt(m[i])} vs {_fmt(t[i])} ± {_fmt(s[i])} ({z[i]:.2f} SE){extra}", **fields)
    if not np.all(finite):
        bad = [cells[i] for i in np.flatnonzero(~finite)][:3]
        return Claim(verdict=Verdict.INCONCLUSIVE, reason=f"{int(np.sum(~finite))} non-finite cell(s), e.g. "
                     f"{', '.join(bad)}{extra}", **fields)
    if min_ratio < z_star + POWER_Z:
        i = int(np.nanargmin(power_ratio))
        text = (f"no power at {cells[i]}: SE {_fmt(s[i])} > δ/(z*+1.645) = {_fmt(required_se(d[i], z_star))}")
        if n is not None and n > 0:
            text += f"; about {samples_to_decide(s[i], d[i], z_star, n)} {n_label} (now {int(n)}) would decide it"
        return Claim(verdict=Verdict.INCONCLUSIVE, reason=text + extra, **fields)
    return Claim(verdict=Verdict.PASS, reason=reason, **fields)


def reported(name: str, statistic: str, measured: float, *, meaning: str, se: float | None = None,
             figure: str | None = None, reason: str = "") -> Claim:
    """A number with no gate (REPORTED): shown in its experiment's table, never counted."""
    from dltheory.lab.base import Claim

    return Claim(name=name, statistic=statistic, measured=float(measured), verdict=Verdict.REPORTED, meaning=meaning,
                 criterion="reported, not gated", se=None if se is None else float(se), figure=figure,
                 reason=reason, kind="reported")


def with_control(main: Claim, control: Claim, *, name: str | None = None, meaning: str | None = None) -> Claim:
    """``main`` gated on a negative control that must FAIL the same criterion.

    PASS iff ``main`` PASSes and ``control`` FAILs. If the control PASSes too, the check cannot
    discriminate: FAIL. Either INCONCLUSIVE (or a REPORTED control): INCONCLUSIVE. The returned
    claim carries ``main``'s numbers; the reason names the control's outcome.
    """
    import dataclasses

    if main.verdict is Verdict.REPORTED:
        raise ValueError(f"claim {main.name!r} is REPORTED; a control needs a gated claim")
    ctl = (f"control {control.name}: {control.verdict.value} (Q = {_fmt(control.measured)}"
           + (f" ± {_fmt(control.se)})" if control.se is not None and math.isfinite(control.se) else ")"))
    if main.verdict is Verdict.FAIL:
        verdict, why = Verdict.FAIL, main.reason
    elif control.verdict is Verdict.PASS:
        verdict, why = Verdict.FAIL, "the negative control passes too: the check cannot discriminate"
    elif main.verdict is Verdict.INCONCLUSIVE:
        verdict, why = Verdict.INCONCLUSIVE, main.reason
    elif control.verdict is not Verdict.FAIL:
        verdict, why = Verdict.INCONCLUSIVE, "the negative control is undecided"
    else:
        verdict, why = Verdict.PASS, ""
    reason = "; ".join(r for r in (why, ctl) if r)
    return dataclasses.replace(main, name=name or main.name, meaning=meaning or main.meaning, verdict=verdict,
                               reason=reason, criterion=f"{main.criterion}; and the control must FAIL it")


def count_verdicts(claims: Sequence[Claim]) -> dict[Verdict, int]:
    """Number of claims in each state (REPORTED included, but it is never part of a total)."""
    counts = dict.fromkeys(Verdict, 0)
    for claim in claims:
        counts[claim.verdict] += 1
    return counts


def summary_line(counts: dict[Verdict, int]) -> str:
    """``"82 PASS · 5 FAIL · 9 INCONCLUSIVE (96 gated claims; 12 reported)"``."""
    gated = counts[Verdict.PASS] + counts[Verdict.FAIL] + counts[Verdict.INCONCLUSIVE]
    return (f"{counts[Verdict.PASS]} PASS · {counts[Verdict.FAIL]} FAIL · {counts[Verdict.INCONCLUSIVE]} INCONCLUSIVE "
            f"({gated} gated claims; {counts[Verdict.REPORTED]} reported)")
