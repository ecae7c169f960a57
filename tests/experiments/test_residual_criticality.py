import numpy as np
import pytest

from dltheory.errors import DLTheoryError
from dltheory.experiments.residual_criticality import EXPERIMENT


def test_runs_small():
    cfg = EXPERIMENT.config("quick", activations=("relu",), gammas=(0.0, 0.5), widths=(8, 16), n_networks=400,
                            n_bootstrap=20)
    out = EXPERIMENT.execute(cfg, np.random.default_rng(0))
    assert len(out.claims) == 4 and all(np.isfinite(c.measured) for c in out.claims)
    assert {"vertex_norm_mc", "nu_gamma"} <= set(out.table.columns)


def test_bad_gamma():
    with pytest.raises(DLTheoryError):
        EXPERIMENT.config("quick", gammas=(1.0,))
