"""Benchmark for the finite-width effective-theory Monte Carlo and the ensemble trainer (issue 3).

1. Monte Carlo of 10⁴ random MLPs of width 64 and depth 32, one input, second and fourth moments at every
   layer: the library's batched sampler (:func:`dltheory.nets.random_mlp.sample_random_mlps`, explicit
   weights), the Gram-space sampler (:func:`dltheory.nets.residual_mlp.sample_residual_mlps` with γ = 0,
   exact in distribution, n/P× fewer random numbers), and a plain per-network Python loop doing the same work
   (timed on a subset and scaled). Wall time, peak resident memory and speed-up ratios, all in the same run.
2. Ensemble trainer: 64 ReLU networks of width 256 (depth 3, 64 digits, MSE, full-batch SGD) trained together
   (:func:`dltheory.nets.training.train_ensemble`, vmapped) vs one at a time (``train_sequential``): steps/s.

Run: ``python benchmarks/bench_finite_width.py [--networks 10000] [--loop-networks 200]``.
Goals (issue 3): MC ≥ 20× faster than the loop; trainer ≥ 5×. Results depend on machine load: the load
average is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import torch

torch.set_num_threads(2)  # the reference machine has 2 cores


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _loop_mc(n_networks: int, n: int, depth: int) -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.ones(4, 1, dtype=torch.float64)
    for _ in range(n_networks):
        z = x
        for layer in range(depth):
            w = torch.randn(n, z.shape[0], generator=g, dtype=torch.float64)
            _ = torch.randn(n, 1, generator=g, dtype=torch.float64)
            a = z if layer == 0 else torch.relu(z)
            z = (2.0 / a.shape[0]) ** 0.5 * (w @ a)
            z2 = z * z
            s2, s4 = z2.sum(0), (z2 * z2).sum(0)
            _ = (s2 / n, s4 / n, (s2 * s2 - s4) / (n * (n - 1)))


def bench_monte_carlo(networks: int, loop_networks: int, n: int = 64, depth: int = 32) -> None:
    from dltheory.nets.random_mlp import sample_random_mlps
    from dltheory.nets.residual_mlp import sample_residual_mlps

    x = np.ones((1, 4))
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    st = sample_random_mlps(x, depth, n, "relu", 0.0, 2.0, networks, generator=1)
    t_weights = time.perf_counter() - t0
    rss1 = _rss_mb()
    t0 = time.perf_counter()
    sample_residual_mlps(x, depth, n, 0.0, "relu", 0.0, 2.0, networks, generator=1)
    t_gram = time.perf_counter() - t0
    rss2 = _rss_mb()
    t0 = time.perf_counter()
    _loop_mc(loop_networks, n, depth)
    t_loop = (time.perf_counter() - t0) * networks / loop_networks
    print(f"MC N={networks} n={n} L={depth} (fourth moments every layer, float64):")
    print(f"  batched weights sampler : {t_weights:7.2f} s   peak RSS {rss1:7.0f} MB (+{rss1 - rss0:.0f})")
    print(f"  Gram-space sampler      : {t_gram:7.2f} s   peak RSS {rss2:7.0f} MB")
    print(f"  per-network loop (est.) : {t_loop:7.2f} s   (timed on {loop_networks} networks)")
    print(f"  speed-up vs loop        : weights x{t_loop / t_weights:5.1f}, Gram x{t_loop / t_gram:5.1f} (goal x20)")
    assert st.n_networks == networks


def bench_trainer(members: int = 64, width: int = 256, steps: int = 20, seq_members: int = 8) -> None:
    from dltheory.data import load_digits, one_hot
    from dltheory.nets.ntk import make_mlp
    from dltheory.nets.training import stack_models, train_ensemble, train_sequential

    data = load_digits(seed=0)
    x = torch.as_tensor(data.x_train[:64])
    y = torch.as_tensor(one_hot(data.y_train[:64], 10, centered=True))
    g = torch.Generator().manual_seed(0)
    models = [make_mlp(64, [width, width, 10], "relu", 0.0, 2.0, generator=g, dtype=torch.float64)
              for _ in range(members)]
    template, params, buffers = stack_models(models)
    t0 = time.perf_counter()
    train_ensemble(template, params, x, y, steps=steps, lr=0.05)
    t_ens = time.perf_counter() - t0
    t0 = time.perf_counter()
    train_sequential(models[:seq_members], x, y, steps=steps, lr=0.05)
    t_seq = (time.perf_counter() - t0) * members / seq_members
    print(f"Trainer: {members} networks, width {width}, depth 3, 64 examples, {steps} full-batch steps:")
    print(f"  vmapped ensemble : {members * steps / t_ens:8.1f} network-steps/s ({t_ens:.2f} s)")
    print(f"  one at a time    : {members * steps / t_seq:8.1f} network-steps/s (est. {t_seq:.2f} s, "
          f"timed on {seq_members})")
    print(f"  speed-up         : x{t_seq / t_ens:.1f} (goal x5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=10_000)
    parser.add_argument("--loop-networks", type=int, default=200)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, load average {os.getloadavg()}")
    bench_monte_carlo(args.networks, args.loop_networks)
    bench_trainer()


if __name__ == "__main__":
    main()
