"""Four-point vertex, NLO metric and ν (effective-theory.md §5; deterministic D6, D7, D8, D11; MC checks)."""

import numpy as np
import pytest

from dltheory.effective.four_point import exact_fourth_moment, four_point_single, layer_moments, vertex_slope
from dltheory.effective.nlo_kernel import four_point_recursion, second_derivative_tensor
from dltheory.errors import DLTheoryError

Z = 4.5


def test_d6_tanh_vertex_and_nlo_metric():
    r = four_point_single(1.0, 2000, "tanh", 0.0, 1.0)
    ells = np.array([10, 100, 1000, 2000])
    v_norm = r.vertex[ells - 1] / (r.kernel[ells - 1] ** 2 * ells)
    np.testing.assert_allclose(v_norm, [0.552, 0.648, 0.664, 0.665], atol=6e-4)
    np.testing.assert_allclose(r.nlo_metric[ells - 1], [-0.107, -0.159, -0.166, -0.166], atol=6e-4)
    assert four_point_single(1.0, 2000, "sin", 0.0, 1.0).nlo_metric[-1] == pytest.approx(-0.332, abs=6e-4)


@pytest.mark.parametrize("act, nu", [("relu", 5.0), ("linear", 2.0),
                                     ("leaky_relu:0.2", 6 * (1 + 0.2**4) / (1 + 0.04) ** 2 - 1)])
def test_d7_scale_invariant_closed_forms(act, nu):
    assert vertex_slope(act) == pytest.approx(nu, rel=1e-12)
    cw = 1.0 / layer_moments(act, 1.0)["g_prime"]
    r = four_point_single(1.7, 12, act, 0.0, cw)
    np.testing.assert_allclose(r.vertex, nu * np.arange(12) * 1.7**2, rtol=1e-12)
    np.testing.assert_allclose(r.nlo_metric, 0.0, atol=1e-12)


def test_exact_fourth_moment_relu_and_deep_linear():
    second, fourth = exact_fourth_moment(2.0, 6, "relu", 2.0, 32)
    v_exact = 32 * (fourth - 3 * second**2) / 3
    assert v_exact[-1] == pytest.approx(136.5, abs=0.05)
    # deep linear, exact: V' = C_W²[2K² + (1 + 2/n)V] with K' = C_W K (§5.4)
    cw, n, k = 1.3, 7, 0.8
    second, fourth = exact_fourth_moment(k, 8, "linear", cw, n)
    v, kk = 0.0, k
    for ell in range(1, 8):
        v, kk = cw**2 * (2 * kk**2 + (1 + 2 / n) * v), cw * kk
        assert n * (fourth[ell] - 3 * second[ell] ** 2) / 3 == pytest.approx(v, rel=1e-12)
    with pytest.raises(DLTheoryError):
        exact_fourth_moment(1.0, 3, "tanh")


def test_d8_half_stable_and_class_slopes():
    assert vertex_slope("gelu") == pytest.approx(4.904, abs=6e-4)
    assert vertex_slope("swish") == pytest.approx(4.923, abs=6e-4)
    for act in ("tanh", "sin", "erf"):
        assert vertex_slope(act) == pytest.approx(2 / 3, abs=1e-6)
    with pytest.raises(DLTheoryError):
        vertex_slope("sigmoid")


def test_layer_dependent_widths_and_bad_input():
    r = four_point_single(1.0, 4, "tanh", 0.0, 1.0, widths=[10, 20, 40])
    m = layer_moments("tanh", r.kernel[1])
    c = m["sigma4"] - m["sigma2"] ** 2
    assert r.vertex[2] == pytest.approx(c + 2.0 * m["g_prime"] ** 2 * r.vertex[1])
    np.testing.assert_array_equal(r.fan_in[1:], [10, 20, 40])
    for bad in ([0, 3, 3], [3, 3], 0.5):
        with pytest.raises(DLTheoryError):
            four_point_single(1.0, 4, "tanh", widths=bad)
    with pytest.raises(DLTheoryError):
        four_point_single(-1.0, 4, "tanh")


