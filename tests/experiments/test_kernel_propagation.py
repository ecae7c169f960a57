"""The ``kernel-propagation`` experiment at a tiny scale (the width fit is tested in tests/test_stats.py)."""

import numpy as np

from dltheory.experiments import get_experiment


def test_kernel_propagation_runs_small(rng):
    exp = get_experiment("kernel-propagation")
    cfg = exp.config("quick", widths=(32, 256), depth=3, n_networks=40)
    out = exp.execute(cfg, rng)
    assert len(out.claims) == 12 and set(out.figures) == {"kernel_vs_depth", "z_scores"}
    assert {"theory", "extrapolated", "mc_n32", "se_n256"} <= set(out.table.columns)
    assert len(out.table) == 6 * 3 * 6
    # layer 1 is exact at any width: MC is the input Gram matrix up to sampling noise
    first = out.table[out.table.layer == 1]
    assert np.all(np.abs(first.mc_n256 - first.theory) <= 5 * first.se_n256 + 1e-12)
