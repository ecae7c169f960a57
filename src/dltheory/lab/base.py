"""The experiment contract: configs with two scales, claims with pass criteria, and outcomes.

An experiment is a module in :mod:`dltheory.experiments` that defines ``EXPERIMENT``, an
:class:`Experiment`. Its ``run(config, rng)`` returns an :class:`Outcome`: a tidy table, figures and
claims. Saving, provenance and the report are handled by :mod:`dltheory.lab.runner`, so an
experiment never does I/O itself.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dltheory.errors import DLTheoryError

__all__ = ["Claim", "Experiment", "Outcome", "ScaledConfig", "SCALES"]

SCALES = ("quick", "full")


@dataclass(frozen=True)
class ScaledConfig:
    """Base class of experiment configs: a frozen dataclass with ``quick`` and ``full`` scales.

    Subclasses override :meth:`quick` and :meth:`full` (the defaults of the dataclass fields are
    the ``full`` scale unless the subclass says otherwise) and may add :meth:`validate`.
    """

    scale: ClassVar[str] = "custom"

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
            raise DLTheoryError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")
        config = cls.quick() if scale == "quick" else cls.full()
        config.validate()
        return config

    def validate(self) -> None:
        """Raise :class:`~dltheory.errors.DLTheoryError` on an invalid configuration."""

    def replace(self, **changes: Any) -> ScaledConfig:
        """A copy with ``changes`` applied and validated; unknown fields are a clear error.

        Each value is checked against (and coerced to) its field's annotated type — ``int``,
        ``float``, ``bool``, ``str``, ``tuple[X, ...]``, fixed-length tuples, ``X | None`` and
        ``Literal[...]`` — before :meth:`validate` runs. Any failure is a :class:`DLTheoryError`.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(map(str, changes)) - names)
        if unknown:
            raise DLTheoryError(
                f"unknown config field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(names))}"
            )
        hints = _field_types(type(self))
        coerced = {k: coerce_value(v, hints.get(k, Any), k) for k, v in changes.items()}
        new = dataclasses.replace(self, **coerced)
        try:
            new.validate()
        except DLTheoryError:
            raise
        except Exception as exc:  # a validate() tripped by an odd value is still bad input
            raise DLTheoryError(f"invalid config ({', '.join(sorted(changes))}): {type(exc).__name__}: {exc}") from None
        return new

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping of the fields (tuples become lists)."""
        return json_ready(dataclasses.asdict(self))


@dataclass(frozen=True)
class Claim:
    """A measured statistic with a pass criterion.

    Parameters
    ----------
    name : str
        Short identifier, unique within the experiment (``"relu-kernel-mc"``).
    statistic : str
        What was measured (``"max_l |K_MC - K_th| / SE"``).
    threshold : str
        The pass criterion as text (``"<= 4"``).
    measured : float
        The measured value of the statistic.
    passed : bool
        Whether the criterion holds. ``None`` is not allowed: an experiment that cannot decide
        reports ``passed=False`` and says why in ``meaning``.
    meaning : str
        One line: what passing means.
    figure : str or None
        Name of the figure that shows the evidence, if any.
    """

    name: str
    statistic: str
    threshold: str
    measured: float
    passed: bool
    meaning: str
    figure: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured", float(self.measured))
        object.__setattr__(self, "passed", bool(self.passed))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["measured"] = None if not math.isfinite(self.measured) else self.measured
        return d


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
    """A named experiment: its config class and its ``run`` function."""

    name: str
    pillar: str
    title: str
    description: str
    config_cls: type[ScaledConfig]
    run: Callable[[Any, np.random.Generator], Outcome]

    def config(self, scale: str = "quick", **overrides: Any) -> ScaledConfig:
        """Config at ``scale`` with ``overrides`` applied."""
        cfg = self.config_cls.at_scale(scale)
        return cfg.replace(**overrides) if overrides else cfg


def _field_types(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - unresolvable annotations: skip the type check
        return {}


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is not None:
        return str(tp).replace("typing.", "")
    return getattr(tp, "__name__", None) or str(tp)


def coerce_value(value: Any, tp: Any, name: str) -> Any:
    """``value`` checked against the annotated type ``tp`` of config field ``name``.

    Integers are accepted for ``float`` fields (converted) and lists for tuples (converted);
    ``bool`` is not accepted as a number. Non-finite floats are rejected. Unknown annotation types
    pass through unchanged (the config's ``validate`` has the last word).
    """
    def bad() -> DLTheoryError:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return DLTheoryError(f"config field {name} must be {_describe(tp)}; got {shown}")

    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            if option is type(None):
                continue
            try:
                return coerce_value(value, option, name)
            except DLTheoryError:
                continue
        raise bad()
    if origin is typing.Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise DLTheoryError(f"config field {name} must be one of {', '.join(map(repr, args))}; got {value!r}"[:300])
    if tp is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise bad()
    if tp is int:
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer() \
                and abs(value) < 2**53:
            return int(value)
        raise bad()
    if tp is float:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            try:
                out = float(value)
            except OverflowError:
                raise bad() from None
            if not math.isfinite(out):
                raise DLTheoryError(f"config field {name} must be a finite number; got {value!r}")
            return out
        raise bad()
    if tp is str:
        if isinstance(value, str):
            return value
        raise bad()
    if origin is tuple or tp is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad()
        if not args:
            return tuple(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce_value(v, args[0], name) for v in value)
        if len(args) != len(value):
            raise bad()
        return tuple(coerce_value(v, a, name) for v, a in zip(value, args, strict=True))
    if isinstance(tp, type) and not isinstance(value, tp):
        raise bad()
    return value


def json_ready(obj: Any) -> Any:
    """Convert tuples, NumPy scalars and arrays, and non-finite floats into JSON values."""
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
