"""Declarative constraints on config fields: one place that coerces, bounds and words the error.

Every field of an experiment config (:class:`~dltheory.lab.base.ScaledConfig`) is declared with
:func:`declare`, which pairs the default with a :class:`Constraint`::

    @dataclass(frozen=True)
    class Config(ScaledConfig):
        widths: tuple[int, ...] = declare((64, 128, 256), TupleOf(Int(2, 16_384), length=(2, 12)))
        depth: int = declare(20, Int(2, 1_000))
        lr: float = declare(0.5, Float(0, 10, closed="right"))
        loss: str = declare("mse", Choice("mse", "bce"))
        float32: bool = declare(True, Bool())

A constraint coerces a value to its field's type (``int``, ``float``, ``bool``, ``str``, tuples,
``None``; lists become tuples, integral floats become ints, ints become floats) and checks its
range, length or choices. A value that does not fit raises :class:`~dltheory.errors.DLTheoryError`
with one line naming the field, what is accepted and what was given, e.g.
``config field depth must be an int in [2, 1000]; got 0``.

Every numeric range has a finite maximum, every string and tuple a maximum length: the declared
bounds are what lets the size of a run be checked before anything is allocated.
Rules that involve several fields stay in the config's ``validate`` (see
:meth:`~dltheory.lab.base.ScaledConfig.check`).

The vocabulary: :class:`Int`, :class:`Float`, :class:`Bool`, :class:`Choice`, :class:`Text`,
:class:`TupleOf`, :class:`OrNone` (and :func:`activation_name`, a :class:`Text` checked by the
activation registry); :func:`declare` declares a field, :func:`constraints_of` reads the
declarations of a config class back.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import numpy as np

from dltheory.errors import DLTheoryError

__all__ = [
    "Bool",
    "Choice",
    "Constraint",
    "Float",
    "Int",
    "OrNone",
    "Text",
    "TupleOf",
    "activation_name",
    "constraints_of",
    "declare",
    "show",
]

METADATA_KEY = "dltheory.constraint"
_MAX_MESSAGE = 300
T = TypeVar("T")


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, shortened to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ is still shown as something
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float) -> str:
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    return f"{value:g}"


def _fail(label: str, accepted: str, value: Any) -> DLTheoryError:
    return DLTheoryError(f"{label} must be {accepted}; got {show(value)}"[:_MAX_MESSAGE])


class Constraint(ABC):
    """What a config field accepts. Subclasses are immutable and compare by value."""

    @abstractmethod
    def coerce(self, value: Any, label: str) -> Any:
        """``value`` converted to the field's type if it is accepted; else :class:`DLTheoryError`.

        ``label`` names the value in the message (``"config field depth"``, ``"--depth"``).
        """

    @abstractmethod
    def describe(self) -> str:
        """What is accepted, as the predicate of a sentence: ``"an int in [2, 1000]"``."""

    @abstractmethod
    def annotation(self) -> Any:
        """The Python type of an accepted value (``int``, ``tuple[int, ...]``, ``str | None``)."""

    @abstractmethod
    def example(self) -> Any:
        """One accepted value (the smallest where there is an order)."""

    def above_maximum(self) -> list[Any]:
        """Values just above the declared maximum (value or length); empty for finite sets."""
        return []

    def invalid_examples(self) -> list[Any]:
        """Values just outside each declared bound and of a wrong type: all must be rejected."""
        return [*self.above_maximum(), object()]


@dataclasses.dataclass(frozen=True)
class Int(Constraint):
    """An integer in the closed range ``[lo, hi]``.

    Accepts Python and NumPy integers and integral floats (``1e3``), never ``bool``.
    """

    lo: int
    hi: int

    def __post_init__(self) -> None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (self.lo, self.hi)) or self.lo > self.hi:
            raise TypeError(f"Int needs integers lo <= hi; got {self.lo!r}, {self.hi!r}")

    def coerce(self, value: Any, label: str) -> int:
        integral = (isinstance(value, (int, np.integer))
                    or (isinstance(value, (float, np.floating)) and math.isfinite(value)
                        and float(value).is_integer() and abs(float(value)) < 2**53))
        if isinstance(value, (bool, np.bool_)) or not integral:
            raise _fail(label, self.describe(), value)
        out = int(value)
        if not self.lo <= out <= self.hi:
            raise _fail(label, self.describe(), value)
        return out

    def describe(self) -> str:
        return f"an int in [{_num(self.lo)}, {_num(self.hi)}]"

    def annotation(self) -> Any:
        return int

    def example(self) -> int:
        return self.lo

    def above_maximum(self) -> list[Any]:
        return [self.hi + 1]

    def invalid_examples(self) -> list[Any]:
        return [*self.above_maximum(), self.lo - 1, 0.5 + self.lo, True, "1", None]


_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


@dataclasses.dataclass(frozen=True)
class Float(Constraint):
    """A finite real number between ``lo`` and ``hi``; ``closed`` says which ends are included.

    ``closed`` is ``"both"`` (default), ``"left"`` (``[lo, hi)``), ``"right"`` (``(lo, hi]``) or
    ``"neither"``. Integers are accepted and converted; ``bool``, NaN and infinities are not.
    """

    lo: float
    hi: float
    closed: Literal["both", "left", "right", "neither"] = "both"

    def __post_init__(self) -> None:
        bounds_ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                        for v in (self.lo, self.hi))
        if not bounds_ok or self.lo > self.hi or self.closed not in _BRACKETS:
            raise TypeError(f"Float needs finite lo <= hi and closed in {sorted(_BRACKETS)}; "
                            f"got {self.lo!r}, {self.hi!r}, {self.closed!r}")

    def _inside(self, x: float) -> bool:
        left = x >= self.lo if self.closed in ("both", "left") else x > self.lo
        right = x <= self.hi if self.closed in ("both", "right") else x < self.hi
        return left and right

    def coerce(self, value: Any, label: str) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _fail(label, self.describe(), value)
        try:
            out = float(value)
        except OverflowError:
            raise _fail(label, self.describe(), value) from None
        if not math.isfinite(out) or not self._inside(out):
            raise _fail(label, self.describe(), value)
        return out

    def describe(self) -> str:
        brackets = _BRACKETS[self.closed]
        return f"a float in {brackets[0]}{_num(float(self.lo))}, {_num(float(self.hi))}{brackets[1]}"

    def annotation(self) -> Any:
        return float

    def example(self) -> float:
        if self.closed in ("both", "left"):
            return float(self.lo)
        if self.closed == "right":
            return float(self.hi)
        return (self.lo + self.hi) / 2

    def above_maximum(self) -> list[Any]:
        hi = float(self.hi)
        return [math.nextafter(hi, math.inf) if self.closed in ("both", "right") else hi]

    def invalid_examples(self) -> list[Any]:
        lo = float(self.lo)
        below = math.nextafter(lo, -math.inf) if self.closed in ("both", "left") else lo
        return [*self.above_maximum(), below, math.nan, math.inf, True, "0.5", None]


@dataclasses.dataclass(frozen=True)
class Bool(Constraint):
    """``True`` or ``False`` (Python or NumPy bools; not 0/1 and not strings)."""

    def coerce(self, value: Any, label: str) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise _fail(label, self.describe(), value)

    def describe(self) -> str:
        return "True or False"

    def annotation(self) -> Any:
        return bool

    def example(self) -> bool:
        return False

    def invalid_examples(self) -> list[Any]:
        return [1, "True", None]


@dataclasses.dataclass(frozen=True, init=False)
class Choice(Constraint):
    """One of a fixed set of values (equal and of the same type): ``Choice("mse", "bce")``."""

    options: tuple[Any, ...]

    def __init__(self, *options: Any) -> None:
        if not options or len(set(map(type, options))) != 1:
            raise TypeError(f"Choice needs at least one option, all of one type; got {options!r}")
        object.__setattr__(self, "options", tuple(options))

    def coerce(self, value: Any, label: str) -> Any:
        for option in self.options:
            if type(value) is type(option) and value == option:
                return option
        raise _fail(label, self.describe(), value)

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.options))

    def annotation(self) -> Any:
        return type(self.options[0])

    def example(self) -> Any:
        return self.options[0]

    def invalid_examples(self) -> list[Any]:
        wrong = "".join(map(str, self.options)) + "?"
        return [wrong, None]


@dataclasses.dataclass(frozen=True)
class Text(Constraint):
    """A string of at most ``max_len`` characters, optionally checked by ``check``.

    ``check(value)`` raises (any exception) to reject; ``what`` then names what is accepted
    (``"an activation name"``), and the checker's own message is appended.
    """

    max_len: int
    check: Callable[[str], Any] | None = None
    what: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.max_len, int) or self.max_len < 1:
            raise TypeError(f"Text needs a positive max_len; got {self.max_len!r}")

    def coerce(self, value: Any, label: str) -> str:
        if not isinstance(value, str) or len(value) > self.max_len:
            raise _fail(label, self.describe(), value)
        if self.check is not None:
            try:
                self.check(value)
            except Exception as exc:  # noqa: BLE001 - any rejection by the checker is bad input
                reason = " ".join(str(exc).split())
                raise DLTheoryError(f"{label} must be {self.describe()}; got {show(value)} ({reason})"[:_MAX_MESSAGE]) \
                    from None
        return value

    def describe(self) -> str:
        return f"{self.what or 'a string'} of at most {self.max_len} characters"

    def annotation(self) -> Any:
        return str

    def example(self) -> str:
        return ""

    def above_maximum(self) -> list[Any]:
        return ["x" * (self.max_len + 1)]

    def invalid_examples(self) -> list[Any]:
        return [*self.above_maximum(), 1, None]


@dataclasses.dataclass(frozen=True, init=False)
class TupleOf(Constraint):
    """A tuple whose items each satisfy ``item``, with ``length`` items (an int or ``(min, max)``).

    Lists are accepted and converted. An item that does not fit is named by its index
    (``config field widths[2] must be an int in [2, 16_384]; got 1``).
    """

    item: Constraint
    min_len: int
    max_len: int

    def __init__(self, item: Constraint, length: int | tuple[int, int]) -> None:
        lo, hi = (length, length) if isinstance(length, int) else length
        if not isinstance(item, Constraint) or not 0 <= lo <= hi:
            raise TypeError(f"TupleOf needs a Constraint and 0 <= min length <= max length; got {item!r}, {length!r}")
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "min_len", lo)
        object.__setattr__(self, "max_len", hi)

    def coerce(self, value: Any, label: str) -> tuple[Any, ...]:
        if not isinstance(value, (tuple, list)) or not self.min_len <= len(value) <= self.max_len:
            raise _fail(label, self.describe(), value)
        return tuple(self.item.coerce(v, f"{label}[{i}]") for i, v in enumerate(value))

    def describe(self) -> str:
        n = str(self.min_len) if self.min_len == self.max_len else f"{self.min_len} to {self.max_len}"
        return f"a tuple of {n} items, each {self.item.describe()}"

    def annotation(self) -> Any:
        return tuple[self.item.annotation(), ...]  # type: ignore[misc]

    def example(self) -> tuple[Any, ...]:
        return (self.item.example(),) * self.min_len

    def above_maximum(self) -> list[Any]:
        n = max(self.min_len, 1)
        return [(self.item.example(),) * (self.max_len + 1),
                *[(big,) + (self.item.example(),) * (n - 1) for big in self.item.above_maximum()]]

    def invalid_examples(self) -> list[Any]:
        n = max(self.min_len, 1)
        wrong_items = [(bad,) + (self.item.example(),) * (n - 1) for bad in self.item.invalid_examples()]
        shorter = [(self.item.example(),) * (self.min_len - 1)] if self.min_len > 0 else []
        return [*self.above_maximum(), *shorter, *wrong_items, "abc", None]


@dataclasses.dataclass(frozen=True)
class OrNone(Constraint):
    """``None`` or a value accepted by ``inner``."""

    inner: Constraint

    def coerce(self, value: Any, label: str) -> Any:
        if value is None:
            return None
        try:
            return self.inner.coerce(value, label)
        except DLTheoryError:
            raise _fail(label, self.describe(), value) from None

    def describe(self) -> str:
        return f"{self.inner.describe()} or None"

    def annotation(self) -> Any:
        return self.inner.annotation() | None

    def example(self) -> Any:
        return None

    def above_maximum(self) -> list[Any]:
        return self.inner.above_maximum()

    def invalid_examples(self) -> list[Any]:
        return [v for v in self.inner.invalid_examples() if v is not None]


def _resolve_activation(name: str) -> None:
    from dltheory.activations import get_activation  # lazy: the machinery does not import the math up front

    get_activation(name)


def activation_name(max_len: int = 64) -> Text:
    """A name the activation registry resolves (aliases and parametrized names such as ``leaky_relu:0.1``)."""
    return Text(max_len, check=_resolve_activation, what="an activation name")


def declare(default: T, constraint: Constraint) -> T:
    """Declare a config field: its default and the :class:`Constraint` its values must satisfy.

    Used as the default of a dataclass field (``depth: int = declare(20, Int(2, 1_000))``). The
    default itself must satisfy the constraint (checked here, when the class is defined).
    """
    if not isinstance(constraint, Constraint):
        raise TypeError(f"declare needs a Constraint; got {constraint!r}")
    coerced = constraint.coerce(default, "the default")
    return cast(T, dataclasses.field(default=coerced, metadata={METADATA_KEY: constraint}))


def constraints_of(config: Any) -> dict[str, Constraint]:
    """The declared constraint of every field of a config class (or instance), by field name.

    Raises ``TypeError`` naming the first field declared without :func:`declare`.
    """
    out: dict[str, Constraint] = {}
    for f in dataclasses.fields(config):
        constraint = f.metadata.get(METADATA_KEY)
        if not isinstance(constraint, Constraint):
            owner = config.__name__ if isinstance(config, type) else type(config).__name__
            raise TypeError(f"field {f.name!r} of {owner} has no declared constraint: "
                            f"write `{f.name}: ... = declare(default, Int(lo, hi))` (dltheory.lab.constraints)")
        out[f.name] = constraint
    return out
