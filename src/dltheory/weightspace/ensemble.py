"""The ensemble store: sampled ±1 weight vectors with accuracy, run ids, segments and provenance.

Implements weight-space.md §3.3–3.4 (acceptance filter, gauge) and the save/load contract: a
directory with ``weights.npz`` (σ as int8, accuracy, run id) and ``provenance.json``, each written
atomically (temporary file + ``os.replace``), so a later fit does not retrain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dltheory.errors import DLTheoryError, require
from dltheory.weightspace.layout import WeightLayout, gauge_samples

__all__ = ["WeightEnsemble", "check_spins"]


def check_spins(sigma: np.ndarray, name: str = "sigma") -> np.ndarray:
    """Validate an array of ±1 spins of shape (n, N) and return it as int8."""
    s = np.asarray(sigma)
    require(s.ndim == 2, f"{name} must be a 2-D array (n_samples, n_spins); got shape {s.shape}")
    require(s.shape[0] >= 1 and s.shape[1] >= 1, f"{name} is empty (shape {s.shape}); need >= 1 sample and spin")
    if not np.all((s == 1) | (s == -1)):
        bad = s[(s != 1) & (s != -1)].ravel()[:3]
        raise DLTheoryError(f"{name} entries must be exactly +1 or -1; found e.g. {bad.tolist()}")
    return s.astype(np.int8)


@dataclass
class WeightEnsemble:
    """Sampled weight configurations of one case (architecture × data × regime).

    Attributes
    ----------
    layout : WeightLayout
    sigma : ndarray, shape (n, M), int8 (±1)
    accuracy : ndarray, shape (n,)
        Test accuracy of each sample (deterministic forward pass).
    run_id : ndarray, shape (n,), int64
        Training run that produced each sample (for block bootstraps over runs, §4).
    provenance : dict
        Training config, data preprocessing, seeds, gauge and filter applied.
    """

    layout: WeightLayout
    sigma: np.ndarray
    accuracy: np.ndarray
    run_id: np.ndarray
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sigma = check_spins(self.sigma)
        n = len(self.sigma)
        require(self.sigma.shape[1] == self.layout.n_weights,
                f"sigma has {self.sigma.shape[1]} columns; the layout has {self.layout.n_weights} weights")
        self.accuracy = np.asarray(self.accuracy, dtype=np.float64)
        self.run_id = np.asarray(self.run_id, dtype=np.int64)
        require(self.accuracy.shape == (n,) and self.run_id.shape == (n,),
                f"accuracy and run_id must have shape ({n},)")

    def __len__(self) -> int:
        return len(self.sigma)

    @property
    def segments(self) -> dict[str, tuple[int, int]]:
        return self.layout.segments

    def segment(self, name: str) -> np.ndarray:
        """σ restricted to segment ``name``, shape (n, N_seg), int8."""
        return self.layout.segment(self.sigma, name)

    def accepted(self, a_min: float | str = "auto") -> WeightEnsemble:
        """Samples with accuracy ≥ a_min (§3.3); ``"auto"``: the 25th percentile of all accuracies."""
        if isinstance(a_min, str):
            require(a_min == "auto", f"a_min must be a number in [0, 1] or 'auto'; got {a_min!r}")
            thr = float(np.percentile(self.accuracy, 25))
        else:
            require(0.0 <= float(a_min) <= 1.0, f"a_min must be in [0, 1] or 'auto'; got {a_min}")
            thr = float(a_min)
        keep = self.accuracy >= thr
        if not keep.any():
            raise DLTheoryError(f"no sample reaches a_min = {thr:.4f} (best accuracy {self.accuracy.max():.4f})")
        prov = dict(self.provenance, a_min=thr, n_before_filter=len(self), n_accepted=int(keep.sum()))
        return WeightEnsemble(self.layout, self.sigma[keep], self.accuracy[keep], self.run_id[keep], prov)

    def gauged(self, gauge: str, *, p: float = 1.0, x_ref: np.ndarray | None = None,
               rng: np.random.Generator | None = None) -> WeightEnsemble:
        """A copy in permutation gauge ``gauge`` (§3.4); accuracies are unchanged by construction."""
        sig = gauge_samples(self.layout, self.sigma, gauge, p=p, x_ref=x_ref, rng=rng)
        prov = dict(self.provenance, gauge=gauge, gauge_p=p if gauge == "augment" else None)
        return WeightEnsemble(self.layout, sig, self.accuracy.copy(), self.run_id.copy(), prov)

    # ---------------------------------------------------------------- storage
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``weights.npz`` and ``provenance.json`` under ``directory`` atomically; returns the path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / "weights.npz.tmp"
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, sigma=self.sigma, accuracy=self.accuracy, run_id=self.run_id)
        os.replace(tmp, d / "weights.npz")
        meta = {"layer_sizes": list(self.layout.layer_sizes),
                "segments": {k: list(v) for k, v in self.segments.items()},
                "n_samples": len(self), "provenance": _json_ready(self.provenance)}
        tmpj = d / "provenance.json.tmp"
        tmpj.write_text(json.dumps(meta, indent=2))
        os.replace(tmpj, d / "provenance.json")
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> WeightEnsemble:
        """Read an ensemble written by :meth:`save`."""
        d = Path(directory)
        if not (d / "weights.npz").is_file() or not (d / "provenance.json").is_file():
            raise DLTheoryError(f"no ensemble store at {str(d)!r} (need weights.npz and provenance.json)")
        meta = json.loads((d / "provenance.json").read_text())
        with np.load(d / "weights.npz") as z:
            return cls(WeightLayout(tuple(meta["layer_sizes"])), z["sigma"], z["accuracy"], z["run_id"],
                       meta.get("provenance", {}))


def _json_ready(obj):
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
