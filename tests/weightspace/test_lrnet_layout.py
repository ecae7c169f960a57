"""LR-net sampling statistics, training determinism, layout and the permutation gauge (§3, §11 A1, A2, A14)."""

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.weightspace import (DEEP, LRNetEnsemble, WeightLayout, apply_permutations, forward_binary,
                                  gauge_samples, load_dataset, lr_preactivation_moments, regime_ratio,
                                  sample_weights, train_lrnet)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def test_lr_sampling_moments_match_local_reparameterisation():
    rng = np.random.default_rng(0)
    layout = WeightLayout((20, 3))
    theta = rng.normal(0, 1.5, (1, 3, 20))
    ens = LRNetEnsemble(layout, [theta], np.zeros((1, 1)))
    sigma, run_id = sample_weights(ens, 100_000, rng)
    assert sigma.dtype == np.int8 and set(np.unique(sigma)) == {-1, 1} and (run_id == 0).all()
    a = rng.normal(0, 1, (1, 20))
    W = layout.split(sigma)[0].astype(float)            # (S, 3, 20)
    pre = W @ a[0]                                      # (S, 3)
    mean_th, var_th = lr_preactivation_moments(theta[0], a)
    n = len(pre)
    se_mean = pre.std(0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(pre.mean(0) - mean_th[0]) <= 4 * se_mean)
    var = pre.var(0, ddof=1)
    kurt = ((pre - pre.mean(0)) ** 4).mean(0)
    se_var = np.sqrt((kurt - var ** 2) / n)
    assert np.all(np.abs(var - var_th[0]) <= 4 * se_var)


def test_gauge_is_an_exact_symmetry_and_round_trips(digits):
    rng = np.random.default_rng(1)
    layout = WeightLayout(DEEP)
    sigma = rng.choice(np.array([-1, 1], np.int8), (6, layout.n_weights))
    x = digits.x_test[:50]
    z0 = forward_binary(layout, sigma, x)
    for g in ("augment", "canonical"):
        s2 = gauge_samples(layout, sigma, g, rng=rng, x_ref=digits.x_train[digits.y_train == 1])
        assert not np.array_equal(s2, sigma)
        np.testing.assert_allclose(forward_binary(layout, s2, x), z0, rtol=1e-12, atol=1e-12)
    perms = [np.array([rng.permutation(h) for _ in range(6)]) for h in (15, 15)]
    s3 = apply_permutations(layout, sigma, perms)
    inv = [np.argsort(p, axis=1) for p in perms]
    np.testing.assert_array_equal(apply_permutations(layout, s3, inv), sigma)
    np.testing.assert_array_equal(layout.join(layout.split(sigma)), sigma)
    # canonical gauge is idempotent
    xr = digits.x_train[:40]
    c1 = gauge_samples(layout, sigma, "canonical", x_ref=xr)
    np.testing.assert_array_equal(gauge_samples(layout, c1, "canonical", x_ref=xr), c1)


def test_layout_segments_follow_the_spec():
    seg = WeightLayout(DEEP).segments
    assert seg == {"LB": (0, 300), "ITER": (300, 525), "RB": (525, 675), "FULL": (0, 675)}
    assert WeightLayout((20, 10)).segments == {"FULL": (0, 200)}
    assert regime_ratio(DEEP, 500) == pytest.approx(1.35)
    with pytest.raises(DLTheoryError, match="gauge must be"):
        gauge_samples(WeightLayout(DEEP), np.ones((1, 675), np.int8), "sorted")


def test_training_learns_and_is_reproducible(digits):
    data = digits.subset_train(300, seed=0)
    a = train_lrnet(data, (20, 10), n_runs=2, epochs=15, seed=3)
    b = train_lrnet(data, (20, 10), n_runs=2, epochs=15, seed=3)
    for ta, tb in zip(a.theta, b.theta):
        np.testing.assert_array_equal(ta, tb)
    assert a.loss_history[-1].mean() < 0.8 * a.loss_history[0].mean()
    sig, _ = sample_weights(a, 50, np.random.default_rng(0))
    acc = (forward_binary(a.layout, sig, data.x_test).argmax(-1) == data.y_test).mean()
    assert acc > 0.3                                    # far above chance (0.1)
