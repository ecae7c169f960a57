"""Type checks shared by the richness experiments' configs: every field keeps the kind of its default."""

from __future__ import annotations

import dataclasses
import math
import numbers

from dltheory.errors import DLTheoryError

__all__ = ["check_fields"]


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def check_fields(config) -> None:
    """Raise :class:`DLTheoryError` unless each field matches its default's kind.

    ints: positive ints; floats: finite reals; bools: bools; tuples: non-empty tuples whose items
    match the default's item kind (positive ints or finite reals).
    """
    for f in dataclasses.fields(config):
        default, value = f.default, getattr(config, f.name)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif _is_int(default):
            ok = _is_int(value) and value >= 1
        elif isinstance(default, float):
            ok = _is_real(value)
        elif isinstance(default, tuple):
            want_int = all(_is_int(v) for v in default)
            ok = (isinstance(value, tuple) and len(value) >= 1
                  and all((_is_int(v) and v >= 1) if want_int else _is_real(v) for v in value))
        else:
            continue
        if not ok:
            kind = ("a bool" if isinstance(default, bool) else "a positive int" if _is_int(default)
                    else "a finite float" if isinstance(default, float) else "a non-empty tuple of "
                    + ("positive ints" if all(_is_int(v) for v in default) else "finite floats"))
            raise DLTheoryError(f"{f.name} must be {kind}; got {value!r}")
