"""weight-space-landscape runs at a tiny scale and computes its claims; the ensemble store is reused."""

import numpy as np

from dltheory.experiments import get_experiment
from dltheory.lab import Outcome


def test_weight_space_landscape_tiny(tmp_path):
    exp = get_experiment("weight-space-landscape")
    cfg = exp.config("quick", n_components=6, deep_sizes=(6, 4, 4, 10), shallow_sizes=(6, 10), n_train_op=40,
                     n_runs=6, samples_per_run=40, epochs_deep=4, epochs_shallow=4, refs_per_group=1,
                     x_max=1.0, x_step=0.25, tap_starts=10, plm_maxiter=30, model_sweeps=2, bp_max_sweeps=100,
                     ensemble_dir=str(tmp_path / "store"))
    out = exp.execute(cfg, np.random.default_rng(0))
    assert isinstance(out, Outcome)
    names = {c.name for c in out.claims}
    for g in cfg.gauges:
        assert {f"C1-up-{g}", f"C1-op-{g}", f"C2-{g}", f"C4-up-{g}", f"C4-op-{g}"} <= names
    assert {"C3-shallow", "C5-up", "C5-op", "C5-shallow"} <= names
    assert {"case", "gauge", "segment", "I_per_spin", "hysteresis", "tap_levels"} <= set(out.table.columns)
    assert set(out.table.segment) == {"LB", "ITER", "RB", "FULL"}
    assert (tmp_path / "store" / "up" / "weights.npz").is_file()
    assert (tmp_path / "store" / "shallow" / "provenance.json").is_file()
