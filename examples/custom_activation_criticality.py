# %% [markdown]
# # Criticality of your own activation function
#
# Give an activation as a plain Python/NumPy function σ(z). `dltheory.effective` then finds its
# universality class and critical initialization (Roberts–Yaida–Hanin, ch. 5): the fixed point
# K* = C_b + C_W ⟨σ²⟩_{K*} at which both susceptibilities equal one,
#
#   χ_∥ = C_W ⟨σ²(z² − K)⟩/(2K²) = 1,      χ_⊥ = C_W ⟨σ'²⟩ = 1,
#
# so the kernel neither explodes nor collapses exponentially with depth. Gaussian expectations of
# your function are computed by Gauss–Hermite quadrature; σ' by finite differences (or pass your own).
#
# Runs as a script or a notebook (`# %%` cells). `DLTHEORY_EXAMPLE_SCALE=tiny` runs in seconds;
# figures go to `DLTHEORY_EXAMPLE_OUT` (default `example_output/`).

# %%
import os
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from dltheory.effective import (
    critical_point,
    four_point_single,
    kernel_recursion_single,
    susceptibilities,
    universality_class,
)
from dltheory.nets import estimate_kernel, sample_random_mlps

SCALE = os.environ.get("DLTHEORY_EXAMPLE_SCALE", "full")
OUT = Path(os.environ.get("DLTHEORY_EXAMPLE_OUT", "example_output"))
OUT.mkdir(parents=True, exist_ok=True)
SIZES = {"tiny": dict(depth=12, width=64, n_networks=100, flow_depth=60),
         "full": dict(depth=30, width=256, n_networks=1000, flow_depth=1000)}
if SCALE not in SIZES:
    raise SystemExit(f"DLTHEORY_EXAMPLE_SCALE={SCALE!r}: accepted {', '.join(SIZES)}")
size = SIZES[SCALE]


# %% [markdown]
# ## Two activations of your own

# %%
def leaky_tanh(z):
    """tanh with a linear leak, σ(z) = tanh(z) + 0.1 z."""
    return np.tanh(z) + 0.1 * z


def swish_15(z):
    """Swish with slope 1.5, σ(z) = z · sigmoid(1.5 z)."""
    return z * expit(1.5 * z)


ACTIVATIONS = (leaky_tanh, swish_15)

# %% [markdown]
# ## Universality class and critical initialization
# The class follows from the Taylor coefficients at 0 and the shape of χ_∥/χ_⊥ (§4 of the theory
# pages): "K*=0" (odd, like tanh: C_b = 0, C_W = 1/σ_1², the kernel decays like 1/((−a_1) ℓ)),
# "half-stable" (like GELU/SWISH: a nonzero K*), "scale-invariant" (ReLU-like) or "none".

# %%
classes = {}
for fn in ACTIVATIONS:
    uc = universality_class(fn)
    classes[fn.__name__] = uc
    cp = uc.critical
    print(f"{fn.__name__:>10}: class {uc.name:<12} a1 = {uc.a1:+.4f}  b1 = {uc.b1:+.4f}  "
          f"critical C_b = {cp.cb:.6f}, C_W = {cp.cw:.6f}, K* = {cp.k_star:.6f}"
          + (f", stable from {cp.stable_side}" if cp.stable_side else ""))

# Self-checks against closed forms you can derive by hand:
# leaky tanh has σ_1 = 1.1, σ_2 = 0, σ_3 = −2, so C_W = 1/σ_1² and a_1 = σ_3/σ_1 (§4.3);
lt = classes["leaky_tanh"]
assert lt.name == "K*=0"
assert abs(lt.critical.cw - 1 / 1.1**2) < 1e-6 and abs(lt.a1 - (-2 / 1.1)) < 1e-6
# swish_15(z) = swish(1.5 z)/1.5: a change of variables maps SWISH's critical point to
# K* → K*/1.5², C_W → C_W, C_b → C_b/1.5².
sw, ref = classes["swish_15"].critical, critical_point("swish")
assert classes["swish_15"].name == "half-stable"
assert np.allclose([sw.k_star, sw.cw, sw.cb], [ref.k_star / 2.25, ref.cw, ref.cb / 2.25], rtol=1e-6)
print("closed-form checks passed")

