"""Effective theory of deep MLPs (effective-theory.md): pure NumPy/SciPy float64."""

from dltheory.effective.activations import ACTIVATION_NAMES, Activation, get_activation
from dltheory.effective.criticality import (
    CLASS_NAMES,
    CriticalPoint,
    UniversalityClass,
    critical_point,
    fixed_points,
    susceptibilities,
    universality_class,
)
from dltheory.effective.gaussian import (
    expect_pair,
    expect_pair_with_error,
    expect_single,
    expect_single_with_error,
    g_prime,
    g_second,
    gauss_hermite,
    pair_expectations,
    single_moments,
)
from dltheory.effective.kernels import (
    kernel_recursion,
    kernel_recursion_single,
    ntk_recursion,
    ntk_recursion_single,
)

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "get_activation",
    "CLASS_NAMES",
    "CriticalPoint",
    "UniversalityClass",
    "critical_point",
    "fixed_points",
    "susceptibilities",
    "universality_class",
    "expect_pair",
    "expect_pair_with_error",
    "expect_single",
    "expect_single_with_error",
    "g_prime",
    "g_second",
    "gauss_hermite",
    "pair_expectations",
    "single_moments",
    "kernel_recursion",
    "kernel_recursion_single",
    "ntk_recursion",
    "ntk_recursion_single",
]
