"""inverse-ising-recovery runs at a tiny scale and computes its claims."""

import numpy as np

from dltheory.experiments import get_experiment
from dltheory.lab import Outcome


def test_inverse_ising_recovery_tiny():
    exp = get_experiment("inverse-ising-recovery")
    cfg = exp.config("quick", sizes=(20,), kinds=("spin-glass", "sparse"), sample_sizes=(1000, 4000),
                     n_chains=200, burn_in=100, thin=2, enum_size=10, n_enum_instances=2)
    out = exp.execute(cfg, np.random.default_rng(0))
    assert isinstance(out, Outcome)
    names = {c.name for c in out.claims}
    assert names == {"plm-rate-spin-glass", "plm-rate-sparse", "bp-entropy-tree", "bp-entropy-loopy"}
    assert all(np.isfinite(c.measured) for c in out.claims)
    claims = {c.name: c for c in out.claims}
    assert claims["bp-entropy-tree"].passed                    # BP is exact on trees at any scale
    assert {"part", "kind", "N", "M", "rel_error_J"} <= set(out.table.columns)
    assert "recovery" in out.figures
