"""Effective theory of deep MLPs (effective-theory.md): pure NumPy/SciPy float64.

Activations come from the one registry :mod:`dltheory.activations` (NumPy forms; no torch here).
"""

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
    expect_pair_reference,
    expect_pair_with_error,
    expect_single,
    expect_single_with_error,
    g_prime,
    g_second,
    gauss_hermite,
    hermite_coefficients,
    pair_expectations,
    single_moments,
)
from dltheory.effective.kernels import (
    kernel_recursion,
    kernel_recursion_single,
    ntk_recursion,
    ntk_recursion_single,
)
from dltheory.effective.four_point import (
    FourPointSingle,
    clt_valid_layers,
    exact_fourth_moment,
    four_point_single,
    layer_moments,
    normalized_vertex,
    vertex_slope,
    width_ratios,
)
from dltheory.effective.nlo_kernel import (
    FourPointMulti,
    four_point_expectations,
    four_point_recursion,
    second_derivative_tensor,
)
from dltheory.effective.ntk_statistics import (
    NTKStatisticsSingle,
    finite_width_summary,
    ntk_statistics_single,
)
from dltheory.effective.aspect_ratio import (
    information_proxy,
    optimal_aspect_ratio,
    optimal_aspect_ratio_from_nu,
)
from dltheory.effective.residual import (
    check_gamma,
    residual_critical_point,
    residual_four_point,
    residual_vertex_slope,
)
from dltheory.effective.trained_networks import (
    first_step_mean,
    first_step_richardson,
    frozen_ntk_prediction,
    nngp_posterior,
    propagator,
)

__all__ = [
    "CLASS_NAMES",
    "CriticalPoint",
    "UniversalityClass",
    "critical_point",
    "fixed_points",
    "susceptibilities",
    "universality_class",
    "expect_pair",
    "expect_pair_reference",
    "expect_pair_with_error",
    "expect_single",
    "expect_single_with_error",
    "g_prime",
    "g_second",
    "gauss_hermite",
    "hermite_coefficients",
    "pair_expectations",
    "single_moments",
    "kernel_recursion",
    "kernel_recursion_single",
    "ntk_recursion",
    "ntk_recursion_single",
    "FourPointSingle",
    "clt_valid_layers",
    "exact_fourth_moment",
    "four_point_single",
    "layer_moments",
    "normalized_vertex",
    "vertex_slope",
    "width_ratios",
    "FourPointMulti",
    "four_point_expectations",
    "four_point_recursion",
    "second_derivative_tensor",
    "NTKStatisticsSingle",
    "finite_width_summary",
    "ntk_statistics_single",
    "information_proxy",
    "optimal_aspect_ratio",
    "optimal_aspect_ratio_from_nu",
    "check_gamma",
    "residual_critical_point",
    "residual_four_point",
    "residual_vertex_slope",
    "first_step_mean",
    "first_step_richardson",
    "frozen_ntk_prediction",
    "nngp_posterior",
    "propagator",
]
