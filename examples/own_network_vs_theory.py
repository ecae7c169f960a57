# %% [markdown]
# # Your own network against the infinite-width theory
#
# Write an ordinary PyTorch model, give `dltheory` a factory that builds it from a seed, and compare
# its empirical NNGP kernel and NTK, layer by layer, with the infinite-width prediction for the same
# architecture and initialization (effective theory, Roberts–Yaida–Hanin):
#
# * empirical kernel  Ĝ^(ℓ)_ab = (1/n_ℓ) Σ_i z_{i;a} z_{i;b}, empirical NTK (1/n_ℓ) Σ_i Ĥ_{ii;ab},
#   averaged over an ensemble of networks (one network = one replicate, standard errors across networks);
# * theory K^(ℓ), Θ^(ℓ) from the recursions K' = C_b + C_W ⟨σσ⟩_K and
#   Θ' = λ_b + λ_W ⟨σσ⟩_K + C_W ⟨σ'σ'⟩_K Θ, with C_W, C_b read from your network's initialization.
#
# Runs as a script or as a notebook (`# %%` cells). `DLTHEORY_EXAMPLE_SCALE=tiny` makes it run in
# seconds (the test suite does that); figures go to `DLTHEORY_EXAMPLE_OUT` (default `example_output/`).

# %%
import math
import os
from pathlib import Path

import torch
from torch import nn

from dltheory.data import load_digits
from dltheory.nets import compare_to_theory, width_sweep
from dltheory.report import plot_comparison, plot_width_sweep

SCALE = os.environ.get("DLTHEORY_EXAMPLE_SCALE", "full")
OUT = Path(os.environ.get("DLTHEORY_EXAMPLE_OUT", "example_output"))
OUT.mkdir(parents=True, exist_ok=True)
SIZES = {
    "tiny": dict(width=32, n_networks=24, widths=(8, 16, 32), per_width=lambda n: 2 * n),
    "full": dict(width=128, n_networks=400, widths=(16, 32, 64, 128), per_width=lambda n: 8 * n),
}
if SCALE not in SIZES:
    raise SystemExit(f"DLTHEORY_EXAMPLE_SCALE={SCALE!r}: accepted {', '.join(SIZES)}")
size = SIZES[SCALE]


# %% [markdown]
# ## Your model
# Any chain of `nn.Linear` layers with elementwise activations works (modules such as `nn.GELU`, or
# functional calls such as `torch.relu` inside `forward`); so do residual blocks z' = γz + Wσ(z) + b.
# The architecture is read from a traced forward pass and checked numerically, so an unsupported
# layer raises an error instead of being compared with the wrong theory.

# %%
class MyMLP(nn.Module):
    """A plain GELU MLP: 64 inputs -> width -> width -> width -> 10 logits."""

    def __init__(self, width: int, depth: int = 4, d_in: int = 64, d_out: int = 10) -> None:
        super().__init__()
        sizes = [d_in] + [width] * (depth - 1) + [d_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return self.layers[-1](x)


def make(width: int, seed: int) -> nn.Module:
    """He (Kaiming-normal) weights, zero biases: C_W = 2, C_b = 0. Seeded explicitly."""
    g = torch.Generator().manual_seed(seed)
    net = MyMLP(width)
    with torch.no_grad():
        for layer in net.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=g)
            layer.bias.zero_()
    return net


# %% [markdown]
# ## Inputs: a few real digits (scikit-learn's 8×8 digits, offline)

# %%
data = load_digits(seed=0)
x = data.x_train[:4]  # (P, n0) = (4, 64), standardized features
print("inputs:", x.shape)

# %% [markdown]
# ## One width: ensemble mean vs theory, entry by entry
# `init="measured"` (the default) reads C_W = n_{ℓ-1} Var W and C_b = Var b from the ensemble's own
# parameters and carries that estimate's uncertainty into the standard error. Layer 1 is exact at any
# width; beyond it a GELU network differs from the infinite-width value at O(1/n), so those rows are
# diagnostics at a single width (the width sweep below tests them).

# %%
result = compare_to_theory(lambda seed: make(size["width"], seed), x, seeds=size["n_networks"])
print(result.summary())
print(result.init_table()[["layer", "fan_in", "width", "activation", "cw", "cw_measured_se", "cb"]])
table = result.table()
print(table[["quantity", "layer", "a", "b", "empirical", "se", "theory", "rel_deviation", "z", "expectation"]]
      .head(12).to_string(index=False))
fig = plot_comparison(result, path=OUT / "own_network_vs_theory.png")

# %% [markdown]
# ## Across widths: the approach to the theory
# At each width the normalized deviation (mean − theory)/theory is fitted as D_0 + D_1/n over the
# widths (ensembles of 8·n networks, so the precision keeps up with the 1/n term). The infinite-width
# theory is right if D_0 = 0 within its standard error (Bonferroni z* over the fitted entries).

# %%
sweep = width_sweep(make, x, size["widths"], seeds=size["per_width"])
trend = sweep.trend()
print(trend[["quantity", "layer", "a", "b", "d0", "d0_se", "z0", "d1", "d1_se", "p_value", "verdict"]]
      .to_string(index=False))
print("width-sweep verdict:", sweep.verdict)
fig = plot_width_sweep(sweep, path=OUT / "own_network_width_sweep.png")

# %%
assert (OUT / "own_network_vs_theory.png").is_file() and (OUT / "own_network_width_sweep.png").is_file()
assert math.isfinite(float(trend.d0.abs().max()))
print("figures written to", OUT.resolve())
