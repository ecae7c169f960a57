"""Benchmark: random-MLP ensemble sampler (dltheory.nets.sample_random_mlps) throughput.

Counts the matmul FLOPs of the forward pass, 2·N·n_ℓ·n_{ℓ-1}·P per layer, and compares the
sampler's achieved GFLOP/s with (1) a bare batched ``torch.bmm`` of identical shapes in the same
run (pre-drawn operands: no RNG, activation or statistics) and (2) a plain Python loop over
networks doing the same per-network work (draw W, b; forward; statistics). torch.set_num_threads(2)
is set explicitly (the project's reference machine has 2 cores).

Run: ``python benchmarks/bench_montecarlo.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from dltheory.nets import sample_random_mlps

torch.set_num_threads(2)  # explicit: reference machine has 2 CPU cores


def _best(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(n: int, depth: int, p: int, n_networks: int, chunk: int, loop_networks: int) -> None:
    dt = torch.float64
    x = np.random.default_rng(0).normal(size=(p, n))  # n0 = n
    flops = 2.0 * n_networks * n * n * p * depth

    t_sampler = _best(lambda: sample_random_mlps(x, depth, n, "tanh", 0.1, 1.5, n_networks,
                                                 generator=torch.Generator().manual_seed(1), chunk_size=chunk))

    g = torch.Generator().manual_seed(2)
    w = torch.randn(chunk, n, n, generator=g, dtype=dt)
    s = torch.randn(chunk, n, p, generator=g, dtype=dt)
    out = torch.empty(chunk, n, p, dtype=dt)
    n_chunks = n_networks // chunk

    def bare() -> None:
        for _ in range(n_chunks * depth):
            torch.bmm(w, s, out=out)

    t_bare = _best(bare)

    def rng_only() -> None:
        for _ in range(n_chunks * depth):
            torch.randn(chunk, n, n, generator=g, dtype=torch.float32).to(dt)  # as the sampler draws

    t_rng = _best(rng_only, repeats=2)

    xt = torch.as_tensor(x.T.copy())

    def loop() -> None:
        gl = torch.Generator().manual_seed(3)
        for _ in range(loop_networks):
            z = xt
            for layer in range(depth):
                wl = torch.randn(n, z.shape[0], generator=gl, dtype=torch.float32).to(dt)
                bl = torch.randn(n, 1, generator=gl, dtype=torch.float32).to(dt)
                a = z if layer == 0 else torch.tanh(z)
                z = bl * 0.1**0.5 + (1.5 / a.shape[0]) ** 0.5 * (wl @ a)
                _ = (z.T @ z / n, (z**4).mean(0), ((z**2).sum(0) ** 2 - (z**4).sum(0)) / (n * (n - 1)))

    t_loop = _best(loop, repeats=2) * n_networks / loop_networks
    gf = lambda t: flops / t / 1e9  # noqa: E731
    print(f"n={n:4d} L={depth} P={p:3d} N={n_networks:6d} chunk={chunk:5d} | "
          f"sampler {gf(t_sampler):7.2f} GFLOP/s ({t_sampler:6.3f} s) | bare bmm {gf(t_bare):7.2f} GFLOP/s | "
          f"ratio {t_bare / t_sampler:6.1%} | randn-only {t_rng:6.3f} s | "
          f"python loop {t_loop:7.2f} s (sampler speed-up x{t_loop / t_sampler:5.1f})")


def main() -> None:
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, float64, CPU")
    bench(n=64, depth=4, p=1, n_networks=8192, chunk=1024, loop_networks=512)
    bench(n=64, depth=4, p=16, n_networks=8192, chunk=1024, loop_networks=512)
    bench(n=128, depth=4, p=64, n_networks=2048, chunk=256, loop_networks=256)
    bench(n=256, depth=3, p=256, n_networks=256, chunk=64, loop_networks=64)


if __name__ == "__main__":
    main()
