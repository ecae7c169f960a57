"""Benchmark: pseudo-likelihood for 675 spins and 10⁴ samples, against scikit-learn's per-spin baseline.

Prints wall time and peak memory of ``fit_pseudolikelihood`` and of the per-spin
``LogisticRegression`` fit on the same data in the same run, their speed ratio (goal ≥ 5×) and the
agreement of the couplings; then the time of a BP s(d) sweep over 61 bias values for 675 spins.

Usage: ``python benchmarks/bench_inverse_ising.py [--n-spins 675] [--n-samples 10000] [--threads 2]``
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n-spins", type=int, default=675)
    p.add_argument("--n-samples", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--sklearn-spins", type=int, default=0,
                   help="time the baseline on this many spins only and extrapolate linearly (0: all spins)")
    args = p.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np

    from dltheory.weightspace import (IsingModel, entropy_landscape, fit_logistic_per_spin, fit_pseudolikelihood)

    rng = np.random.default_rng(0)
    N, M = args.n_spins, args.n_samples
    # data shaped like a weight ensemble: R = 200 "runs", each a product measure with its own
    # magnetizations m_r = tanh(θ_r/2), θ_r = θ_0 + 0.5 ξ_r (cheap to draw, correlated across spins)
    t = time.perf_counter()
    theta0 = rng.normal(0, 1.0, N)
    runs = np.tanh((theta0 + 0.5 * rng.standard_normal((200, N))) / 2)
    run_of = rng.integers(0, 200, M)
    sigma = np.where(rng.random((M, N)) < (1 + runs[run_of]) / 2, 1, -1).astype(np.int8)
    print(f"data: mixture of 200 product measures, N={N}, M={M}, drawn in {time.perf_counter() - t:.1f} s")
    A = np.triu(rng.normal(0, 0.5 / np.sqrt(N), (N, N)), 1)
    model = IsingModel(rng.normal(0, 0.1, N), A + A.T)   # for the BP s(d) sweep

    def measure(fn):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        return out, dt, peak

    iu = np.triu_indices(N, 1)
    fit, t_plm, m_plm = measure(lambda: fit_pseudolikelihood(sigma, gtol=1e-6, ftol=1e-10))
    print(f"fit_pseudolikelihood: {t_plm:.1f} s, peak {m_plm:.0f} MiB (traced), {fit.n_iter} iterations, "
          f"converged={fit.converged} ({fit.message})")
    fit32, t32, m32 = measure(lambda: fit_pseudolikelihood(sigma, gtol=1e-5, ftol=1e-10, dtype="float32"))
    d32 = np.max(np.abs(fit32.model.J - fit.model.J))
    print(f"fit_pseudolikelihood(dtype=float32): {t32:.1f} s, peak {m32:.0f} MiB, max|ΔJ| vs float64 {d32:.2e}")
    if not args.skip_sklearn and args.sklearn_spins:
        from sklearn.linear_model import LogisticRegression

        K = args.sklearn_spins
        sf = sigma.astype(np.float64)
        rows = np.zeros((K, N))

        def baseline():
            for r in range(K):   # same per-spin problem as fit_logistic_per_spin, C matched to lambda = 1e-5
                clf = LogisticRegression(C=2.0 / (1e-5 * M), tol=1e-6, max_iter=1000)
                clf.fit(np.delete(sf, r, axis=1), sigma[:, r])
                rows[r, np.arange(N) != r] = clf.coef_[0] / 2

        _, t_k, m_sk = measure(baseline)
        t_sk = t_k * N / K
        dJ = np.max(np.abs(rows - fit.model.J[:K]))
        rel_sk = np.linalg.norm(rows - fit.model.J[:K]) / np.linalg.norm(fit.model.J[:K])
        print(f"sklearn per-spin LogisticRegression on {K} spins: {t_k:.1f} s -> {t_sk:.1f} s extrapolated to {N}, "
              f"peak {m_sk:.0f} MiB")
        print(f"  speed ratio sklearn/PLM = {t_sk / t_plm:.2f}x (float32: {t_sk / t32:.2f}x); goal >= 5x")
        print(f"  couplings (unsymmetrized rows): max|ΔJ| = {dJ:.2e}, relative difference {rel_sk:.2e} (tolerance 5e-2)")
    elif not args.skip_sklearn:
        ref, t_sk, m_sk = measure(lambda: fit_logistic_per_spin(sigma, tol=1e-6))
        dJ = np.max(np.abs(ref.J - fit.model.J))
        rel_sk = np.linalg.norm(ref.J[iu] - fit.model.J[iu]) / np.linalg.norm(fit.model.J[iu])
        print(f"sklearn per-spin LogisticRegression: {t_sk:.1f} s, peak {m_sk:.0f} MiB")
        print(f"  speed ratio sklearn/PLM = {t_sk / t_plm:.2f}x (float32: {t_sk / t32:.2f}x); goal >= 5x")
        print(f"  couplings: max|ΔJ| = {dJ:.2e}, relative difference {rel_sk:.2e} (tolerance 5e-2)")
    ref_cfg = np.where(rng.random(N) < 0.5, 1.0, -1.0)
    t0 = time.perf_counter()
    L = entropy_landscape(model, ref_cfg, x=np.linspace(-3, 3, 61))
    t_bp = time.perf_counter() - t0
    print(f"BP s(d) sweep, 61 bias values x 2 directions, N={N}: {t_bp:.1f} s, converged fraction "
          f"{L.converged_fraction:.3f}, hysteresis {L.hysteresis:.2e}, jumps {len(L.jumps)}")


if __name__ == "__main__":
    main()
