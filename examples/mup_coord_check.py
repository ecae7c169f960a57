# %% [markdown]
# # μP for your own model, and a coordinate check
#
# `dltheory.richness.parametrize` puts an ordinary PyTorch model in any parametrization of the
# lazy-to-rich family (richness.md §5): it replaces each `nn.Linear` by a `ScaledLinear` carrying its
# multiplier and learning-rate factor, re-draws the weights, and `param_groups` gives the optimizer
# the per-layer learning rates. Nothing is attached to the parameters, so the model pickles and
# loads from a `state_dict` as usual.
#
# The coordinate check (from `microsoft/mup`): train the same model at growing widths for a few SGD
# steps on a fixed batch and record the typical size of each layer's output coordinates,
# mean |h_t| and the update mean |h_t − h_0|. In μP they do not depend on the width; in the standard
# parametrization (SP) with a width-independent learning rate the updates grow with width.
#
# Runs as a script or a notebook (`# %%` cells). `DLTHEORY_EXAMPLE_SCALE=tiny` runs in seconds;
# figures go to `DLTHEORY_EXAMPLE_OUT` (default `example_output/`).

# %%
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dltheory.richness import classification_task, coordinate_size, mup, param_groups, parametrize, scaled_layers, sp
from dltheory.stats import fit_width_exponent

SCALE = os.environ.get("DLTHEORY_EXAMPLE_SCALE", "full")
OUT = Path(os.environ.get("DLTHEORY_EXAMPLE_OUT", "example_output"))
OUT.mkdir(parents=True, exist_ok=True)
SIZES = {"tiny": dict(widths=(32, 64, 128), steps=2, seeds=2, batch=32),
         "full": dict(widths=(64, 128, 256, 512, 1024, 2048), steps=5, seeds=4, batch=64)}
if SCALE not in SIZES:
    raise SystemExit(f"DLTHEORY_EXAMPLE_SCALE={SCALE!r}: accepted {', '.join(SIZES)}")
size = SIZES[SCALE]


# %% [markdown]
# ## Your model: a plain `nn.Module`

# %%
class MyMLP(nn.Module):
    """64 -> width -> width -> 10, ReLU."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.inp = nn.Linear(64, width)
        self.hidden = nn.Linear(width, width)
        self.out = nn.Linear(width, 10)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.hidden(self.act(self.inp(x)))))


# %% [markdown]
# ## Put it in μP (or SP) and train a few steps, recording coordinate sizes
# Roles follow `mupify`: the first layer is the read-in, the last the read-out, the rest hidden.

# %%
task = classification_task("digits", size["batch"], seed=0)  # offline: scikit-learn's digits
x = torch.as_tensor(task["x_train"], dtype=torch.float32)
y = torch.as_tensor(task["y_train"], dtype=torch.float32)
SETTINGS = {"μP": (mup(), 0.5), "SP": (sp(), 0.05)}  # parametrization and base learning rate


def coordinate_sizes(param, lr: float, width: int, seed: int) -> np.ndarray:
    """mean |h_t| and mean |h_t − h_0| of each layer's output at t = 0..T, shape (2, T+1, 3)."""
    model = parametrize(MyMLP(width), param, generator=torch.Generator().manual_seed(seed))
    layers = [m for _, m in scaled_layers(model)]
    opt = torch.optim.SGD(param_groups(model, lr), lr=lr)
    out = np.zeros((2, size["steps"] + 1, len(layers)))
    h0 = None
    for t in range(size["steps"] + 1):
        record = []
        hooks = [m.register_forward_hook(lambda mod, args, h: record.append(h.detach().numpy())) for m in layers]
        pred = model(x)
        for hook in hooks:
            hook.remove()
        h0 = record if h0 is None else h0
        for k, h in enumerate(record):
            out[0, t, k] = coordinate_size(h)
            out[1, t, k] = coordinate_size(h - h0[k])
        if t < size["steps"]:
            loss = 0.5 * ((pred - y) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return out


results = {name: np.array([[coordinate_sizes(param, lr, n, seed) for n in size["widths"]]
                           for seed in range(size["seeds"])])  # (seeds, widths, 2, T+1, layers)
           for name, (param, lr) in SETTINGS.items()}

# %% [markdown]
# ## Width exponents of the update size at the last step
# Slope of log mean|h_T − h_0| against log width, with its standard error across seeds
# (`fit_width_exponent`, a power law plus an n^(-1/2) finite-width term when there are enough widths).
# μP predicts 0 for every layer (richness.md §9: Θ(1) updates of hidden coordinates, Θ(1) output change).

# %%
layer_names = ("read-in", "hidden", "read-out")
correction = 0.5 if len(size["widths"]) > 3 else None
for name, res in results.items():
    for k, layer in enumerate(layer_names):
        fit = fit_width_exponent(size["widths"], res[:, :, 1, -1, k], correction=correction)
        print(f"{name:>3} {layer:>8}: update slope {fit.slope:+.3f} ± {fit.se:.3f}")

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
cmap = plt.get_cmap("viridis")
for row, (name, res) in enumerate(results.items()):
    for k, layer in enumerate(layer_names):
        ax = axes[row, k]
        for t in range(1, size["steps"] + 1):
            mean = res[:, :, 1, t, k].mean(0)
            ax.loglog(size["widths"], mean, "o-", color=cmap(t / size["steps"]), ms=3, label=f"t = {t}")
        ax.loglog(size["widths"], res[:, :, 0, 0, k].mean(0), "k--", lw=0.8, label="|h₀| (init)")
        ax.set_title(f"{name}: {layer} layer output")
        ax.set_xticks(size["widths"], [str(n) for n in size["widths"]])
        ax.minorticks_off()
        if row == 1:
            ax.set_xlabel("width n")
        if k == 0:
            ax.set_ylabel("mean |h_t − h₀|")
axes[0, 0].legend(fontsize=7)
fig.suptitle("coordinate check: update sizes stay flat with width in μP, grow in SP", fontsize=11)
fig.tight_layout()
fig.savefig(OUT / "mup_coord_check.png", dpi=120)

# %%
assert (OUT / "mup_coord_check.png").is_file()
print("figure written to", (OUT / "mup_coord_check.png").resolve())
