"""Thread limits for torch and the BLAS/OpenMP pools: the one place that sets them.

Small products (a 50×64 by 64×1024 matmul, a tiny MLP's step) are fastest on one thread; on a shared
machine multi-threaded torch or BLAS spins and was measured 10–200× slower (61 ms with 2 threads under
load against 0.3 ms with 1). :func:`limit_threads` limits both for a block and restores them;
:func:`set_torch_threads` is the plain setter used by worker processes (``dltheory.lab.executors``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch

from dltheory.errors import require

__all__ = ["limit_threads", "set_torch_threads"]


def _check(n: int | None, name: str) -> None:
    require(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 1),
            f"{name} must be a positive integer or None (leave unchanged); got {n!r}")


def set_torch_threads(n: int) -> None:
    """Set torch's intra-op thread count to ``n`` (>= 1) if it differs (torch warns on needless resets)."""
    _check(n, "torch_threads")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


@contextmanager
def limit_threads(torch_threads: int | None = 1, blas_threads: int | None = 1) -> Iterator[None]:
    """Limit torch's intra-op threads and the BLAS/OpenMP pools inside a ``with`` block.

    Parameters
    ----------
    torch_threads : int or None
        torch intra-op threads inside the block (restored afterwards); None leaves torch alone.
    blas_threads : int or None
        Threads of the BLAS and OpenMP pools loaded in this process (``threadpoolctl``, restored
        afterwards; torch's own OpenMP pool is one of them); None leaves them alone.
    """
    _check(torch_threads, "torch_threads")
    _check(blas_threads, "blas_threads")
    before = torch.get_num_threads()
    with ExitStack() as stack:
        if blas_threads is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=blas_threads))
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        try:
            yield
        finally:
            if torch_threads is not None:
                torch.set_num_threads(before)
