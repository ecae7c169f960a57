"""Benchmark: infinite-width NNGP + NTK recursions (effective-theory.md §3.1, §6.2).

Cases
-----
* ReLU MLP, depth 100, 256 inputs of dimension 32 (float64): closed forms (§3.2).
* ReLU MLP, depth 20, 1024 inputs.
* GELU MLP, depth 100, 256 inputs: the default (1-D semi-analytic Gauss–Hermite) path, plus a
  shorter run of the generic 2-D tensor rule (extrapolated per layer).
* Depth scaling: ReLU at 25, 50, 100, 200 layers; GELU at 13, 25, 50 (time per layer ~constant).

Baselines
---------
* EXTERNAL REFERENCE (not measured here): ~2.8 s quoted in the issue for neural-tangents 0.6.5
  (depth 100, 256 inputs, 2-core CPU). neural-tangents cannot be installed here.
* IN-RUN: a straightforward per-pair Python loop over 2×2 kernels (the same §3.2 formulas,
  scalar ``math`` calls), timed on a subset of pairs and extrapolated to all P(P+1)/2 pairs.

Run: ``python benchmarks/bench_kernels.py``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dltheory.effective import ntk_recursion

EXTERNAL_REFERENCE_S = 2.8  # neural-tangents 0.6.5, depth 100, 256 inputs, 2-core CPU (issue figure)


def _best_of(fn, repeats: int = 3) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest of ``repeats`` runs.

    CPU time is reported too because the benchmark machine is shared: wall time inflates under
    load, single-threaded process CPU time much less (NumPy is single-threaded here except the
    Gram matmul).
    """
    best = (math.inf, math.inf)
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


def _loop_relu_ntk(x: np.ndarray, depth: int, pairs: list[tuple[int, int]], cb=0.0, cw=2.0, lb=1.0, lw=1.0):
    """Straightforward per-pair NNGP+NTK recursion for ReLU (scalar Python), the in-run baseline."""
    n0 = x.shape[1]
    out = []
    for a, b in pairs:
        kaa = cb + cw * float(x[a] @ x[a]) / n0
        kbb = cb + cw * float(x[b] @ x[b]) / n0
        kab = cb + cw * float(x[a] @ x[b]) / n0
        th = lb + lw * float(x[a] @ x[b]) / n0
        for _ in range(depth - 1):
            norm = math.sqrt(kaa * kbb)
            psi = math.acos(max(-1.0, min(1.0, kab / norm)))
            ss = norm / (2 * math.pi) * (math.sin(psi) + (math.pi - psi) * math.cos(psi))
            dd = (math.pi - psi) / (2 * math.pi)
            th = lb + lw * ss + cw * dd * th
            kab = cb + cw * ss
            kaa = cb + cw * 0.5 * kaa
            kbb = cb + cw * 0.5 * kbb
        out.append((kab, th))
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    x256 = rng.normal(size=(256, 32))
    x1024 = rng.normal(size=(1024, 32))
    gelu = (0.17292239, 1.98305826)
    rows = []

    t_relu = _best_of(lambda: ntk_recursion(x256, 100, "relu", 0.0, 2.0))
    rows.append(("ReLU  L=100 P=256 (closed form)", t_relu))
    rows.append(("ReLU  L=20  P=1024 (closed form)", _best_of(lambda: ntk_recursion(x1024, 20, "relu", 0.0, 2.0), 2)))
    rows.append(("GELU  L=100 P=256 (1-D semi-analytic GH, 200 nodes)",
                 _best_of(lambda: ntk_recursion(x256, 100, "gelu", *gelu), 1)))
    t_2d = _best_of(lambda: ntk_recursion(x256, 2, "gelu", *gelu, method="quadrature", order=40), 1)
    rows.append(("GELU  2-D tensor rule 40x40, one layer (L=2)", t_2d))
    rows.append(("GELU  2-D tensor rule 40x40, L=100 extrapolated", (99 * t_2d[0], 99 * t_2d[1])))

    # in-run baseline: per-pair Python loop on a subset of pairs, extrapolated to all pairs
    iu, ju = np.triu_indices(256)
    sub = rng.choice(len(iu), size=400, replace=False)
    pairs = [(int(iu[i]), int(ju[i])) for i in sub]
    t_sub = _best_of(lambda: _loop_relu_ntk(x256, 100, pairs), 1)
    t_loop = (t_sub[0] * len(iu) / len(pairs), t_sub[1] * len(iu) / len(pairs))
    rows.append(("per-pair Python loop, ReLU L=100 P=256 (extrapolated)", t_loop))
    kern, theta = ntk_recursion(x256, 100, "relu", 0.0, 2.0)
    ref = _loop_relu_ntk(x256, 100, pairs[:20])
    err = max(max(abs(k - kern[-1, a, b]) / abs(kern[-1, a, a]), abs(t - theta[-1, a, b]) / abs(theta[-1, a, a]))
              for (a, b), (k, t) in zip(pairs[:20], ref))

    print("\nNNGP + NTK recursions (float64, CPU, shared 2-core machine); best-of-N seconds")
    print(f"{'case':58s} {'wall [s]':>9s} {'cpu [s]':>9s}")
    for name, (wall, cpu) in rows:
        print(f"{name:58s} {wall:9.3f} {cpu:9.3f}")
    print(f"\n  per-pair loop vs vectorised, max rel. diff over 20 pairs: {err:.1e}")
    print(f"  ReLU L=100 P=256 vs EXTERNAL reference 2.8 s (neural-tangents 0.6.5, issue figure, NOT measured"
          f" here): 2.8/ours = {EXTERNAL_REFERENCE_S / t_relu[0]:.1f}x (wall), "
          f"{EXTERNAL_REFERENCE_S / t_relu[1]:.1f}x (cpu); goal >= 2x")
    print(f"  ReLU L=100 P=256 vs in-run per-pair loop: {t_loop[0] / t_relu[0]:.1f}x (wall), "
          f"{t_loop[1] / t_relu[1]:.1f}x (cpu)")

    print("\nDepth scaling, P=256 (s/layer should stay ~constant, i.e. cost linear in depth):")
    print(f"{'activation':>10s} {'depth':>6s} {'wall [s]':>9s} {'cpu [s]':>9s} {'cpu s/layer':>12s} {'ratio':>6s}")
    for name, depths, cb, cw, reps in (("relu", (25, 50, 100, 200), 0.0, 2.0, 3), ("gelu", (13, 25, 50), *gelu, 1)):
        first = None
        for depth in depths:
            wall, cpu = _best_of(lambda: ntk_recursion(x256, depth, name, cb, cw), reps)
            first = first or cpu / depth
            print(f"{name:>10s} {depth:6d} {wall:9.3f} {cpu:9.3f} {cpu / depth:12.2e} {cpu / depth / first:6.2f}")


if __name__ == "__main__":
    main()
