"""Ensemble store, accuracy filter, moments, run-bootstrap errors, data (§2, §3.3, §4, §11 A3)."""

import json

import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.weightspace import (WeightEnsemble, WeightLayout, bootstrap_moment_se, load_dataset, noise_floors,
                                  spin_moments, stratified_prefix)


def test_ensemble_save_load_filter(tmp_path):
    rng = np.random.default_rng(0)
    layout = WeightLayout((4, 3, 3, 2))
    sigma = rng.choice(np.array([-1, 1], np.int8), (40, layout.n_weights))
    ens = WeightEnsemble(layout, sigma, rng.random(40), np.repeat(np.arange(4), 10), {"seed": 7})
    d = ens.save(tmp_path / "store")
    back = WeightEnsemble.load(d)
    np.testing.assert_array_equal(back.sigma, ens.sigma)
    np.testing.assert_array_equal(back.run_id, ens.run_id)
    assert back.provenance == {"seed": 7} and not list(d.glob("*.tmp"))
    meta = json.loads((d / "provenance.json").read_text())
    assert meta["segments"]["ITER"] == [12, 21]
    acc = ens.accepted("auto")
    assert len(acc) == 30 and acc.provenance["a_min"] == pytest.approx(np.percentile(ens.accuracy, 25))
    with pytest.raises(DLTheoryError, match="no ensemble store"):
        WeightEnsemble.load(tmp_path / "missing")
    with pytest.raises(DLTheoryError, match="a_min"):
        ens.accepted(1.5)
    with pytest.raises(DLTheoryError, match=r"\+1 or -1"):
        WeightEnsemble(layout, np.zeros_like(sigma), ens.accuracy, ens.run_id)


def test_iid_moments_and_block_bootstrap_se():
    rng = np.random.default_rng(1)
    N, M, R = 6, 100_000, 400
    m_true = np.linspace(-0.6, 0.6, N)
    sigma = np.where(rng.random((M, N)) < (1 + m_true) / 2, 1, -1).astype(np.int8)
    mo = spin_moments(sigma)
    se_an = np.sqrt((1 - m_true ** 2) / M)
    assert np.all(np.abs(mo.m - m_true) <= 4 * se_an)
    C_true = np.outer(m_true, m_true)
    np.fill_diagonal(C_true, 1)
    se_C_an = np.sqrt(1 - C_true ** 2) / np.sqrt(M)
    off = ~np.eye(N, dtype=bool)
    assert np.all(np.abs(mo.C - C_true)[off] <= 4 * se_C_an[off])
    se_m, se_C = bootstrap_moment_se(sigma, np.repeat(np.arange(R), M // R), rng, n_boot=400)
    assert np.all(np.abs(se_m / se_an - 1) <= 0.2)
    assert np.all(np.abs(se_C[off] / se_C_an[off] - 1) <= 0.2)
    nu_m, nu_C = noise_floors(sigma, np.repeat(np.arange(R), M // R), rng)
    assert 0 < nu_m < 0.01 and 0 < nu_C < 0.01


def test_data_pipeline_and_stratified_prefix():
    d = load_dataset("digits", seed=0)
    assert d.x_train.shape[1] == 20 and d.n_classes == 10
    np.testing.assert_allclose(d.x_train.mean(0), 0, atol=1e-12)
    sub = d.subset_train(500, seed=1)
    counts = np.bincount(sub.y_train, minlength=10)
    full = np.bincount(d.y_train, minlength=10) * 500 / len(d.y_train)
    assert np.all(np.abs(counts - full) <= 2)
    idx = stratified_prefix(d.y_train, len(d.y_train), 0)
    assert sorted(idx) == list(range(len(d.y_train)))
    with pytest.raises(DLTheoryError, match="name must be"):
        load_dataset("mnist")
