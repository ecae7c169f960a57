"""From data to an ensemble store and from a fitted segment model to its landscape summary.

Convenience layer over weight-space.md §3 (train, sample, accuracy, store) and §7–§9 (per-segment
analysis: couplings, multi-information, TAP states, entropy landscapes around references).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dltheory.errors import require
from dltheory.weightspace.analysis import coupling_summary, multi_information
from dltheory.weightspace.data import PCAData, regime_ratio
from dltheory.weightspace.ensemble import WeightEnsemble
from dltheory.weightspace.ising import IsingModel
from dltheory.weightspace.landscape import Landscape, entropy_landscape
from dltheory.weightspace.lrnet import sample_accuracy, sample_weights, train_lrnet
from dltheory.weightspace.tap import count_tap_states

__all__ = ["build_ensemble", "select_references", "analyze_segment"]


def build_ensemble(data: PCAData, layer_sizes: tuple[int, ...], *, n_runs: int, samples_per_run: int, epochs: int,
                   seed: int, store: str | os.PathLike | None = None, **train_kw) -> WeightEnsemble:
    """Train ``n_runs`` LR-nets, sample ``samples_per_run`` networks per run, record test accuracies (§3).

    If ``store`` names a directory holding an ensemble with the same provenance, it is loaded
    instead of retrained; otherwise the new ensemble is saved there (atomically).
    """
    prov = {"layer_sizes": list(layer_sizes), "n_runs": int(n_runs), "samples_per_run": int(samples_per_run),
            "epochs": int(epochs), "seed": int(seed), "n_train": len(data.x_train), "data": dict(data.meta),
            "alpha": regime_ratio(tuple(layer_sizes), len(data.x_train)), **{k: v for k, v in train_kw.items()}}
    if store is not None and (Path(store) / "weights.npz").is_file():
        ens = WeightEnsemble.load(store)
        if {k: ens.provenance.get(k) for k in prov} == _jsonish(prov):
            return ens
    lr = train_lrnet(data, tuple(layer_sizes), n_runs=n_runs, epochs=epochs, seed=seed, **train_kw)
    sigma, run_id = sample_weights(lr, samples_per_run, np.random.default_rng([seed, 1]))
    acc = sample_accuracy(lr, sigma, data)
    prov["final_train_loss"] = float(lr.loss_history[-1].mean())
    ens = WeightEnsemble(lr.layout, sigma, acc, run_id, prov)
    if store is not None:
        ens.save(store)
    return ens


def _jsonish(d):
    import json

    return json.loads(json.dumps(d))


def select_references(ens: WeightEnsemble, energy: np.ndarray, n_per_group: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Indices of reference samples: ``n_per_group`` each from the lowest, middle and highest energy deciles (§8.1)."""
    require(len(energy) == len(ens), "energy must have one entry per sample")
    q = np.quantile(energy, [0.1, 0.45, 0.55, 0.9])
    groups = [energy <= q[0], (energy >= q[1]) & (energy <= q[2]), energy >= q[3]]
    out = []
    for g in groups:
        idx = np.flatnonzero(g)
        out.extend(rng.choice(idx, min(n_per_group, len(idx)), replace=False).tolist())
    return np.asarray(out, dtype=np.int64)


def analyze_segment(model: IsingModel, references: np.ndarray, x: np.ndarray, rng: np.random.Generator, *,
                    tap_starts: int = 200, max_sweeps: int = 5000) -> dict:
    """Couplings, I/N, TAP states and landscapes around each reference of one fitted segment model.

    Returns
    -------
    dict with ``couplings`` (dict), ``info`` (multi-information dict), ``tap`` (TAPStates) and
    ``landscapes`` (list of :class:`Landscape`, one per row of ``references``). ``info`` holds NaN
    where BP did not converge within ``max_sweeps`` (with and without damping).
    """
    refs = np.asarray(references, dtype=np.float64)
    require(refs.ndim == 2 and refs.shape[1] == model.n, f"references must have shape (n_ref, {model.n})")
    landscapes: list[Landscape] = [entropy_landscape(model, r, x=x, rng=rng, max_sweeps=max_sweeps) for r in refs]
    # I/N is NaN (never a silent number) when BP does not converge at x = 0
    info = multi_information(model, allow_unconverged=True, max_sweeps=max_sweeps)
    return {"couplings": coupling_summary(model), "info": info,
            "tap": count_tap_states(model, rng, n_starts=tap_starts), "landscapes": landscapes}