@pytest.mark.parametrize("act", ["tanh", "relu", "gelu"])
def test_d11_single_input_multi_equals_one_input(act):
    m = four_point_recursion(np.ones((1, 4)), 5, act, 0.3, 1.5)
    s = four_point_single(1.8, 5, act, 0.3, 1.5)
    np.testing.assert_allclose(m.vertex[:, 0, 0, 0, 0], s.vertex, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.nlo_metric[:, 0, 0], s.nlo_metric, rtol=1e-8, atol=1e-12)


def test_d11_symmetries_and_inverse_free_equals_inverse_form():
    x = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, -0.5, 0.3, 1.2]])
    m = four_point_recursion(x, 4, "tanh", 0.3, 1.5)
    v = m.vertex[-1]
    for perm in [(1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)]:
        np.testing.assert_allclose(v, v.transpose(perm), atol=1e-12)
    # K^{-1} form of the transport: Σ V^{(pq)(su)} <σaσb(z_p z_q − K_pq)><σcσd(z_s z_u − K_su)>
    k = m.kernel[1]
    y = second_derivative_tensor("tanh", k)
    kinv = np.linalg.inv(k)
    mom = np.zeros((2, 2, 2, 2))  # <σ_a σ_b (z_p z_q − K_pq)>, 2 inputs: exact 2-D quadrature
    lmat = np.linalg.cholesky(k)
    u, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    u1, u2 = np.meshgrid(u, u, indexing="ij")
    z = np.stack([lmat[0, 0] * u1, lmat[1, 0] * u1 + lmat[1, 1] * u2])
    ww = np.outer(w, w)
    s = np.tanh(z)
    for a in range(2):
        for b in range(2):
            for p in range(2):
                for q in range(2):
                    mom[a, b, p, q] = np.sum(ww * s[a] * s[b] * (z[p] * z[q] - k[p, q]))
    raised = np.einsum("pqsu,pi,qj,sk,ul->ijkl", m.vertex[1], kinv, kinv, kinv, kinv)
    inverse_form = np.einsum("abpq,pqsu,cdsu->abcd", mom, raised, mom)
    inverse_free = np.einsum("abpq,pqsu,cdsu->abcd", y, m.vertex[1], y)
    np.testing.assert_allclose(inverse_free, inverse_form, rtol=1e-8, atol=1e-10)


def test_mc_two_input_vertex_exact_at_layer_two():
    """V^{(2)}_{(ab)(cd)} is exact at any width (§6.4): six components vs Monte Carlo."""
    from dltheory.stats import jackknife
    from dltheory.nets.random_mlp import sample_random_mlps

    x = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, -0.5, 0.3, 1.2]])
    n = 8
    st = sample_random_mlps(x, 2, n, "tanh", 0.3, 1.5, 20000, generator=11, full_four_point=True)
    th = four_point_recursion(x, 2, "tanh", 0.3, 1.5, widths=n, with_nlo_metric=False)
    est, se = jackknife(lambda p4, m2: n * (p4 - np.einsum("lab,lcd->labcd", m2, m2)), st.pair_four_point,
                        st.second_moment)
    for idx in [(0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 0, 1), (0, 0, 0, 1), (1, 1, 1, 1), (0, 1, 1, 1)]:
        assert abs(est[1][idx] - th.vertex[1][idx]) <= Z * se[1][idx], idx