# %% [markdown]
# ## Susceptibilities and the kernel's flow through depth at criticality

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
k_grid = np.geomspace(1e-3, 40, 200)
for fn, color in zip(ACTIVATIONS, ("C0", "C3")):
    cp = classes[fn.__name__].critical
    chi_par, chi_perp = susceptibilities(fn, k_grid, cp.cw)
    axes[0].plot(k_grid, chi_par, color=color, label=f"{fn.__name__}: χ∥")
    axes[0].plot(k_grid, chi_perp, color=color, ls="--", label=f"{fn.__name__}: χ⊥")
axes[0].axhline(1, color="k", lw=0.6)
axes[0].set_xscale("log")
axes[0].set_xlabel("K")
axes[0].set_title("susceptibilities at the critical C_W")
axes[0].legend(fontsize=8)

ell = np.arange(1, size["flow_depth"] + 1)
lt_cp = lt.critical
axes[1].loglog(ell, kernel_recursion_single(1.0, size["flow_depth"], leaky_tanh, lt_cp.cb, lt_cp.cw), "C0",
               label="leaky_tanh, K⁽¹⁾ = 1")
axes[1].loglog(ell, lt.kernel_asymptote(ell), "C0:", label="1/((−a₁) ℓ)")
for factor, style in ((0.8, "-"), (1.2, "--")):
    axes[1].loglog(ell, kernel_recursion_single(factor * sw.k_star, size["flow_depth"], swish_15, sw.cb, sw.cw),
                   "C3" + style, label=f"swish_15, K⁽¹⁾ = {factor:g} K*")
axes[1].set_xlabel("layer ℓ")
axes[1].set_ylabel("K⁽ℓ⁾")
axes[1].set_title("kernel flow at criticality")
axes[1].legend(fontsize=8)

# %% [markdown]
# ## Real random networks at criticality
# Sample random MLPs with your activation (wrapped for torch), at the critical (C_b, C_W), and compare
# the measured E z² per layer with the infinite-width kernel K⁽ℓ⁾ and with the finite-width metric
# K⁽ℓ⁾ + G^{1}⁽ℓ⁾/n (the O(1/n) correction, §5.3). Replicate = one network.

# %%
def as_torch(fn):
    return lambda t: torch.from_numpy(np.asarray(fn(t.numpy()), dtype=np.float64))


depth, width = size["depth"], size["width"]
x = np.ones((1, 16))  # |x|²/n0 = 1
for fn, color in zip(ACTIVATIONS, ("C0", "C3")):
    cp = classes[fn.__name__].critical
    k1 = cp.cb + cp.cw * 1.0 if fn is leaky_tanh else sw.k_star  # swish_15 starts at its fixed point
    cw1 = (k1 - cp.cb) / 1.0  # first-layer C_W that gives K⁽¹⁾ = k1 for |x|²/n0 = 1
    stats = sample_random_mlps(x, depth, width, activation=as_torch(fn), cb=cp.cb,
                               cw=[cw1] + [cp.cw] * (depth - 1), n_networks=size["n_networks"], generator=1234)
    mean, se = estimate_kernel(stats)
    theory = four_point_single(k1, depth, fn, cb=cp.cb, cw=cp.cw, widths=width)
    layers = np.arange(1, depth + 1)
    axes[2].errorbar(layers, mean[:, 0, 0] / theory.kernel, yerr=2 * se[:, 0, 0] / theory.kernel, fmt="o",
                     ms=3, color=color, label=f"{fn.__name__}: networks (n = {width})")
    axes[2].plot(layers, theory.metric() / theory.kernel, color=color, lw=1, label=f"{fn.__name__}: K + G¹/n")
    z = (mean[:, 0, 0] - theory.metric()) / se[:, 0, 0]
    print(f"{fn.__name__}: measured/K at the last layer {mean[-1, 0, 0] / theory.kernel[-1]:.4f} "
          f"± {se[-1, 0, 0] / theory.kernel[-1]:.4f}; max |z| against K + G¹/n: {np.abs(z).max():.2f}")
axes[2].axhline(1, color="k", lw=0.6)
axes[2].set_xlabel("layer ℓ")
axes[2].set_ylabel("E z² / K⁽ℓ⁾")
axes[2].set_title(f"{size['n_networks']} random networks vs theory")
axes[2].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "custom_activation_criticality.png", dpi=120)

# %%
assert (OUT / "custom_activation_criticality.png").is_file()
print("figure written to", (OUT / "custom_activation_criticality.png").resolve())
