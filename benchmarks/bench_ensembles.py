"""Benchmark (issue 4): 16 seeds of a width-1024 μP MLP on MNIST-1D, one vmapped ensemble vs 16 runs.

Both sides do the same work in the same process: MLP 40→1024→1024→10 (ReLU×√2, μP per-layer learning
rates), one-hot MSE, minibatch SGD with the same batch sequence. The ensemble is
:func:`dltheory.nets.training.train_ensemble`; the baseline is :func:`dltheory.nets.training.train_sequential`
(``torch.optim.SGD``, one model at a time). Prints wall times and the speed-up; goal ≥ 3×.

Run: ``python benchmarks/bench_ensembles.py [--seeds 16] [--width 1024] [--steps 30] [--batch 32]``.
Results depend on machine load (the load average is printed).
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import torch

from dltheory.nets.training import stack_models, train_ensemble, train_sequential
from dltheory.richness import classification_task, lr_multipliers, mlp, mup

torch.set_num_threads(2)  # the reference machine has 2 cores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    task = classification_task("mnist1d", 1000, seed=0)
    x = torch.as_tensor(task["x_train"], dtype=dtype)
    y = torch.as_tensor(task["y_train"], dtype=dtype)
    models = [mlp((40, args.width, args.width, 10), mup("stp"), generator=torch.Generator().manual_seed(s), dtype=dtype)
              for s in range(args.seeds)]
    mults = lr_multipliers(models[0])
    seq = [copy.deepcopy(m) for m in models]
    template, params, buffers = stack_models(models)
    kw = dict(steps=args.steps, lr=0.05, lr_multipliers=mults, batch_size=args.batch)
    # warm-up (first vmap call, allocator) on 1 step each
    train_ensemble(template, params, x, y, buffers=buffers, generator=torch.Generator().manual_seed(0),
                   **{**kw, "steps": 1})
    t0 = time.perf_counter()
    res = train_ensemble(template, params, x, y, buffers=buffers, generator=torch.Generator().manual_seed(1), **kw)
    t_ens = time.perf_counter() - t0
    t0 = time.perf_counter()
    losses = train_sequential(seq, x, y, generator_seed=1, **kw)
    t_seq = time.perf_counter() - t0
    agree = float((res.losses - losses).abs().max() / losses.abs().max())
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"{args.seeds} seeds, width {args.width}, {args.steps} steps, batch {args.batch}, {args.dtype}")
    print(f"vmapped ensemble : {t_ens:8.2f} s")
    print(f"sequential runs  : {t_seq:8.2f} s")
    print(f"speed-up         : {t_seq / t_ens:8.2f}x (goal >= 3x)")
    print(f"max rel. loss difference ensemble vs sequential: {agree:.1e}")


if __name__ == "__main__":
    main()