def test_mc_relu_exact_fourth_moment():
    from dltheory.stats import jackknife
    from dltheory.nets.random_mlp import sample_random_mlps

    n, depth = 8, 3
    st = sample_random_mlps(np.ones((1, 4)), depth, n, "relu", 0.0, 2.0, 20000, generator=5)
    kurt, se = jackknife(lambda m4, m2: m4 / m2**2, st.fourth_moment[:, :, 0], st.second_moment[:, :, 0, 0])
    second, fourth = exact_fourth_moment(2.0, depth, "relu", 2.0, n)
    assert np.all(np.abs(kurt - fourth / second**2) <= Z * se)
    assert fourth[-1] / second[-1] ** 2 == pytest.approx(3 * (1 + 5 / 8) ** 2)


@pytest.mark.slow
@pytest.mark.parametrize("act, cb, cw", [("relu", 0.0, 2.0), ("tanh", 0.3, 1.5)])
def test_mc_two_input_nlo_metric_extrapolated(act, cb, cw):
    """G^{1}_{ab} (two inputs, ℓ = 4) against n(E z_a z_b − K_ab) extrapolated as Y0 + Y1/n (§10.1(b), M5)."""
    from dltheory.stats import mean_and_se
    from dltheory.nets.residual_mlp import sample_residual_mlps

    x = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, -0.5, 0.3, 1.2]])
    depth = 4
    th = four_point_recursion(x, depth, act, cb, cw)
    ys, ses, inv = [], [], []
    for n, n_net in [(8, 100000), (16, 100000), (32, 100000), (64, 50000)]:
        st = sample_residual_mlps(x, depth, n, 0.0, act, cb, cw, n_net, generator=n)  # γ = 0: the plain MLP
        m, s = mean_and_se(st.second_moment[:, depth - 1])
        ys.append(n * (m - th.kernel[-1]))
        ses.append(n * s)
        inv.append(1.0 / n)
    ys, ses, inv = np.array(ys), np.array(ses), np.array(inv)
    for a, b in [(0, 0), (0, 1), (1, 1)]:
        y, se = ys[:, a, b], ses[:, a, b]
        design = np.column_stack([np.ones_like(inv), inv]) / se[:, None]
        coef, *_ = np.linalg.lstsq(design, y / se, rcond=None)
        y0_se = np.sqrt(np.linalg.inv(design.T @ design)[0, 0])
        assert abs(coef[0] - th.nlo_metric[-1][a, b]) <= Z * y0_se, (a, b, coef[0], th.nlo_metric[-1][a, b], y0_se)


def test_polar_rule_matches_arc_cosine_closed_form():
    """ReLU ⟨σ(z1)²σ(z2)²⟩ = K11 K22 J_2(θ)/(2π), J_2 = 3 sinθ cosθ + (π−θ)(1 + 2cos²θ) (Cho–Saul)."""
    from dltheory.effective.nlo_kernel import four_point_expectations

    k = np.array([[1.0, 0.5], [0.5, 1.2]])
    th = np.arccos(0.5 / np.sqrt(1.2))
    j2 = 3 * np.sin(th) * np.cos(th) + (np.pi - th) * (1 + 2 * np.cos(th) ** 2)
    s4 = four_point_expectations("relu", k)
    assert s4[0, 0, 1, 1] == pytest.approx(1.2 * j2 / (2 * np.pi), rel=1e-12)
    assert s4[1, 0, 1, 0] == s4[0, 0, 1, 1]
    assert s4[0, 0, 0, 0] == pytest.approx(1.5)


def test_connected_four_point_single_input_is_three_v():
    m = four_point_recursion(np.ones((1, 4)), 3, "relu", 0.0, 2.0, widths=16, with_nlo_metric=False)
    np.testing.assert_allclose(m.connected_four_point()[1:, 0, 0, 0, 0], 3 * m.vertex[1:, 0, 0, 0, 0] / 16)
    x = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    c = four_point_recursion(x, 3, "relu", 0.0, 2.0, widths=8, with_nlo_metric=False).connected_four_point()[-1]
    np.testing.assert_allclose(c, c.transpose(1, 0, 2, 3))
    np.testing.assert_allclose(c, c.transpose(0, 2, 1, 3))
