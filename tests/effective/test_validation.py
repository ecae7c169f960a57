"""Numerics that say when they break (issue 13 item 6): every recursion checks every output per layer and
names the layer; kernels are checked for symmetry and PSD; complex and non-numeric inputs are rejected."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dltheory.effective import (
    finite_width_summary,
    four_point_expectations,
    four_point_recursion,
    four_point_single,
    kernel_recursion,
    kernel_recursion_single,
    ntk_recursion,
    ntk_recursion_single,
    ntk_statistics_single,
    pair_expectations,
    susceptibilities,
)
from dltheory.effective.four_point import exact_fourth_moment, layer_moments
from dltheory.effective.ntk_statistics import ONE_OVER_N_LIMIT
from dltheory.effective.residual import residual_four_point
from dltheory.effective.validation import PSD_RTOL, LayerCheck, check_kernel_matrix, real_array, real_scalar
from dltheory.errors import DLTheoryError, DLTheoryWarning

X = np.eye(2, 4) + 0.5


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and len(message) < 400, message
    return message


# -- overflow is named by layer, never returned ---------------------------------------------------------


def test_ntk_overflow_names_the_first_layer_that_overflows():
    with pytest.raises(DLTheoryError, match=r"^NTK Θ overflows at layer 2227 \(erf, C_b = 0, C_W = 3\)") as info:
        ntk_recursion(X, 3000, "erf", 0.0, 3.0)
    _one_line(info)
    # the layer named is the first non-finite one: the recursion is finite just before it
    _, theta = ntk_recursion(X, 2226, "erf", 0.0, 3.0)
    assert np.all(np.isfinite(theta))


def test_huge_cw_is_an_error_not_an_all_nan_ntk():
    with pytest.raises(DLTheoryError, match=r"NTK Θ .* at layer 2 \(erf, C_b = 0, C_W = 1e\+300\)"):
        ntk_recursion(X, 10, "erf", 0.0, 1e300)
    with pytest.raises(DLTheoryError, match=r"kernel K overflows at layer 1 "):
        kernel_recursion(X * 1e150, 3, "relu", 0.0, 1e10)
    with pytest.raises(DLTheoryError, match=r"x: the Gram matrix .* overflows"):
        kernel_recursion(X * 1e200, 3, "relu", 0.0, 2.0)


@pytest.mark.parametrize("call, quantity", [
    (lambda: four_point_single(1.0, 10_000, "relu", 0.0, 2.5), "four-point vertex V"),
    (lambda: kernel_recursion_single(1.0, 5000, "relu", 0.0, 2.5), "kernel K"),
    (lambda: ntk_recursion_single(1.0, 5000, "relu", 0.0, 2.5), "NTK Θ"),
    (lambda: ntk_statistics_single(1.0, 5000, "relu", 0.0, 2.5, widths=10), "NTK variance A"),
    (lambda: residual_four_point(1.0, 5000, "relu", 0.5, 0.0, 2.0), "four-point vertex V"),
    (lambda: exact_fourth_moment(1.0, 3000, "relu", 2.5, 10), "E z"),
])
def test_every_single_input_recursion_names_the_layer_it_overflows_at(call, quantity):
    with pytest.raises(DLTheoryError, match=rf"^{quantity}.* overflows at layer \d+ \(relu") as info:
        call()
    assert "OverflowError" not in _one_line(info)


def test_four_point_single_used_to_raise_a_raw_overflow_error():
    """The issue's probe: depth 10000 at C_W = 2.5 raised OverflowError from a Python float power."""
    with pytest.raises(DLTheoryError) as info:
        four_point_single(1.0, 10_000, "relu", cw=2.5)
    assert not isinstance(info.value, OverflowError)
    layer = int(str(info.value).split("at layer ")[1].split()[0])
    ok = four_point_single(1.0, layer - 1, "relu", cw=2.5)
    assert np.all(np.isfinite(ok.vertex)) and np.all(np.isfinite(ok.nlo_metric))


