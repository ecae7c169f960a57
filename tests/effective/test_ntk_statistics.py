"""One-input NTK statistics (effective-theory.md §6.4, §6.6 exact ReLU facts, §10.3 M6/M7)."""

import warnings

import numpy as np
import pytest

from dltheory.effective.criticality import critical_point
from dltheory.effective.ntk_statistics import ntk_statistics_single
from dltheory.errors import DLTheoryError, DLTheoryWarning


def test_m7_relu_layer_two_exact_values():
    r = ntk_statistics_single(2.0, 2, "relu", 0.0, 2.0, 1.0, 1.0)
    assert (r.theta[1], r.vertex[1], r.a[1], r.b[1], r.d[1], r.f[1]) == pytest.approx((4, 20, 13, 8, 14, 8))
    assert r.nlo_ntk[1] == 0.0


def test_relu_closed_forms_any_depth():
    """§6.6 exact ReLU: Θ = ℓθ1, F = ρKθ1 ℓ(ℓ−1)/2, B = ρθ1² (ℓ−1)ℓ(2ℓ−1)/6, D = [...]ℓ(ℓ−1)/2."""
    k, theta1, rho, a2 = 2.0, 2.0, 2.0, 0.5
    r = ntk_statistics_single(k, 9, "relu", 0.0, 2.0, 1.0, 1.0)
    ell = np.arange(1, 10)
    np.testing.assert_allclose(r.theta, ell * theta1)
    np.testing.assert_allclose(r.f, rho * k * theta1 * ell * (ell - 1) / 2)
    np.testing.assert_allclose(r.b, rho * theta1**2 * (ell - 1) * ell * (2 * ell - 1) / 6)
    np.testing.assert_allclose(r.d, (a2 * (3 * rho - 1) * k**2 + (rho - 1) * k * theta1) * ell * (ell - 1) / 2)
    np.testing.assert_allclose(r.nlo_ntk, 0.0, atol=1e-12)


def test_spec_table_theory_values():
    r = ntk_statistics_single(1.0, 6, "tanh", 0.0, 1.0, 1.0, 1.0)
    got = (r.theta[-1], r.a[-1], r.b[-1], r.d[-1], r.f[-1], r.nlo_ntk[-1])
    assert got == pytest.approx((4.0370, 3.12, 15.97, -0.280, 0.353, 0.142), abs=6e-3)
    cp = critical_point("gelu")
    r = ntk_statistics_single(cp.cb + cp.cw, 4, "gelu", cp.cb, cp.cw, 1.0, 1.0)
    got = (r.theta[-1], r.a[-1], r.b[-1], r.d[-1], r.f[-1])
    assert got == pytest.approx((7.7174, 212.0, 104.3, 104.6, 51.0), rel=1e-3)


def test_widths_and_errors():
    r = ntk_statistics_single(2.0, 3, "relu", 0.0, 2.0, widths=16)
    assert r.ntk_diagonal_variance()[1] == pytest.approx((13 + 16) / 16)
    with pytest.raises(DLTheoryError):
        ntk_statistics_single(2.0, 3, "relu", widths=[16, 0])
    with pytest.raises(DLTheoryError):
        ntk_statistics_single(2.0, 0, "relu")


def test_mc_layer_two_tensors():
    """Layer 2 is exact at every width (§6.4): A, B, D, F, V and Var Ĥ_ii vs the forward-equation NTK."""
    from dltheory.nets.estimators import estimate_ntk_fluctuations
    from dltheory.nets.ntk import ntk_forward_equation

    n = 6
    st = ntk_forward_equation(np.ones((1, 4)), 2, n, "relu", 0.0, 2.0, 1.0, 1.0, 20000, generator=3)
    est = estimate_ntk_fluctuations(st)
    th = ntk_statistics_single(2.0, 2, "relu", 0.0, 2.0, 1.0, 1.0)
    pred = {"A": th.a[1], "B": th.b[1], "D": th.d[1], "F": th.f[1], "V": th.vertex[1],
            "var_diag": (th.a[1] + 2 * th.b[1]) / n}
    for key, value in pred.items():
        mc, se = est[key][0][1, 0], est[key][1][1, 0]
        assert abs(mc - value) <= 4.5 * se, (key, mc, value, se)


def test_finite_width_summary_relu_is_nu_r():
    from dltheory.effective.ntk_statistics import finite_width_summary

    with pytest.warns(DLTheoryWarning, match=r"\|V/\(nK²\)\| = 2.27 > 0.5"):  # ν L/n = 2.3: past the 1/n regime
        s = finite_width_summary("relu", 64, 30)
    assert s["normalized_vertex"] == pytest.approx(5 * 29 / 64)
    assert s["metric_shift"] == 0.0 and s["ntk_mean_shift"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", DLTheoryWarning)  # L/n = 0.47 and every correction < 0.5: no warning
        t = finite_width_summary("tanh", 64, 30)
    assert t["metric_shift"] < 0 and 0 < t["excess_kurtosis"] < 3 * 0.7 * 30 / 64
    with pytest.raises(DLTheoryError):
        finite_width_summary("relu", 0, 3)


@pytest.mark.slow
def test_mc_extrapolated_tensors_tanh_layer_four():
    """§6.4 transport terms (ℓ = 4, tanh (0.3, 1.5)): A, B, D, F, H^{1} vs Y0 of Y(n) = Y0 + Y1/n (§10.1(b))."""
    from dltheory.nets.estimators import estimate_ntk_fluctuations
    from dltheory.stats import mean_and_se
    from dltheory.nets.ntk import ntk_forward_equation

    depth, cb, cw = 4, 0.3, 1.5
    th = ntk_statistics_single(cb + cw, depth, "tanh", cb, cw, 1.0, 1.0)
    pred = {"A": th.a[-1], "B": th.b[-1], "D": th.d[-1], "F": th.f[-1], "H": th.nlo_ntk[-1]}
    values = {k: [] for k in pred}
    inv = []
    for n, n_net in [(8, 60000), (16, 40000), (32, 20000)]:
        st = ntk_forward_equation(np.ones((1, 4)), depth, n, "tanh", cb, cw, 1.0, 1.0, n_net, generator=n)
        est = estimate_ntk_fluctuations(st)
        for k in "ABDF":
            values[k].append((est[k][0][-1, 0], est[k][1][-1, 0]))
        m, s = mean_and_se(st.ntk_mean[:, -1, 0, 0])
        values["H"].append((n * (m - th.theta[-1]), n * s))
        inv.append(1.0 / n)
    inv = np.array(inv)
    for key, vals in values.items():
        y, se = np.array(vals).T
        design = np.column_stack([np.ones_like(inv), inv]) / se[:, None]
        coef, *_ = np.linalg.lstsq(design, y / se, rcond=None)
        y0_se = np.sqrt(np.linalg.inv(design.T @ design)[0, 0])
        assert abs(coef[0] - pred[key]) <= 4.5 * y0_se, (key, coef[0], pred[key], y0_se)
