"""The experiment contract: configs with two scales, claims with verdicts, and outcomes.

An experiment is a module in :mod:`dltheory.experiments` that defines ``EXPERIMENT``, an
:class:`Experiment` of three functions: ``measure(config, rng)`` returns a tidy table,
``claims(table, config)`` the :class:`Claim` list and ``figures(table, config)`` the figures; together
they make an :class:`Outcome`. Saving, provenance and the report are handled by
:mod:`dltheory.lab.runner`, so an experiment never does I/O itself.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, cast

import numpy as np
import pandas as pd

from dltheory.errors import DLTheoryError
from dltheory.lab.constraints import constraints_of, show
from dltheory.lab.resources import Resources
from dltheory.lab.verdicts import Verdict

__all__ = ["Claim", "Experiment", "Outcome", "ScaledConfig", "SCALES", "Verdict", "json_ready", "legacy_claim"]

SCALES = ("quick", "full")


@dataclass(frozen=True)
class ScaledConfig:
    """Base class of experiment configs: a frozen dataclass with ``quick`` and ``full`` scales.

    Every field is declared with :func:`~dltheory.lab.constraints.declare` and a constraint (a range
    with a maximum, a length, a set of choices); constructing a config coerces each field and checks
    it, then runs :meth:`validate` for rules that involve several fields. So a config object is
    valid whichever way it was made (a scale, :meth:`replace`, :meth:`from_dict`), and any bad
    value is a one-line :class:`~dltheory.errors.DLTheoryError` naming the field.

    Subclasses override :meth:`quick` and :meth:`full` (the defaults of the fields are the ``full``
    scale unless the subclass says otherwise) and may override :meth:`validate`.
    """

    def __post_init__(self) -> None:
        for name, constraint in constraints_of(self).items():
            object.__setattr__(self, name, constraint.coerce(getattr(self, name), f"config field {name}"))
        try:
            self.validate()
        except DLTheoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a validate() tripped by an odd value is still bad input
            reason = " ".join(str(exc).split())[:200]
            raise DLTheoryError(f"invalid config {type(self).__name__}: {type(exc).__name__}: {reason}") from None

    @classmethod
    def quick(cls) -> ScaledConfig:
        """Small configuration for ``dltheory reproduce --quick`` (minutes on 2 cores)."""
        return cls()

    @classmethod
    def full(cls) -> ScaledConfig:
        """Research-grade configuration."""
        return cls()

    @classmethod
    def at_scale(cls, scale: str) -> ScaledConfig:
        """The configuration at ``scale`` (``"quick"`` or ``"full"``)."""
        if scale not in SCALES:
            raise DLTheoryError(f"scale must be one of {', '.join(SCALES)}; got {show(scale)}")
        return cls.quick() if scale == "quick" else cls.full()

    def validate(self) -> None:
        """Check the rules that involve several fields (each field's own range is declared).

        Use :meth:`check`, so that the message has the same form as the declared constraints'.
        """

    def check(self, condition: bool, rule: str, *fields: str) -> None:
        """Raise a one-line :class:`DLTheoryError` unless ``condition``, naming ``fields`` and their values.

        ``self.check(max(self.widths) >= 256, "max(widths) >= 256", "widths")`` raises
        ``config field widths must satisfy max(widths) >= 256; got widths=(64, 128)``.
        """
        if not condition:
            label = f"config field {fields[0]}" if len(fields) == 1 else f"config fields {', '.join(fields)}"
            got = ", ".join(f"{f}={show(getattr(self, f))}" for f in fields)
            raise DLTheoryError(f"{label} must satisfy {rule}; got {got}"[:400])

    def replace(self, /, **changes: Any) -> Self:
        """A copy with ``changes`` applied; each is coerced and checked, then :meth:`validate` runs.

        Unknown fields and rejected values are a :class:`DLTheoryError` (one line).
        """
        _reject_unknown(type(self), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping of the fields (tuples become lists)."""
        return cast(dict[str, Any], json_ready(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The config whose :meth:`to_dict` is ``data`` (every field present), coerced and checked."""
        if not isinstance(data, Mapping):
            raise DLTheoryError(f"a stored config must be a mapping of fields; got {show(data)}")
        _reject_unknown(cls, data)
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in data]
        if missing:
            raise DLTheoryError(f"stored config of {cls.__name__} lacks field(s) {', '.join(missing)}")
        return cls(**{str(k): v for k, v in data.items()})


def _reject_unknown(cls: type[ScaledConfig], changes: Mapping[Any, Any]) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(map(str, changes)) - set(names))
    if unknown:
        hint = " (the scale is chosen with --scale, not --set)" if "scale" in unknown else ""
        shown = ", ".join(show(u, 40) for u in unknown[:5])
        raise DLTheoryError(f"unknown config field(s) {shown}{hint}; accepted: {', '.join(names)}"[:600])


@dataclass(frozen=True)
class Claim:
    """A measured statistic, what it is compared with, and the verdict (see :mod:`dltheory.lab.verdicts`).

    Build gated claims with :func:`~dltheory.lab.verdicts.decide` (or
    :func:`~dltheory.lab.verdicts.decide_all`, :func:`~dltheory.lab.verdicts.with_control`) and
    ungated numbers with :func:`~dltheory.lab.verdicts.reported`, never by setting a verdict by hand:
    the generic power test re-evaluates every claim against a theory shifted by δ.

    Parameters
    ----------
    name : str
        Short identifier, unique within the experiment (``"relu-kernel-mc"``).
    statistic : str
        What was measured, with the ranges it covers (``"max_l |K_MC - K_th| / SE, l = 1..8"``).
    measured : float
        The statistic's value (NaN allowed: the verdict is then INCONCLUSIVE).
    verdict : Verdict
        PASS, FAIL, INCONCLUSIVE or REPORTED.
    meaning : str
        One line: what PASS means.
    criterion : str
        The rule with its numbers (z*, δ, the target).
    target : float or None
        Theory value or bound the statistic is compared with.
    delta : float or None
        Declared effect size: the smallest disagreement the check must detect, in the statistic's units.
    se : float or None
        Standard error of ``measured``.
    z_star : float or None
        Critical value (Bonferroni per experiment).
    reason : str
        For FAIL and INCONCLUSIVE: the cause, and for INCONCLUSIVE the scale that would decide it.
    figure : str or None
        Name of the figure that shows the evidence, if any.
    kind : str
        ``"equal"``, ``"greater"``, ``"less"`` or ``"reported"`` (see :func:`~dltheory.lab.verdicts.decide`).
    """

    name: str
    statistic: str
    measured: float
    verdict: Verdict
    meaning: str
    criterion: str = ""
    target: float | None = None
    delta: float | None = None
    se: float | None = None
    z_star: float | None = None
    reason: str = ""
    figure: str | None = None
    kind: str = "equal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured", float(self.measured))
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        for f in ("target", "delta", "se", "z_star"):
            value = getattr(self, f)
            if value is not None:
                object.__setattr__(self, f, float(value))
        if self.verdict.gated and self.kind != "legacy" and self.delta is None:
            raise ValueError(f"gated claim {self.name!r} must declare delta (use reported() for ungated numbers)")

    @property
    def passed(self) -> bool:
        """True iff the verdict is PASS."""
        return self.verdict is Verdict.PASS

    @property
    def gated(self) -> bool:
        """True unless REPORTED (the verdict counts in the summary)."""
        return self.verdict.gated

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``meta.json`` (non-finite numbers become ``None``)."""
        d = dataclasses.asdict(self)
        d["verdict"] = self.verdict.value
        for f in ("measured", "target", "delta", "se", "z_star"):
            value = d[f]
            d[f] = None if value is None or not math.isfinite(value) else value
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        """The claim stored as ``data`` by :meth:`to_dict` (``None`` numbers are NaN).

        Keys this version does not know are ignored (results written by a newer version stay
        readable); results of version 0.1 (``threshold`` and a boolean ``passed``) are read as
        PASS/FAIL with ``kind="legacy"``. A missing required key or a value of the wrong type is
        a :class:`DLTheoryError`.
        """
        if not isinstance(data, Mapping):
            raise DLTheoryError(f"a stored claim must be a mapping; got {show(data)}")
        label = show(data.get("name"))
        if "verdict" not in data and isinstance(data.get("passed"), bool):  # version 0.1 results
            data = {**data, "verdict": "pass" if data["passed"] else "fail", "criterion": data.get("threshold", ""),
                    "kind": "legacy"}
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if f.default is dataclasses.MISSING:
                    raise DLTheoryError(f"stored claim {label} lacks {f.name!r}")
                continue
            value = data[f.name]
            if f.name in ("measured", "target", "delta", "se", "z_star"):
                ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
                if f.name == "measured" and value is None:
                    value = math.nan
            elif f.name == "verdict":
                ok = value in {v.value for v in Verdict}
            elif f.name == "figure":
                ok = value is None or isinstance(value, str)
            else:
                ok = isinstance(value, str)
            if not ok:
                raise DLTheoryError(f"stored claim {label}: {f.name} has the wrong type; got {show(value)}")
            kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise DLTheoryError(f"stored claim {label}: {exc}") from None


def legacy_claim(name: str, statistic: str, threshold: str, measured: float, passed: bool, meaning: str,
                 figure: str | None = None) -> Claim:
    """A version-0.1 claim (a boolean pass criterion with no δ or SE), while experiments are converted.

    Such a claim has ``kind="legacy"``: the generic power test reports it as not yet a verdict a
    referee would sign. New code uses :func:`~dltheory.lab.verdicts.decide`.
    """
    return Claim(name=name, statistic=statistic, measured=measured, verdict=Verdict.PASS if passed else Verdict.FAIL,
                 meaning=meaning, criterion=threshold, figure=figure, kind="legacy")


@dataclass
class Outcome:
    """What an experiment's ``run`` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy results: one row per measured quantity, columns named for what they are.
    figures : dict of str to matplotlib.figure.Figure
        Figures by name; saved as ``<name>.png``.
    claims : list of Claim
    notes : list of str
        Free-text remarks for the report (e.g. where the theory is a reconstruction).
    """

    table: pd.DataFrame
    figures: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [c.name for c in self.claims]
        if len(set(names)) != len(names):
            raise ValueError(f"claim names must be unique, got {names}")
        for c in self.claims:
            if c.figure is not None and c.figure not in self.figures:
                raise ValueError(f"claim {c.name!r} refers to unknown figure {c.figure!r}")


@dataclass(frozen=True)
class Experiment:
    """A named experiment: its config class and three functions (issue 11).

    ``measure(config, rng) -> DataFrame`` does all the simulation; ``claims(table, config) ->
    list[Claim]`` and ``figures(table, config) -> dict[str, Figure]`` only read the table, so claims
    and the power test run on a stored table without re-simulating; the optional ``notes(table,
    config) -> list[str]`` gives free-text remarks. An experiment not yet converted gives a single
    ``run(config, rng) -> Outcome`` instead.

    The optional ``estimate(config) -> Resources`` is a conservative estimate of the peak memory and
    wall time of a run at ``config`` (:mod:`dltheory.lab.resources`); the runner refuses a task
    that exceeds this machine before anything is allocated.
    """

    name: str
    pillar: str
    title: str
    description: str
    config_cls: type[ScaledConfig]
    run: Callable[[Any, np.random.Generator], Outcome] | None = None
    measure: Callable[[Any, np.random.Generator], pd.DataFrame] | None = None
    claims: Callable[[pd.DataFrame, Any], list[Claim]] | None = None
    figures: Callable[[pd.DataFrame, Any], dict[str, Any]] | None = None
    notes: Callable[[pd.DataFrame, Any], list[str]] | None = None
    estimate: Callable[[Any], Resources] | None = None

    def __post_init__(self) -> None:
        three = (self.measure, self.claims, self.figures)
        if self.run is None and any(f is None for f in three):
            raise TypeError(f"experiment {self.name!r} needs measure, claims and figures (or a legacy run)")
        if self.run is not None and any(f is not None for f in three):
            raise TypeError(f"experiment {self.name!r}: give either run or measure/claims/figures, not both")

    @property
    def module(self) -> str:
        """The module that defines the experiment's functions."""
        fn = self.measure if self.measure is not None else self.run
        return str(getattr(fn, "__module__", ""))

    def config(self, scale: str = "quick", /, **overrides: Any) -> ScaledConfig:
        """Config at ``scale`` with ``overrides`` applied (each checked against its field's constraint)."""
        cfg = self.config_cls.at_scale(scale)
        return cfg.replace(**overrides) if overrides else cfg

    def evaluate(self, table: pd.DataFrame, config: Any) -> Outcome:
        """Claims, figures and notes of a measured ``table`` (no simulation)."""
        if self.claims is None or self.figures is None:
            raise TypeError(f"experiment {self.name!r} has no claims/figures functions")
        notes = list(self.notes(table, config)) if self.notes is not None else []
        return Outcome(table=table, figures=self.figures(table, config), claims=list(self.claims(table, config)),
                       notes=notes)

    def resources(self, config: Any) -> Resources | None:
        """The declared :class:`~dltheory.lab.resources.Resources` estimate at ``config`` (None if none is declared)."""
        if self.estimate is None:
            return None
        out = self.estimate(config)
        if not isinstance(out, Resources):
            raise TypeError(f"{self.name}.estimate returned {type(out).__name__}, expected Resources")
        return out

    def execute(self, config: Any, rng: np.random.Generator) -> Outcome:
        """Measure (or run) the experiment at ``config`` with ``rng`` and return its :class:`Outcome`."""
        if self.run is not None:
            return self.run(config, rng)
        assert self.measure is not None
        table = self.measure(config, rng)
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{self.name}.measure returned {type(table).__name__}, expected a pandas DataFrame")
        return self.evaluate(table, config)


def json_ready(obj: Any) -> Any:
    """Convert claims, configs, tuples, NumPy scalars and arrays, and non-finite floats into JSON values.

    This is where a typed :class:`Claim` or :class:`ScaledConfig` becomes JSON: the results store
    serializes a run's ``meta`` with it, once.
    """
    if isinstance(obj, (Claim, ScaledConfig)):
        return json_ready(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, np.generic):
        return json_ready(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
