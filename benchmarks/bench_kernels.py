"""Benchmark: infinite-width NNGP + NTK recursions for every built-in activation (effective-theory.md §3, §6.2).

Table (issue 14 acceptance): P = 256 inputs (dimension 32, standard normal), depth L = 20, float64,
one NumPy thread. One row per activation: CPU seconds of ``ntk_recursion`` (best of N), the ratio to
ReLU's closed-form time measured in the same run (goal ≤ 3), the path taken ("closed" = registry
closed form, "series" = Hermite series with its 2-D fallback), and the largest absolute difference,
over sampled pairs of layers 1, 10 and 19, of ⟨σσ⟩ and ⟨σ'σ'⟩ from the 2-D quadrature oracle
(:func:`dltheory.effective.gaussian.expect_pair_reference`, kink-aware composite Gauss–Legendre).
The last column is the largest difference from the generic 2-D Gauss–Hermite tensor rule at its
default 80 nodes per dimension (``method="quadrature"``: the previous path of tanh, SWISH,
softplus and sigmoid; itself only ~1e-7..1e-3 accurate at K ≳ 1 for tanh).

(C_b, C_W): the §4.2 critical values where they exist; (0, 1) otherwise. The homogeneous powers
(ReLU^k, z^k) use inputs on the sphere |x|²/n_0 = 1 with C_W = 1/⟨σ²⟩_1 so that K stays 1
(elsewhere K^(ℓ) under- or overflows within 20 layers).

Second part: the ReLU cases of the previous benchmark (L = 100, P = 1024) and the in-run per-pair
Python loop baseline.

Run: ``python benchmarks/bench_kernels.py`` (about 1–3 minutes).
"""

from __future__ import annotations

import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core: the comparison the issue asks for
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from dltheory.activations import get_activation  # noqa: E402
from dltheory.effective import critical_point, ntk_recursion, pair_expectations, single_moments  # noqa: E402
from dltheory.effective.gaussian import expect_pair_reference  # noqa: E402

P, DEPTH, N0 = 256, 20, 32
ACTIVATIONS = ("relu", "leaky_relu:0.2", "abrelu:-0.5,1", "linear", "erf", "gelu", "sin", "cos", "gaussian", "step",
               "sign", "relu^2", "relu^3", "monomial:3", "tanh", "swish", "softplus", "sigmoid", "user:tanh+0.1z")
SPHERE = ("relu^2", "relu^3", "monomial:3")


def _cpu_best(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def _activation(name: str):
    if name == "user:tanh+0.1z":
        return get_activation(lambda z: np.tanh(z) + 0.1 * z, derivative=lambda z: 1.0 - np.tanh(z) ** 2 + 0.1,
                              name=name)
    return get_activation(name)


def _hyper(name: str, act) -> tuple[float, float]:
    if name in SPHERE:
        return 0.0, 1.0 / float(single_moments(act, 1.0)["sigma2"])
    if act.universality in ("scale-invariant", "K*=0", "half-stable"):
        cp = critical_point(act)
        return cp.cb, cp.cw
    return 0.0, 1.0


def _oracle_error(act, kern: np.ndarray, rng: np.random.Generator, n_pairs: int = 8) -> tuple[float, float]:
    """Largest |ours − oracle| and |ours − 2-D tensor rule (80 nodes)| over sampled pairs of three layers."""
    worst = worst_gh = 0.0
    for ell in (0, DEPTH // 2 - 1, DEPTH - 2):
        k = kern[ell]
        ss, dd = pair_expectations(act, k)
        gss, gdd = pair_expectations(act, k, method="quadrature")
        d = np.diag(k)
        pairs = [(i, int(rng.integers(P))) for i in rng.integers(P, size=n_pairs)] + [(int(rng.integers(P)),) * 2]
        for i, j in pairs:
            o_ss = expect_pair_reference(act.fn, act.fn, d[i], k[i, j], d[j], nodes=32)
            o_dd = expect_pair_reference(act.derivative, act.derivative, d[i], k[i, j], d[j], nodes=32)
            worst = max(worst, abs(ss[i, j] - o_ss), abs(dd[i, j] - o_dd))
        worst_gh = max(worst_gh, float(np.abs(ss - gss).max()), float(np.abs(dd - gdd).max()))
    return worst, worst_gh


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
    x = rng.normal(size=(P, N0))
    sphere = x / np.linalg.norm(x, axis=1, keepdims=True) * math.sqrt(N0)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2-core machine; CPU seconds, one NumPy thread)")
    t_relu = _cpu_best(lambda: ntk_recursion(x, DEPTH, "relu", 0.0, 2.0), 5)
    print(f"\nNNGP + NTK recursion, P = {P}, L = {DEPTH}; ReLU closed form = {t_relu * 1e3:.1f} ms (ratio 1)")
    print(f"{'activation':>16s} {'(C_b, C_W)':>18s} {'path':>7s} {'cpu [ms]':>9s} {'/ReLU':>6s} "
          f"{'|Δ| oracle':>11s} {'|Δ| GH-80':>10s}")
    rows = []
    for name in ACTIVATIONS:
        act = _activation(name)
        cb, cw = _hyper(name, act)
        inputs = sphere if name in SPHERE else x
        reps = 3 if act.kernel is not None else 2
        t = _cpu_best(lambda: ntk_recursion(inputs, DEPTH, act, cb, cw), reps)
        kern, _ = ntk_recursion(inputs, DEPTH, act, cb, cw)
        err, err_gh = _oracle_error(act, kern, rng)
        path = "closed" if act.kernel is not None else "series"
        rows.append((name, t / t_relu, err))
        print(f"{name:>16s} {f'({cb:.4g}, {cw:.4g})':>18s} {path:>7s} {t * 1e3:9.1f} {t / t_relu:6.2f} "
              f"{err:11.1e} {err_gh:10.1e}")
    worst = max(rows, key=lambda r: r[1])
    print(f"\n  slowest: {worst[0]} at {worst[1]:.1f}x ReLU (goal <= 3x); "
          f"largest oracle difference {max(r[2] for r in rows):.1e} (goal <= 1e-10)")

    # ---------------------------------------------------------------- ReLU scaling (previous benchmark)
    x1024 = rng.normal(size=(1024, N0))
    t100 = _cpu_best(lambda: ntk_recursion(x, 100, "relu", 0.0, 2.0), 3)
    t1024 = _cpu_best(lambda: ntk_recursion(x1024, 20, "relu", 0.0, 2.0), 2)
    iu, ju = np.triu_indices(P)
    sub = rng.choice(len(iu), size=400, replace=False)
    pairs = [(int(iu[i]), int(ju[i])) for i in sub]
    t_loop = _cpu_best(lambda: _loop_relu_ntk(x, 100, pairs), 1) * len(iu) / len(pairs)
    kern, theta = ntk_recursion(x, 100, "relu", 0.0, 2.0)
    ref = _loop_relu_ntk(x, 100, pairs[:20])
    err = max(max(abs(k - kern[-1, a, b]) / abs(kern[-1, a, a]), abs(t - theta[-1, a, b]) / abs(theta[-1, a, a]))
              for (a, b), (k, t) in zip(pairs[:20], ref))
    print(f"\nReLU L=100 P=256: {t100:.3f} s cpu; ReLU L=20 P=1024: {t1024:.3f} s cpu")
    print(f"  per-pair Python loop (L=100, P=256, extrapolated from 400 pairs): {t_loop:.1f} s = "
          f"{t_loop / t100:.0f}x the vectorised recursion; max rel. diff over 20 pairs {err:.1e}")


if __name__ == "__main__":
    main()
