"""The experiment contract: configs with two scales, claims with pass criteria, and outcomes.

An experiment is a module in :mod:`dltheory.experiments` that defines ``EXPERIMENT``, an
:class:`Experiment`. Its ``run(config, rng)`` returns an :class:`Outcome`: a tidy table, figures and
claims. Saving, provenance and the report are handled by :mod:`dltheory.experiments.runner`, so an
experiment never does I/O itself.
"""

from __future__ import annotations

import dataclasses
import math
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
        """A copy with ``changes`` applied and validated; unknown fields are a clear error."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise DLTheoryError(
                f"unknown config field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(names))}"
            )
        new = dataclasses.replace(self, **changes)
        new.validate()
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
