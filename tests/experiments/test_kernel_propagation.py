"""The ``kernel-propagation`` experiment at a tiny scale: structure, and that the fit helper is right."""

import numpy as np

from dltheory.experiments import get_experiment
from dltheory.experiments.kernel_propagation import extrapolate


def test_extrapolate_recovers_intercept_of_exact_line():
    widths = np.array([16.0, 32.0, 64.0])
    y = (2.0 + 3.0 / widths)[:, None]
    y0, se0, chi2 = extrapolate(widths, y, np.full_like(y, 0.01))
    assert np.allclose(y0, 2.0) and np.allclose(chi2, 0.0, atol=1e-18) and np.all(se0 > 0)


def test_kernel_propagation_runs_small(rng):
    exp = get_experiment("kernel-propagation")
    cfg = exp.config("quick", widths=(32, 256), depth=3, n_networks=40)
    out = exp.run(cfg, rng)
    assert len(out.claims) == 12 and set(out.figures) == {"kernel_vs_depth", "z_scores"}
    assert {"theory", "extrapolated", "mc_n32", "se_n256"} <= set(out.table.columns)
    assert len(out.table) == 6 * 3 * 6
    # layer 1 is exact at any width: MC is the input Gram matrix up to sampling noise
    first = out.table[out.table.layer == 1]
    assert np.all(np.abs(first.mc_n256 - first.theory) <= 5 * first.se_n256 + 1e-12)