def test_multi_input_four_point_recursion_checks_its_outputs():
    with pytest.raises(DLTheoryError, match=r"at layer \d+ \(relu, C_b = 0, C_W = 1e\+150\)"):
        four_point_recursion(X, 4, "relu", 0.0, 1e150, widths=8)
    ok = four_point_recursion(X, 3, "relu", 0.0, 2.0, widths=8)
    assert np.all(np.isfinite(ok.vertex))


def test_kernel_that_underflows_to_zero_is_named():
    with pytest.raises(DLTheoryError, match=r"kernel K underflows to 0 at layer \d+ \(relu, C_b = 0, C_W = 0.01\)"):
        four_point_single(1.0, 400, "relu", 0.0, 0.01)


def test_layer_check_converts_raw_overflow_errors():
    with pytest.raises(DLTheoryError, match=r"the recursion overflows at layer 7 \(tanh, C_W = 2\)"):
        with LayerCheck("tanh", C_W=np.full(9, 2.0)) as check:
            check.layer = 7
            _ = 10.0**400


def test_valid_recursions_are_unchanged_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k, theta = ntk_recursion(X, 20, "relu", 0.0, 2.0)
        ks, ts = ntk_recursion_single(1.0, 20, "relu", 0.0, 2.0)
    # ReLU at criticality: the diagonal is conserved and Θ grows linearly (§6.2)
    assert np.allclose(np.diag(k[-1]), np.diag(k[0])) and np.allclose(ks, 1.0)
    assert np.allclose(ts, 1.5 * (1 + np.arange(20)))


# -- inputs: theta1, complex, non-numeric ---------------------------------------------------------------


@pytest.mark.parametrize("theta1", [np.nan, -5.0, np.inf, 1j, "1", True, [1.0, 2.0]])
def test_theta1_must_be_a_finite_nonnegative_real(theta1):
    with pytest.raises(DLTheoryError, match="theta1"):
        ntk_recursion_single(1.0, 5, "relu", 0.0, 2.0, theta1=theta1)
    with pytest.raises(DLTheoryError, match="theta1"):
        ntk_statistics_single(1.0, 5, "relu", 0.0, 2.0, theta1=theta1)


def test_theta1_zero_and_positive_are_accepted():
    _, t = ntk_recursion_single(1.0, 3, "relu", 0.0, 2.0, theta1=0.0)
    assert t[0] == 0.0


@pytest.mark.parametrize("bad", [X + 0.5j, X.astype(str), X.astype(object), np.array([[None, 1.0]]),
                                 X > 0, np.zeros(2, dtype=[("a", float), ("b", float)])])
def test_complex_and_non_numeric_inputs_are_rejected(bad):
    with pytest.raises(DLTheoryError, match=r"^x: ") as info:
        ntk_recursion(bad, 3, "relu")
    _one_line(info)


@pytest.mark.parametrize("name, call", [
    ("cw", lambda v: kernel_recursion(X, 3, "relu", cw=v)),
    ("cb", lambda v: kernel_recursion_single(1.0, 3, "relu", cb=v)),
    ("k1", lambda v: four_point_single(v, 3, "relu")),
    ("k1", lambda v: ntk_statistics_single(v, 3, "relu")),
    ("k", lambda v: layer_moments("tanh", v)),
    ("k", lambda v: susceptibilities("tanh", v, 1.0)),
    ("widths", lambda v: four_point_single(1.0, 3, "relu", widths=[v, 4])),
])
@pytest.mark.parametrize("value", [2.0 + 1j, "2", None])
def test_scalar_parameters_reject_complex_and_strings(name, call, value):
    with pytest.raises(DLTheoryError, match=name):
        call(value)


