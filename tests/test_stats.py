"""dltheory.stats against hand computations and known-variance Monte Carlo cases.

Randomized checks use fixed seeds and tolerances of 4 standard errors of the checked quantity
(the SE is computed from the same replicates, so a failure means a bias, not bad luck).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.stats import (
    WidthSeries,
    bonferroni_z,
    bootstrap,
    bootstrap_se,
    fit_inverse_width,
    fit_width_exponent,
    inverse_width_design,
    jackknife,
    mean_and_se,
    pooled_slope_fit,
    t_interval,
    weighted_least_squares,
    within_z,
)

Z = 4.0


# ------------------------------------------------------------------ standard errors


def test_mean_and_se_by_hand():
    mean, se = mean_and_se(np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0]]))
    np.testing.assert_allclose(mean, [2.5, 10.0], rtol=1e-15)
    np.testing.assert_allclose(se, [math.sqrt(5.0 / 3.0) / 2.0, 0.0], rtol=1e-15)
    with pytest.raises(DLTheoryError, match="at least 2"):
        mean_and_se(np.ones((1, 3)))


def test_t_interval_by_hand():
    # N = 2: t with 1 dof is Cauchy, t_1(0.95) = tan(0.45 π); mean 1, s = √2, SE = 1
    lo, hi = t_interval(np.array([0.0, 2.0]), level=0.90)
    h = math.tan(0.45 * math.pi)
    assert lo == pytest.approx(1.0 - h, rel=1e-12) and hi == pytest.approx(1.0 + h, rel=1e-12)
    with pytest.raises(DLTheoryError, match="level"):
        t_interval(np.array([0.0, 1.0]), level=1.0)
    with pytest.raises(DLTheoryError, match=">= 2 entries"):
        t_interval(np.array([1.0]))


# ------------------------------------------------------------------ resampling


def test_jackknife_of_a_linear_functional_equals_mean_and_se():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(1000, 3))
    est, se = jackknife(lambda m: 2 * m, data, n_blocks=1000)
    mean, mse = mean_and_se(data)
    np.testing.assert_allclose(est, 2 * mean, rtol=1e-12)
    np.testing.assert_allclose(se, 2 * mse, rtol=1e-10)


def test_jackknife_square_of_mean_known_variance_and_no_bias():
    """θ = (E x)², x ~ N(μ, σ²): Var(x̄²) = 4μ²σ²/N + 2σ⁴/N²; the bias-corrected estimate is unbiased."""
    mu, sigma, n, reps = 2.0, 1.0, 200, 400
    rng = np.random.default_rng(1)
    est, var = np.empty(reps), np.empty(reps)
    for r in range(reps):
        x = rng.normal(mu, sigma, n)
        e, s = jackknife(lambda m: m**2, x)
        est[r], var[r] = e, s**2
    exact_var = 4 * mu**2 * sigma**2 / n + 2 * sigma**4 / n**2
    assert abs(var.mean() - exact_var) <= Z * var.std(ddof=1) / math.sqrt(reps)
    assert abs(est.mean() - mu**2) <= Z * est.std(ddof=1) / math.sqrt(reps)
    # and the SEs describe the spread of the estimates across data sets (relative SE of a variance √(2/(M−1)))
    assert abs(est.var(ddof=1) / exact_var - 1) <= Z * math.sqrt(2 / (reps - 1))


def test_jackknife_input_errors():
    with pytest.raises(DLTheoryError, match="at least one"):
        jackknife(lambda: 0.0)
    with pytest.raises(DLTheoryError, match="leading"):
        jackknife(lambda a, b: a + b, np.ones(4), np.ones(5))
    with pytest.raises(DLTheoryError, match=">= 2 blocks"):
        jackknife(lambda a: a, np.ones(1))


def test_bootstrap_draw_order_and_pairing_by_hand():
    a, b = np.arange(5.0), 10 * np.arange(5.0)
    c = np.arange(3.0)
    reps = bootstrap(lambda ab, cc: (ab[1] - 10 * ab[0]).sum() + 100 * cc.sum(), (a, b), c,
                     n_resamples=4, rng=np.random.default_rng(3))
    rng = np.random.default_rng(3)
    expect = []
    for _ in range(4):
        i = rng.integers(0, 5, 5)
        j = rng.integers(0, 3, 3)
        expect.append((b[i] - 10 * a[i]).sum() + 100 * c[j].sum())
    np.testing.assert_array_equal(reps, expect)
    # np.arange passes the resampled indices themselves
    idx = bootstrap(lambda i: i, np.arange(6), n_resamples=2, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(idx, np.random.default_rng(4).integers(0, 6, (2, 6)))
    with pytest.raises(DLTheoryError, match="leading length"):
        bootstrap(np.mean, (np.ones(3), np.ones(4)), n_resamples=2, rng=np.random.default_rng(0))
    with pytest.raises(DLTheoryError, match="n_resamples"):
        bootstrap_se(np.mean, np.ones(3), n_resamples=1, rng=np.random.default_rng(0))


def test_bootstrap_se_of_a_mean_matches_its_known_value():
    """Bootstrap SE of a mean → s √((N−1)/N)/√N; its own relative Monte Carlo error is 1/√(2(B−1))."""
    n, b = 100, 2000
    x = np.random.default_rng(5).normal(size=n)
    se = float(bootstrap_se(np.mean, x, n_resamples=b, rng=np.random.default_rng(6)))
    exact = x.std(ddof=1) * math.sqrt((n - 1) / n) / math.sqrt(n)
    assert abs(se / exact - 1) <= Z / math.sqrt(2 * (b - 1))
    vec = bootstrap_se(lambda v: v.mean(0), np.stack([x, 2 * x], 1), n_resamples=50, rng=np.random.default_rng(7))
    assert vec.shape == (2,) and vec[1] == pytest.approx(2 * vec[0], rel=1e-12)


# ------------------------------------------------------------------ multiple testing


@pytest.mark.parametrize("m", [1, 2, 7, 144])
def test_bonferroni_z_inverts_the_normal_tail(m):
    z = bonferroni_z(m)
    assert 0.5 * math.erfc(z / math.sqrt(2)) == pytest.approx(1e-3 / (2 * m), rel=1e-9)
    assert bonferroni_z(m, 0.05) < z


def test_bonferroni_z_known_value_and_errors():
    assert bonferroni_z(1) == pytest.approx(3.2905267314919, abs=1e-9)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(DLTheoryError, match="m must"):
            bonferroni_z(bad)
    with pytest.raises(DLTheoryError, match="family_error"):
        bonferroni_z(3, 0.0)


def test_within_z():
    assert within_z(1.0, 1.5, 0.25, 2.0) and not within_z(1.0, 1.6, 0.25, 2.0)
    assert not within_z(float("nan"), 1.0, 1.0, 3.0) and not within_z(1.0, 1.0, float("nan"), 3.0)


# ------------------------------------------------------------------ fits


def test_weighted_least_squares_matches_the_normal_equations():
    rng = np.random.default_rng(8)
    x = np.column_stack([np.ones(7), rng.normal(size=7), rng.normal(size=7)])
    y, se = rng.normal(size=7), rng.uniform(0.5, 2.0, 7)
    fit = weighted_least_squares(x, y, se)
    w = 1 / se**2
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    coef = cov @ (x.T @ (w * y))
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-10)
    np.testing.assert_allclose(fit.cov, cov, rtol=1e-10)
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(cov)), rtol=1e-10)
    assert fit.chi2 == pytest.approx(float(np.sum(w * (y - x @ coef) ** 2)), rel=1e-10)
    assert fit.dof == 4
    fit2 = weighted_least_squares(x[:5], y[:5], se[:5])  # χ² with 2 dof: sf = exp(−χ²/2)
    assert fit2.p_value == pytest.approx(math.exp(-fit2.chi2 / 2), rel=1e-10)
    assert math.isnan(weighted_least_squares(x[:3], y[:3], se[:3]).p_value)
    with pytest.raises(DLTheoryError, match="design"):
        weighted_least_squares(x, y[:3], se[:3])
    # fewer points than coefficients: the minimum-norm solution, no covariance
    under = weighted_least_squares(x[:1], y[:1], se[:1])
    assert under.rank == 1 and np.all(np.isfinite(under.coef)) and np.all(np.isnan(under.se))
    np.testing.assert_allclose(x[:1] @ under.coef, y[:1], rtol=1e-12)


def test_fit_inverse_width_exact_lines_and_hand_se():
    widths = np.array([16, 32, 64, 128])
    y0 = np.arange(6.0).reshape(2, 3)
    y = y0 + np.array([3.0, -1.0, 0.5])[None, None, :] / widths[:, None, None]
    se = np.full_like(y, 0.01)
    fit = fit_inverse_width(widths, y, se)
    np.testing.assert_allclose(fit.y0, y0, atol=1e-12)
    np.testing.assert_allclose(fit.y1, np.broadcast_to([3.0, -1.0, 0.5], (2, 3)), atol=1e-9)
    assert fit.y0.shape == (2, 3) and fit.dof == 2 and np.all(fit.chi2 < 1e-12)
    x = np.column_stack([np.ones(4), 1.0 / widths])
    np.testing.assert_allclose(fit.y0_se, np.sqrt(np.linalg.inv(x.T @ x / 0.01**2)[0, 0]), rtol=1e-10)
    one = fit_inverse_width(widths, y[:, 0, 0], se[:, 0, 0])
    assert one.y0.shape == () and float(one.y0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(DLTheoryError, match="shape"):
        fit_inverse_width(widths, y[:3], se[:3])


def test_inverse_width_design_fits_higher_orders_and_detects_a_missing_term():
    n = np.array([8.0, 16, 32, 64, 128])
    y = 0.02 - 1.5 / n + 4.0 / n**2
    design = inverse_width_design(n, order=2)
    np.testing.assert_allclose(design, np.column_stack([np.ones(5), 1 / n, 1 / n**2]))
    fit = weighted_least_squares(design, y, np.full(5, 1e-3))
    np.testing.assert_allclose(fit.coef, [0.02, -1.5, 4.0], atol=1e-8)
    assert fit.p_value == pytest.approx(1.0)
    linear = weighted_least_squares(inverse_width_design(n), y, np.full(5, 1e-3))
    assert linear.p_value < 1e-6  # the missing 1/n² term is detected
    with pytest.raises(DLTheoryError, match="order"):
        inverse_width_design(n, order=0)
    with pytest.raises(DLTheoryError, match="widths"):
        inverse_width_design([8.0, 0.0])


def test_fit_inverse_width_intercept_is_unbiased_with_honest_se():
    """Noisy Y(n) = 1 + 2/n with known SEs: the z-scores of Y₀ have mean 0 and variance 1."""
    rng = np.random.default_rng(9)
    widths, reps = np.array([8, 16, 32, 64]), 2000
    se = 0.1 * np.sqrt(16 / widths)
    y = 1 + 2 / widths[:, None] + se[:, None] * rng.normal(size=(len(widths), reps))
    fit = fit_inverse_width(widths, y, np.broadcast_to(se[:, None], y.shape))
    z = (fit.y0 - 1) / fit.y0_se
    assert abs(z.mean()) <= Z / math.sqrt(reps)
    assert abs(z.var(ddof=1) - 1) <= Z * math.sqrt(2 / (reps - 1))
    # the χ² of a correct model has mean dof
    assert abs(fit.chi2.mean() - 2) <= Z * fit.chi2.std(ddof=1) / math.sqrt(reps)


def test_exponent_fit_recovers_slope(rng):
    """Synthetic power law with log-normal noise and a finite-width correction: slope within z* SE."""
    widths = np.array([64, 128, 256, 512, 1024, 2048])
    values = np.exp(0.3 * np.log(widths) + 2.0 * widths ** -0.5 + 0.1 * rng.standard_normal((40, len(widths))))
    f = fit_width_exponent(widths, values)
    assert abs(f.slope - 0.3) <= bonferroni_z(1) * f.se and f.se < 0.1
    assert f.p_value > 1e-3
    with pytest.raises(DLTheoryError, match="at least 2 seeds"):
        fit_width_exponent(widths, values[:1])
    with pytest.raises(DLTheoryError, match="positive"):
        fit_width_exponent(widths, -values)
    with pytest.raises(DLTheoryError, match="more than 3 widths"):
        fit_width_exponent(widths[:3], values[:, :3])


def test_exponent_fit_pure_power_law_by_hand():
    """Two seeds at ±ε around c·n^s: mean log is exact, so slope and intercept are exact."""
    widths = np.array([10.0, 20.0, 40.0, 80.0])
    base = 0.7 * np.log(widths) + 0.2
    values = np.exp(np.stack([base + 0.01 * np.array([1, -1, 1, -1]), base - 0.01 * np.array([1, -1, 1, -1])]))
    f = fit_width_exponent(widths, values, correction=None)
    assert f.slope == pytest.approx(0.7, abs=1e-10) and f.intercept == pytest.approx(0.2, abs=1e-10)
    # SE_k = 0.01·√2/√2 = 0.01 at every width: SE(slope) = 0.01/√Σ(log n − mean)²
    lx = np.log(widths)
    assert f.se == pytest.approx(0.01 / math.sqrt(np.sum((lx - lx.mean()) ** 2)), rel=1e-8)


def _series(rng, slope, widths, n_networks):
    out = []
    for n in widths:
        ell = np.arange(1, n // 2 + 1)
        x = (ell - 1) / n
        samples = slope * x + rng.normal(size=(n_networks, len(ell)))
        est, se = mean_and_se(samples)
        out.append(WidthSeries(n, ell, (samples,), est, se, slope * x + 0.3 * x * x + 2.0 * x / n))
    return out


def test_pooled_slope_fit_exact_reference_and_honest_bootstrap():
    rng = np.random.default_rng(10)
    series = _series(rng, 5.0, (16, 32, 64), 400)
    fit = pooled_slope_fit(series, lambda m: m, np.inf, 400, np.random.default_rng(11))
    assert fit.slope_reference == pytest.approx(5.0, abs=1e-9)  # s x + c x² + d x/n is in the model
    assert abs(fit.slope - 5.0) <= Z * fit.se
    # the bootstrap SE estimates the WLS SE of the slope (relative MC error 1/√(2(B−1)))
    xs, ns, ses = [], [], []
    for s in series:
        keep = s.layers >= 2
        xs.append((s.layers[keep] - 1) / s.width)
        ns.append(np.full(keep.sum(), float(s.width)))
        ses.append(s.se[keep])
    x, n, se = (np.concatenate(v) for v in (xs, ns, ses))
    wls = weighted_least_squares(np.column_stack([x, x * x, x / n]), np.zeros_like(x), se)
    assert abs(fit.se / wls.se[0] - 1) <= Z / math.sqrt(2 * 399) + 0.02


def test_pooled_slope_fit_keeps_layers_by_fit_max():
    rng = np.random.default_rng(12)
    series = _series(rng, 1.0, (16, 32, 64), 50)
    # a reference that is wild beyond x = 0.1 changes nothing when those layers are excluded
    wild = [s._replace(reference=np.where((s.layers - 1) / s.width <= 0.1, s.reference, 1e6)) for s in series]
    a = pooled_slope_fit(series, lambda m: m, 0.1, 20, np.random.default_rng(0))
    b = pooled_slope_fit(wild, lambda m: m, 0.1, 20, np.random.default_rng(0))
    assert a == b


def test_judge_states_and_power():
    from dltheory.stats import Verdict, judge, required_se

    se = 0.5 * required_se(0.1, 3.0)
    assert judge(1.0, se, 1.0, 0.1, 3.0) == (Verdict.PASS, "")
    assert judge(1.0 + 4 * se, se, 1.0, 0.1, 3.0)[0] is Verdict.FAIL
    assert judge(1.0, 0.1, 1.0, 0.1, 3.0)[0] is Verdict.INCONCLUSIVE
    assert judge(float("nan"), se, 1.0, 0.1, 3.0)[0] is Verdict.INCONCLUSIVE
    assert judge(1.0, se, 0.0, 0.1, 3.0, kind="greater")[0] is Verdict.PASS
    assert judge(0.0, se, 0.0, 0.1, 3.0, kind="greater")[0] is Verdict.FAIL
    assert judge(0.0, se, 1.0, 0.1, 3.0, kind="less")[0] is Verdict.PASS
