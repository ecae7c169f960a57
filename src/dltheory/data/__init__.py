"""Offline datasets (nothing is downloaded): digits, MNIST-1D, synthetic tasks and user arrays."""

from dltheory.data.datasets import (
    Dataset,
    from_arrays,
    load_digits,
    load_mnist1d,
    make_teacher_regression,
    one_hot,
)

__all__ = ["Dataset", "from_arrays", "load_digits", "load_mnist1d", "make_teacher_regression", "one_hot"]