def test_gaussian_entry_points_reject_complex_and_strings():
    from dltheory.effective import expect_pair, expect_single, single_moments

    with pytest.raises(DLTheoryError, match="complex"):
        expect_single(np.tanh, 1.0 + 1j)
    with pytest.raises(DLTheoryError, match="k12: expected real numbers"):
        expect_pair(np.tanh, np.tanh, 1.0, 0.5j, 1.0)
    with pytest.raises(DLTheoryError, match="string"):
        single_moments("tanh", "1.0")


def test_real_array_and_scalar():
    assert real_array([1, 2], "a").dtype == np.float64
    assert real_scalar(np.float32(2.5), "a") == 2.5
    for bad in ("abc", b"x", 1 + 0j, [[1, 2], [3]], True):
        with pytest.raises(DLTheoryError):
            real_scalar(bad, "a")


# -- kernels: symmetric and PSD -------------------------------------------------------------------------


@pytest.mark.parametrize("kernel, reason", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
    (np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]), "positive semi-definite"),  # 2x2 minors fine
    (np.array([[1.0, 0.0], [0.0, -1.0]]), "diagonal"),
    (np.array([[1.0, 0.5j], [-0.5j, 1.0]]), "complex"),
    (np.ones((2, 3)), "square"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), "finite"),
])
def test_pair_expectations_rejects_invalid_kernels(kernel, reason):
    with pytest.raises(DLTheoryError, match=reason) as info:
        pair_expectations("relu", kernel)
    _one_line(info)
    with pytest.raises(DLTheoryError, match=reason):
        four_point_expectations("relu", kernel)


def test_psd_tolerance_is_relative_to_the_largest_variance():
    # a rank-one kernel (identical inputs) with rounding noise well inside the stated tolerance is accepted
    v = np.array([1.0, 2.0, 3.0])
    k = 1e3 * np.outer(v, v)
    k[0, 1] = k[1, 0] = k[0, 1] * (1 + 1e-14)
    check_kernel_matrix(k)
    ss, dd = pair_expectations("relu", k)
    assert np.all(np.isfinite(ss)) and np.all(np.isfinite(dd))
    # the boundary: λ_min = −0.1 vs −3 times the tolerance P · PSD_RTOL · max K_aa
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((4, 4)))
    base = q @ np.diag([2.0, 1.0, 0.5, 0.0]) @ q.T
    tol = 4 * PSD_RTOL * np.max(np.diag(base))
    for factor, ok in ((0.1, True), (3.0, False)):
        k = base - factor * tol * np.outer(q[:, 3], q[:, 3])
        k = 0.5 * (k + k.T)
        if ok:
            check_kernel_matrix(k)
        else:
            with pytest.raises(DLTheoryError, match="positive semi-definite"):
                check_kernel_matrix(k)


def test_recursion_kernels_pass_the_psd_check_at_every_layer():
    x = np.random.default_rng(0).standard_normal((12, 5))
    x[3] = x[2]  # a repeated input: rank-deficient Gram matrix
    for act in ("relu", "erf", "tanh"):
        k = kernel_recursion(x, 6, act, 0.1, 1.5)
        for layer in k:
            check_kernel_matrix(layer)


# -- the 1/n regime ---------------------------------------------------------------------------------------


def test_finite_width_summary_warns_outside_the_one_over_n_regime():
    with pytest.warns(DLTheoryWarning, match=rf"> {ONE_OVER_N_LIMIT}, outside the regime of the 1/n expansion"):
        out = finite_width_summary("relu", 64, 10_000)  # the depth/width = 156
    assert out["aspect_ratio"] > 100
    with pytest.warns(DLTheoryWarning, match="L/n = 0.6"):
        finite_width_summary("tanh", 100, 60)  # every O(1/n) correction is small, but L/n = 0.6 > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", DLTheoryWarning)
        small = finite_width_summary("relu", 512, 20)  # ν L/n ≈ 0.19
    assert small["normalized_vertex"] < ONE_OVER_N_LIMIT
