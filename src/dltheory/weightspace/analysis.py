"""Analyses of fitted weight-space models: multi-information, coupling summaries, fit quality, model samples.

Implements weight-space.md §5.5 (fit diagnostics), §9 (multi-information, noise-floor null,
sampling from the model: the paper's caveat) and the C5 statistic of §10.
"""

from __future__ import annotations

import numpy as np

from dltheory.errors import require
from dltheory.weightspace.bp import belief_propagation
from dltheory.weightspace.ensemble import check_spins
from dltheory.weightspace.ising import IsingModel, binary_entropy, exact_moments, metropolis_sample
from dltheory.weightspace.layout import WeightLayout, accuracy_binary
from dltheory.weightspace.moments import spin_moments, third_moments

__all__ = ["multi_information", "coupling_summary", "fit_quality", "model_sample_accuracy", "shuffle_columns"]


def multi_information(model: IsingModel, method: str = "bp", **bp_kw) -> dict[str, float]:
    """Multi-information per spin I/N = N⁻¹ Σ_i H₂((1 + m_i)/2) − s(0) (§9), by BP or exact enumeration.

    Returns ``{"I_per_spin", "s0", "marginal_entropy", "bp_sweeps"}``.
    """
    require(method in ("bp", "exact"), f"method must be 'bp' or 'exact'; got {method!r}")
    if method == "exact":
        ex = exact_moments(model)
        m, S, sweeps = ex["m"], ex["S"], 0
    else:
        r = belief_propagation(model, **bp_kw)
        m, S, sweeps = r.m, r.entropy, r.sweeps
    h2 = float(binary_entropy((1 + m) / 2).mean())
    return {"I_per_spin": h2 - S / model.n, "s0": S / model.n, "marginal_entropy": h2, "bp_sweeps": sweeps}


def coupling_summary(model: IsingModel) -> dict[str, float]:
    """max|J|, std J, mean|J| over pairs i < j and mean|h|."""
    iu = np.triu_indices(model.n, 1)
    Jv = model.J[iu]
    if Jv.size == 0:
        return {"max_abs_J": 0.0, "std_J": 0.0, "mean_abs_J": 0.0, "mean_abs_h": float(np.abs(model.h).mean())}
    return {"max_abs_J": float(np.abs(Jv).max()), "std_J": float(Jv.std()), "mean_abs_J": float(np.abs(Jv).mean()),
            "mean_abs_h": float(np.abs(model.h).mean())}


def shuffle_columns(sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise-floor null (§9): each column permuted independently (keeps marginals, destroys correlations)."""
    s = check_spins(sigma)
    return rng.permuted(s, axis=0)


def fit_quality(model: IsingModel, sigma: np.ndarray, rng: np.random.Generator, *, n_mc: int = 2000,
                burn_in: int = 100, thin: int = 10, n_chains: int = 200, n_triples: int = 2000,
                use_bp: bool = True) -> dict[str, float]:
    """Model moments against data moments (§5.5): rmse(m), rmse(C) by BP and by Metropolis; third moments by MC.

    Returns a dict with ``bp_rmse_m, bp_rmse_C, bp_converged, mc_rmse_m, mc_rmse_C, third_corr,
    third_rmse`` (BP entries NaN if BP did not converge — reported, never hidden).
    """
    s = check_spins(sigma)
    data = spin_moments(s)
    N = model.n
    iu = np.triu_indices(N, 1)
    out: dict[str, float] = {}
    if use_bp:
        r = belief_propagation(model, allow_unconverged=True)
        out["bp_converged"] = float(r.converged)
        out["bp_rmse_m"] = float(np.sqrt(np.mean((r.m - data.m) ** 2)))
        out["bp_rmse_C"] = float(np.sqrt(np.mean((r.C[iu] - data.C[iu]) ** 2))) if N > 1 else 0.0
    mc = metropolis_sample(model, n_mc, rng, n_chains=n_chains, burn_in=burn_in, thin=thin)
    mm = spin_moments(mc)
    out["mc_rmse_m"] = float(np.sqrt(np.mean((mm.m - data.m) ** 2)))
    out["mc_rmse_C"] = float(np.sqrt(np.mean((mm.C[iu] - data.C[iu]) ** 2))) if N > 1 else 0.0
    if N >= 3:
        tr = np.array([rng.choice(N, 3, replace=False) for _ in range(n_triples)])
        t_d, t_m = third_moments(s, tr), third_moments(mc, tr)
        out["third_corr"] = float(np.corrcoef(t_d, t_m)[0, 1]) if t_d.std() > 0 and t_m.std() > 0 else float("nan")
        out["third_rmse"] = float(np.sqrt(np.mean((t_d - t_m) ** 2)))
    return out


def model_sample_accuracy(model: IsingModel, layout: WeightLayout, x_test: np.ndarray, y_test: np.ndarray,
                          data_configs: np.ndarray, rng: np.random.Generator, *, n_random: int = 20,
                          n_sweeps: int = 100, a_min: float) -> dict[str, np.ndarray | float]:
    """Paper's caveat (§9, C5): Metropolis chains of the FULL model from data and random starts; test accuracy per sweep.

    Parameters
    ----------
    model : IsingModel over all M weights of ``layout``
    data_configs : ndarray, shape (n_data, M), ±1
        Starting configurations taken from the data.

    Returns
    -------
    dict with ``accuracy`` (shape (n_sweeps, n_chains)), ``energy_per_weight`` (same shape),
    ``fraction_accepted`` (fraction of all model samples with accuracy ≥ ``a_min``) and
    ``final_mean_accuracy``.
    """
    starts = check_spins(data_configs, "data_configs").astype(np.float64)
    require(starts.shape[1] == model.n == layout.n_weights, "model, layout and data_configs must have M weights")
    init = np.vstack([starts, rng.choice([-1.0, 1.0], (n_random, model.n))])
    chains = metropolis_sample(model, n_sweeps * len(init), rng, n_chains=len(init), burn_in=0, thin=1, init=init)
    acc = accuracy_binary(layout, chains, x_test, y_test).reshape(n_sweeps, len(init))
    energy = (model.energy(chains) / model.n).reshape(n_sweeps, len(init))
    return {"accuracy": acc, "energy_per_weight": energy, "fraction_accepted": float(np.mean(acc >= a_min)),
            "final_mean_accuracy": float(acc[-1].mean())}
