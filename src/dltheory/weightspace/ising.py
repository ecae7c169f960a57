"""The pairwise maximum-entropy (Ising) model, exact enumeration and Metropolis sampling.

Implements weight-space.md §5 (model, β = 1) and the oracles of §5.5 / §11:
P(σ) = Z⁻¹ exp(Σ_i h_i σ_i + Σ_{i<j} J_ij σ_i σ_j), E(σ) = −½ σᵀJσ − hᵀσ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltheory.errors import DLTheoryError, require

__all__ = ["IsingModel", "enumerate_states", "exact_moments", "exact_sample", "metropolis_sample",
           "binary_entropy", "MAX_ENUMERATION"]

MAX_ENUMERATION = 22


@dataclass(frozen=True)
class IsingModel:
    """Fields ``h`` (shape (N,)) and symmetric couplings ``J`` (shape (N, N), zero diagonal)."""

    h: np.ndarray
    J: np.ndarray

    def __post_init__(self) -> None:
        h = np.asarray(self.h, dtype=np.float64)
        J = np.asarray(self.J, dtype=np.float64)
        require(h.ndim == 1 and h.size >= 1, f"h must be a non-empty 1-D array; got shape {h.shape}")
        require(J.shape == (h.size, h.size), f"J must have shape ({h.size}, {h.size}); got {J.shape}")
        require(bool(np.isfinite(h).all() and np.isfinite(J).all()), "h and J must be finite")
        require(np.allclose(J, J.T, atol=1e-12), "J must be symmetric")
        require(np.all(np.diag(J) == 0), "J must have a zero diagonal")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "J", J)

    @property
    def n(self) -> int:
        return int(self.h.size)

    def energy(self, sigma: np.ndarray) -> np.ndarray:
        """E(σ) = −½ σᵀJσ − hᵀσ for each row of ``sigma`` (shape (n, N)); returns shape (n,)."""
        s = np.asarray(sigma, dtype=np.float64)
        return -0.5 * np.einsum("ni,ij,nj->n", s, self.J, s, optimize=True) - s @ self.h

    def tilted(self, x: float, sigma_ref: np.ndarray) -> IsingModel:
        """The model with h → h + x σ* (weight-space.md §8.1)."""
        return IsingModel(self.h + x * np.asarray(sigma_ref, dtype=np.float64), self.J)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H₂(p) = −p ln p − (1 − p) ln(1 − p) in nats, with H₂(0) = H₂(1) = 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(p < 1, -(1 - p) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return a + b


def enumerate_states(n: int) -> np.ndarray:
    """All 2ⁿ configurations, shape (2ⁿ, n), int8 (±1)."""
    require(1 <= n <= MAX_ENUMERATION, f"enumeration needs 1 <= N <= {MAX_ENUMERATION}; got {n}")
    bits = (np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1
    return (2 * bits - 1).astype(np.int8)


def exact_moments(model: IsingModel) -> dict[str, np.ndarray | float]:
    """Exact m, C, log Z, entropy S and mean energy by enumeration (N ≤ 22): the test oracle."""
    states = enumerate_states(model.n).astype(np.float64)
    logw = -model.energy(states)
    logz = float(np.logaddexp.reduce(logw))
    p = np.exp(logw - logz)
    m = p @ states
    C = (states * p[:, None]).T @ states
    e = float(p @ (-logw))
    return {"m": m, "C": C, "logZ": logz, "S": logz + e, "E": e, "p": p}


def exact_sample(model: IsingModel, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Independent exact samples by enumeration (N ≤ 22), shape (n_samples, N), int8."""
    ex = exact_moments(model)
    idx = rng.choice(2 ** model.n, size=int(n_samples), p=ex["p"] / ex["p"].sum())
    return enumerate_states(model.n)[idx]


def metropolis_sample(model: IsingModel, n_samples: int, rng: np.random.Generator, *, n_chains: int = 500,
                      burn_in: int = 1000, thin: int = 10, init: np.ndarray | None = None) -> np.ndarray:
    """Metropolis samples of ``model`` from parallel chains (§5.3 / §5.5).

    One sweep visits the spins in a random permutation and flips σ_i with probability
    min(1, e^{−ΔE}), ΔE = 2σ_i(h_i + Σ_j J_ij σ_j). Chains start uniformly at random (or from
    ``init``, shape (n_chains, N)); after ``burn_in`` sweeps every ``thin``-th sweep is recorded.

    Returns
    -------
    ndarray, shape (n_samples, N), int8
    """
    for name, v in (("n_samples", n_samples), ("n_chains", n_chains), ("thin", thin)):
        require(isinstance(v, (int, np.integer)) and v >= 1, f"{name} must be a positive integer; got {v}")
    require(burn_in >= 0, f"burn_in must be >= 0; got {burn_in}")
    N, J, h = model.n, model.J, model.h
    if init is None:
        s = rng.choice(np.array([-1.0, 1.0]), size=(n_chains, N))
    else:
        s = np.asarray(init, dtype=np.float64).copy()
        require(s.shape == (n_chains, N), f"init must have shape ({n_chains}, {N}); got {s.shape}")
    field = s @ J + h
    per_chain = -(-n_samples // n_chains)
    out = np.empty((per_chain, n_chains, N), dtype=np.int8)
    total = burn_in + per_chain * thin
    k = 0
    for sweep in range(total):
        logu = np.log(rng.random((N, n_chains)))
        for i in rng.permutation(N):
            dE = 2.0 * s[:, i] * field[:, i]
            flip = logu[i] < -dE
            if flip.any():
                delta = -2.0 * s[flip, i]
                s[flip, i] += delta
                field[flip] += delta[:, None] * J[i]
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            out[k] = s
            k += 1
    if k != per_chain:
        raise DLTheoryError("internal error: wrong number of recorded sweeps")
    return out.reshape(-1, N)[:n_samples]
