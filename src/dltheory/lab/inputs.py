"""Command-line inputs that are numbers or files, bounded before anything is allocated (issue 13).

The ``dltheory kernel`` command's options are declared here with the constraints of
:mod:`dltheory.lab.constraints` (each has a maximum), its ``--inputs`` file is read only after its
``.npy`` header has been checked (real dtype, shape (P, n0) within :data:`MAX_INPUTS` ×
:data:`MAX_INPUT_DIM`, size consistent with the file), and the recursion's memory and time are
estimated (:func:`kernel_estimate`) and checked against this machine before it runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dltheory.errors import DLTheoryError
from dltheory.lab.constraints import Constraint, Float, Int, activation_name
from dltheory.lab.resources import MIB, Resources, check_resources

__all__ = ["KERNEL_OPTIONS", "KERNEL_TIME_LIMIT_S", "MAX_INPUTS", "MAX_INPUT_DIM", "MAX_INPUT_ELEMENTS",
           "check_kernel_estimate", "check_kernel_options", "kernel_estimate", "read_inputs"]

MAX_INPUTS = 4096
MAX_INPUT_DIM = 1_000_000
MAX_INPUT_ELEMENTS = 50_000_000  # 400 MB of float64
KERNEL_TIME_LIMIT_S = 600.0
"""Longest estimated run of ``dltheory kernel`` accepted without ``--allow-large``."""

KERNEL_OPTIONS: dict[str, Constraint] = {
    "--depth": Int(1, 100_000),
    "--cb": Float(0, 1e6),
    "--cw": Float(0, 1e6, closed="right"),
    "--lambda-b": Float(0, 1e6),
    "--lambda-w": Float(0, 1e6),
    "--activation": activation_name(),  # last: resolving a name imports the activation registry (SciPy)
}
"""The declared range of each option of ``dltheory kernel``, checked in this order."""


def check_kernel_options(**values: Any) -> dict[str, Any]:
    """The ``dltheory kernel`` option values (keyword = option name without dashes, ``_`` for ``-``), checked.

    Returns the coerced values under the same keys; a value outside its declared range is a
    one-line :class:`DLTheoryError` naming the option.
    """
    out = {}
    for option, constraint in KERNEL_OPTIONS.items():
        key = option[2:].replace("-", "_")
        if key in values:
            out[key] = constraint.coerce(values[key], option)
    unknown = set(values) - set(out)
    if unknown:
        raise TypeError(f"unknown kernel option(s) {sorted(unknown)}")
    return out


def read_inputs(path: str | os.PathLike, option: str = "--inputs") -> np.ndarray:
    """A ``.npy`` file of real inputs of shape (P, n0), checked from its header before it is read.

    Rejected with a one-line :class:`DLTheoryError` naming ``option``: a missing or non-regular
    file, an empty or truncated file, anything not a ``.npy`` array (``.npz``, pickles, text), a
    non-real dtype (strings, complex, booleans, objects, structured), a shape other than (P, n0)
    with 1 ≤ P ≤ :data:`MAX_INPUTS`, 1 ≤ n0 ≤ :data:`MAX_INPUT_DIM` and P·n0 ≤
    :data:`MAX_INPUT_ELEMENTS`, and non-finite entries.

    Returns
    -------
    ndarray of float64, shape (P, n0)
    """
    path = Path(path)
    if not path.is_file():
        raise DLTheoryError(f"{option}: no such file {path}")
    try:
        with open(path, "rb") as fh:
            try:
                version = np.lib.format.read_magic(fh)
                header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _, dtype = header(fh, max_header_size=10_000) if version != (1, 0) else header(fh)
            except (ValueError, EOFError, SyntaxError, TypeError) as exc:
                raise DLTheoryError(f"{option}: {path} is not a .npy array file "
                                    f"({' '.join(str(exc).split())[:120] or 'empty'})") from None
            offset = fh.tell()
    except OSError as exc:
        raise DLTheoryError(f"{option}: cannot read {path} ({exc.strerror or exc})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "iuf":
        raise DLTheoryError(f"{option}: {path} must hold real numbers (int or float); got dtype {dtype}")
    if len(shape) != 2 or not (1 <= shape[0] <= MAX_INPUTS and 1 <= shape[1] <= MAX_INPUT_DIM) \
            or shape[0] * shape[1] > MAX_INPUT_ELEMENTS:
        raise DLTheoryError(f"{option}: inputs must have shape (P, n0) with 1 <= P <= {MAX_INPUTS}, "
                            f"1 <= n0 <= {MAX_INPUT_DIM:_} and P*n0 <= {MAX_INPUT_ELEMENTS:_}; got shape {shape}")
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    size = path.stat().st_size
    if size < expected:
        raise DLTheoryError(f"{option}: {path} is truncated ({size} bytes, the header announces {expected})")
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DLTheoryError(f"{option}: cannot read {path} as a .npy array ({' '.join(str(exc).split())[:120]})") \
            from None
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise DLTheoryError(f"{option}: {path} has {int(np.sum(~np.isfinite(x)))} non-finite entries")
    return x


def kernel_estimate(depth: int, n_inputs: int, input_dim: int, closed_form: bool) -> Resources:
    """Memory and time of ``dltheory kernel`` (K and Θ, shape (depth, P, P) each).

    Memory: the two (depth, P, P) float64 outputs, the inputs, ~16 temporaries of P² floats per layer
    (closed forms) or 32 MiB quadrature chunks, plus 200 MiB for the interpreter and NumPy/SciPy.
    Time (2 cores, conservative): 60 µs + 100 ns·P² per layer with a closed form; with quadrature
    3 ms + 2 µs·P(P+1)/2 per layer (80² nodes, ⟨σσ⟩ and ⟨σ'σ'⟩).
    """
    p2 = float(n_inputs) ** 2
    memory = 200 * MIB + 2 * depth * p2 * 8 + n_inputs * input_dim * 8 * 2 + 16 * p2 * 8 + (0 if closed_form
                                                                                            else 64 * MIB)
    per_layer = 60e-6 + 100e-9 * p2 if closed_form else 3e-3 + 2e-6 * n_inputs * (n_inputs + 1) / 2
    return Resources(memory, depth * per_layer, memory_fields=("--depth", "--inputs (P)"),
                     time_fields=("--depth", "--inputs (P)"))


def check_kernel_estimate(activation: str, depth: int, n_inputs: int, input_dim: int, allow_large: bool) -> None:
    """Refuse a ``dltheory kernel`` run that would not fit this machine or :data:`KERNEL_TIME_LIMIT_S`."""
    from dltheory.activations import get_activation

    act = get_activation(activation)
    closed = getattr(act, "kernel", None) is not None or getattr(act, "closed_form", None) is not None
    check_resources("dltheory kernel", kernel_estimate(depth, n_inputs, input_dim, closed),
                    allow_large=allow_large, time_limit_s=KERNEL_TIME_LIMIT_S)
