"""The one thread limiter (dltheory.nets.threads): limits inside the block, restores afterwards."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_info

from dltheory.errors import DLTheoryError
from dltheory.nets.threads import limit_threads, set_torch_threads


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_limit_threads_sets_and_restores_torch_and_blas():
    before_torch, before_blas = torch.get_num_threads(), _blas_threads()
    set_torch_threads(2)
    try:
        with limit_threads():
            assert torch.get_num_threads() == 1
            assert all(n == 1 for n in _blas_threads())
        assert torch.get_num_threads() == 2 and _blas_threads() == before_blas
        with limit_threads(torch_threads=None, blas_threads=1):
            assert all(n == 1 for n in _blas_threads())
        assert torch.get_num_threads() == 2 and _blas_threads() == before_blas
        with limit_threads(torch_threads=1, blas_threads=None):
            assert torch.get_num_threads() == 1 and _blas_threads() == before_blas
        with pytest.raises(RuntimeError), limit_threads():
            raise RuntimeError("restored on errors too")
        assert torch.get_num_threads() == 2
    finally:
        set_torch_threads(before_torch)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_limit_threads_rejects_bad_counts(bad):
    with pytest.raises(DLTheoryError, match="torch_threads"), limit_threads(torch_threads=bad):
        pass
    with pytest.raises(DLTheoryError, match="blas_threads"), limit_threads(blas_threads=bad):
        pass
    with pytest.raises(DLTheoryError, match="torch_threads"):
        set_torch_threads(bad)
