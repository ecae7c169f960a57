"""Benchmark of the neurashed gradient rule (R-grad, |B| = 1, path model).

Prints steps per second of
  - the vectorized general step (``GradRule.step``) and the active-sub-graph fast path
    (``dltheory.neurashed.fast``) used by ``train``,
  - a straightforward per-feature Python loop over features and parent lists, measured in the same run,
on the default IR graph (8 + 12 + 24 shared features + 800 idiosyncratic) and on a sparse graph with
10⁴ features; then the peak memory (tracemalloc) of building a 10⁵-feature sparse graph and task and
taking steps. Goal: ≥ 50× over the loop. Rates are the best of 3 repeats (shared machine).

Run: ``.venv/bin/python benchmarks/bench_neurashed.py``
"""

from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from dltheory.nets.threads import limit_threads
from dltheory.neurashed import GradRule, init_theta, make_task, semantic_tree
from dltheory.neurashed.fast import build_cache, grad_steps


def loop_baseline(graph):
    """Parent lists per feature (flat indices) and readout classes: built once, not timed."""
    offs = graph.offsets
    parents = [[] for _ in range(graph.n_features)]
    for l, e in enumerate(graph.edges):
        coo = sp.coo_matrix(e)
        for i, j in zip(coo.row, coo.col):
            parents[offs[l + 1] + j].append(offs[l] + i)
    r = sp.coo_matrix(graph.readout)
    readout = [[] for _ in range(graph.n_features)]
    for i, c in zip(r.row, r.col):
        readout[offs[-2] + i].append(c)
    levels = [list(range(offs[l], offs[l + 1])) for l in range(graph.n_levels)]
    return parents, readout, levels


def loop_step(theta, active, label, parents, readout, levels, k, eta, lam):
    """One R-grad step, feature by feature in pure Python (the straightforward implementation)."""
    n = [math.exp(t) for t in theta]
    u = [0.0] * len(theta)
    for f in levels[0]:
        u[f] = active[f] * n[f]
    for lv in levels[1:]:
        for f in lv:
            u[f] = active[f] * n[f] * sum(u[p] for p in parents[f])
    z = [0.0] * k
    for f in levels[-1]:
        for c in readout[f]:
            z[c] += u[f]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    g = [v / s for v in e]
    g[label] -= 1.0
    b = [0.0] * len(theta)
    for f in levels[-1]:
        b[f] = sum(g[c] for c in readout[f])
    for lv in reversed(levels[1:]):
        for f in lv:
            w = b[f] * active[f] * n[f]
            for p in parents[f]:
                b[p] += w
    decay = math.log1p(-eta * lam)
    return [theta[f] - eta * u[f] * b[f] + decay for f in range(len(theta))]


def bench(name, task, n_fast, n_general, n_loop, rng, repeats=3):
    g, tr = task.graph, task.train
    rule = GradRule()
    theta = init_theta(g, rng=rng)
    order = rng.integers(0, len(tr), size=max(n_fast, n_general, n_loop))
    cache = build_cache(g, tr)
    parents, readout, levels = loop_baseline(g)
    masks = np.hstack(tr.masks).astype(float)

    def fast():
        grad_steps(cache, theta.copy(), tr.observed_label, order[:n_fast], eta=rule.eta, lam=rule.lam)

    def general():
        th = theta.copy()
        for i in order[:n_general]:
            th = rule.step(g, th, tr.batch([i]), tr.observed_label[[i]])

    def loop():
        th = theta.tolist()
        for i in order[:n_loop]:
            th = loop_step(th, masks[i].tolist(), int(tr.observed_label[i]), parents, readout, levels, g.n_classes,
                           rule.eta, rule.lam)

    res = {}
    for key, fn, n in (("fast", fast, n_fast), ("general", general, n_general), ("loop", loop, n_loop)):
        if key == "fast" and cache is None:
            continue
        best = np.inf
        for _ in range(repeats):  # best of `repeats`: the machine is shared, take the least-disturbed run
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        res[key] = n / best
    # correctness: the loop and the vectorized step agree
    i = order[0]
    a = loop_step(theta.tolist(), masks[i].tolist(), int(tr.observed_label[i]), parents, readout, levels,
                  g.n_classes, rule.eta, rule.lam)
    b = rule.step(g, theta.copy(), tr.batch([i]), tr.observed_label[[i]])
    err = float(np.max(np.abs(np.array(a) - b)))
    best = max(res.get("fast", 0.0), res["general"])
    print(f"{name}: F = {g.n_features}, nnz(E) = {sum(sp.csr_matrix(e).nnz for e in g.edges)}")
    for k_, v in res.items():
        print(f"  {k_:8s} {v:12.0f} steps/s")
    print(f"  speed-up of the train() path over the per-feature loop: {best / res['loop']:.0f}x "
          f"(goal >= 50x); max |loop - vectorized| = {err:.1e}")


def main():
    with limit_threads(torch_threads=None, blas_threads=1):
        rng = np.random.default_rng(0)
        task = make_task(semantic_tree(rng=rng), r=2, kappa=0.05, label_noise=0.2, rng=rng)
        bench("default IR graph", task, 20_000, 2_000, 200, rng)

        rng = np.random.default_rng(1)
        big = semantic_tree(features_per_group=(2000, 2000, 1000), p_range=(0.01, 0.05), pi_max=0.01,
                            q_edge=0.002, sparse=True, rng=rng)
        task = make_task(big, n_train_per_class=50, n_test_per_class=10, r=0, rng=rng)
        bench("sparse 10^4-feature graph", task, 5_000, 500, 20, rng)

        tracemalloc.start()
        rng = np.random.default_rng(2)
        huge = semantic_tree(features_per_group=(20000, 20000, 10000), p_range=(0.002, 0.01), pi_max=0.001,
                             q_edge=0.0002, sparse=True, rng=rng)
        task = make_task(huge, n_train_per_class=25, n_test_per_class=5, r=0, rng=rng)
        theta = init_theta(task.graph, rng=rng)
        rule = GradRule()
        for i in range(50):
            theta = rule.step(task.graph, theta, task.train.batch([i]), task.train.observed_label[[i]])
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"10^5-feature sparse graph: F = {task.graph.n_features}, peak traced memory {peak / 2**20:.1f} MiB "
              f"(graph + 100 train / 20 test examples + 50 general steps)")


if __name__ == "__main__":
    main()
