"""What a task will need, checked against this machine before anything is allocated (issue 13).

Every config field has a declared maximum (:mod:`dltheory.lab.constraints`), but fields multiply:
``n_networks = 200_000`` is fine at width 64 and not at width 8192. So an experiment declares
``estimate(config) -> Resources``, a rough but conservative upper estimate of

- ``memory_bytes``: the peak resident memory of the process that runs the task, interpreter and
  libraries included (:data:`BASE_MEMORY`), computed from the config's sizes (the arrays the
  experiment keeps: networks × layers × inputs², width² weights per chunk, samples × spins, ...);
- ``seconds``: its wall time on the reference machine (2 cores), a cost model in the config's
  sizes calibrated against measured quick-scale runs;

and names the fields each is driven by. :func:`check_resources` refuses a task whose estimate
exceeds the memory available now (:func:`available_memory`: ``MemAvailable`` of /proc/meminfo,
bounded by a cgroup limit; ``os.sysconf`` elsewhere) or the time limit (:data:`TIME_LIMIT_S`,
30 days per task unless stated otherwise), with one line naming the fields that drive it;
``--allow-large`` (``allow_large=True``) overrides. Experiments without an estimate are not checked.

Calibration (issue 13): every experiment was run at the quick scale in its own process (one BLAS and
torch thread, on the shared 2-core machine at load 8-13) and its wall time and peak RSS measured;
each cost model's constant is ~1.5 × measured time / operation count, so the quick estimates are
1.2-5 × the measured (loaded) times and 1.1-3.4 × the measured peaks. Vmapped training ensembles
(:func:`dltheory.richness.run_ensemble`) peak at 7.6-8.0 copies of their weights (measured at width
2048); the estimates use 9. A run at quick scale on an idle machine takes 2-10 × less than estimated.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dltheory.errors import DLTheoryError

__all__ = ["BASE_MEMORY", "GIB", "MIB", "Resources", "TIME_LIMIT_S", "available_memory", "check_resources",
           "format_bytes", "format_seconds", "mlp_weights", "with_estimate"]

MIB = 2**20
GIB = 2**30
BASE_MEMORY = 1 * GIB
"""Resident memory of a process that runs an experiment, before its own arrays: NumPy, SciPy,
pandas, matplotlib and torch imported (0.36 GiB measured) plus allocator overhead of long torch
runs (up to 0.55 GiB more measured, memorization-real at quick scale), rounded up."""
TIME_LIMIT_S = 30 * 86400.0
"""Default limit on one task's estimated wall time (seconds on the 2-core reference machine): 30 days,
above every research-grade (full) configuration (the longest, weight-space-landscape, is estimated at
~9 days on 2 cores) and far below absurd ones (10³ × full and more)."""
E = TypeVar("E")


@dataclass(frozen=True)
class Resources:
    """An estimate of one task's peak memory and wall time, and the config fields that drive them.

    Parameters
    ----------
    memory_bytes : float
        Peak resident memory of the process running the task, in bytes (include :data:`BASE_MEMORY`).
    seconds : float
        Wall time on the 2-core reference machine.
    memory_fields, time_fields : tuple of str
        Config fields that drive each, most important first (named in the refusal). A field whose
        smaller value makes the run larger (a step, a spacing) is named as ``x_step``: the refusal
        says to make the *run* smaller through these fields.
    """

    memory_bytes: float
    seconds: float
    memory_fields: tuple[str, ...] = ()
    time_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "seconds"):
            value = float(getattr(self, name))
            if math.isnan(value) or value < 0:
                raise ValueError(f"Resources.{name} must be >= 0; got {value!r}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "memory_fields", tuple(self.memory_fields))
        object.__setattr__(self, "time_fields", tuple(self.time_fields))


def mlp_weights(sizes: tuple[int, ...] | list[int]) -> int:
    """Number of weights Σ n_ℓ n_{ℓ+1} of an MLP with layer sizes ``sizes`` (biases are negligible)."""
    return int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))


def with_estimate(experiment: E, estimate: Callable[[Any], Resources]) -> E:
    """``experiment`` (an :class:`~dltheory.lab.base.Experiment`) with its ``estimate`` set.

    Lets an experiment module declare its estimate in one line after ``EXPERIMENT = Experiment(...)``:
    ``EXPERIMENT = with_estimate(EXPERIMENT, estimate)``.
    """
    return dataclasses.replace(experiment, estimate=estimate)  # type: ignore[type-var]


def _cgroup_available() -> int | None:
    """Bytes left under a cgroup v2 memory limit (``memory.max`` − ``memory.current``), if there is one."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory a new allocation can use now, or ``None`` if this system does not say.

    ``MemAvailable`` of /proc/meminfo (Linux), bounded by the cgroup v2 limit when one is set;
    elsewhere ``os.sysconf("SC_AVPHYS_PAGES") × os.sysconf("SC_PAGE_SIZE")``.
    """
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            found = None
    cgroup = _cgroup_available()
    if cgroup is not None:
        found = cgroup if found is None else min(found, cgroup)
    return found


def format_bytes(n: float) -> str:
    """``n`` bytes as ``"512 MiB"``, ``"3.2 GiB"`` or ``"1.5e+04 GiB"``."""
    if n < GIB:
        return f"{n / MIB:.0f} MiB"
    gib = n / GIB
    return f"{gib:.3g} GiB" if gib < 1e4 else f"{gib:.2g} GiB"


def format_seconds(s: float) -> str:
    """``s`` seconds as ``"40 s"``, ``"12 min"``, ``"3.5 h"`` or ``"12 days"``."""
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"


def _fields(names: tuple[str, ...]) -> str:
    if not names:
        return "the config's sizes"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def check_resources(name: str, resources: Resources, *, allow_large: bool = False,
                    time_limit_s: float | None = TIME_LIMIT_S, memory_available: int | None = -1) -> None:
    """Refuse (one-line :class:`DLTheoryError`) a task whose estimate exceeds this machine or the time limit.

    Parameters
    ----------
    name : str
        The task (experiment) name, for the message.
    resources : Resources
        Its estimate.
    allow_large : bool
        Do not refuse (``--allow-large``).
    time_limit_s : float or None
        Limit on the estimated wall time; ``None``: none.
    memory_available : int or None
        Bytes available; default (-1) :func:`available_memory` now; ``None``: do not check memory.
    """
    if allow_large:
        return
    available = available_memory() if memory_available == -1 else memory_available
    if available is not None and resources.memory_bytes > available:
        raise DLTheoryError(
            f"{name} would need ~{format_bytes(resources.memory_bytes)} of memory at this config, more than "
            f"the {format_bytes(available)} available now; make {_fields(resources.memory_fields)} smaller "
            f"(--set FIELD=VALUE), or pass --allow-large to run anyway")
    if time_limit_s is not None and resources.seconds > time_limit_s:
        raise DLTheoryError(
            f"{name} would run ~{format_seconds(resources.seconds)} at this config (estimate for 2 cores), over "
            f"the limit of {format_seconds(time_limit_s)} per task; make {_fields(resources.time_fields)} smaller "
            f"(--set FIELD=VALUE), or pass --allow-large to run anyway")
