import numpy as np

from dltheory.experiments.aspect_ratio import EXPERIMENT


def test_runs_small():
    out = EXPERIMENT.execute(EXPERIMENT.config("quick", width=16, n_networks=1000, n_bootstrap=20), np.random.default_rng(0))
    claims = {c.name: c for c in out.claims}
    assert claims["r-star-spec-table"].passed  # deterministic
    assert np.isfinite(claims["relu-fluctuation-growth"].measured)
    assert {"r_star", "vertex_norm_mc"} <= set(out.table.columns)
