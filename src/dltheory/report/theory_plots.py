"""Figures for :mod:`dltheory.nets.compare`: your network's kernel and NTK against the theory.

Matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dltheory.errors import DLTheoryError

if TYPE_CHECKING:  # pragma: no cover
    from dltheory.nets.compare import TheoryComparison, WidthSweep

__all__ = ["plot_comparison", "plot_width_sweep"]

_LABELS = {"kernel": "NNGP kernel  $\\hat G^{(\\ell)}_{ab}$", "ntk": "NTK  $\\hat H^{(\\ell)}_{ab}$"}


def plot_comparison(result: TheoryComparison, path: str | None = None):
    """Empirical vs infinite-width kernel and NTK, per layer, with error bars (±2 SE).

    Top row: empirical ensemble mean against the theory for every entry (a ≤ b), one colour per
    layer, with the line y = x. Bottom row: z-score of every entry by layer; filled markers are the
    tested ("exact") rows, open markers the O(1/n) diagnostics; dashed lines at ±z*.

    Parameters
    ----------
    result : TheoryComparison
        From :func:`dltheory.nets.compare.compare_to_theory`.
    path : str, optional
        Save the figure there (any format matplotlib infers from the suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    table = result.table()
    quantities = list(dict.fromkeys(table.quantity))
    zs = result.z_star()
    fig, axes = plt.subplots(2, len(quantities), figsize=(5.2 * len(quantities), 8.0), squeeze=False)
    cmap = plt.get_cmap("viridis")
    depth = result.architecture.depth
    for col, q in enumerate(quantities):
        t = table[table.quantity == q]
        ax, axz = axes[0, col], axes[1, col]
        for ell in range(1, depth + 1):
            tl = t[t.layer == ell]
            color = cmap((ell - 1) / max(depth - 1, 1))
            ax.errorbar(tl.theory, tl.empirical, yerr=2 * tl.se, fmt="o", ms=4, color=color, label=f"ℓ = {ell}")
            jitter = (tl.a.to_numpy() * 7 + tl.b.to_numpy() * 3) % 11 / 11 * 0.5 - 0.25
            exact = (tl.expectation == "exact").to_numpy()
            z = np.clip(tl.z.to_numpy(dtype=float), -10 * zs, 10 * zs)
            axz.scatter(ell + jitter[exact], z[exact], color=color, s=22)
            axz.scatter(ell + jitter[~exact], z[~exact], facecolors="none", edgecolors=color, s=22)
        lo = float(min(t.theory.min(), t.empirical.min()))
        hi = float(max(t.theory.max(), t.empirical.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("infinite-width theory")
        ax.set_ylabel(f"ensemble mean ({result.n_networks} networks)")
        ax.set_title(_LABELS.get(q, q))
        ax.legend(fontsize=8)
        for sign in (-1, 1):
            axz.axhline(sign * zs, color="grey", ls="--", lw=0.8)
        axz.axhline(0, color="k", lw=0.5)
        axz.set_xticks(range(1, depth + 1))
        axz.set_xlabel("layer ℓ")
        axz.set_ylabel("z = (mean − theory)/SE")
        axz.set_title(f"filled: exact at any width (±z* = {zs:.2f}); open: O(1/n)", fontsize=9)
    widths = sorted({layer.width for layer in result.architecture.layers})
    fig.suptitle(f"{depth}-layer network (widths {', '.join(map(str, widths))}), {result.n_networks} networks: "
                 f"verdict {result.verdict.value.upper()} (exact rows, δ = {result.delta:g})", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_width_sweep(sweep: WidthSweep, entries: str = "diag", path: str | None = None):
    """Approach to the infinite-width theory: normalized deviation vs 1/n, per layer.

    For each quantity (kernel, NTK) and layer, the mean normalized deviation
    (mean − theory)/√(theory_aa theory_bb) over the diagonal (or off-diagonal) entries, with ±2 SE
    error bars (SE over networks), against 1/n, and the weighted fit D_0 + D_1/n (+ D_2/n²)
    (:func:`dltheory.stats.weighted_least_squares` on :func:`dltheory.stats.inverse_width_design`).
    At infinite width the deviation is 0.

    Parameters
    ----------
    sweep : WidthSweep
        From :func:`dltheory.nets.compare.width_sweep`.
    entries : {"diag", "offdiag"}
    path : str, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from dltheory.stats import inverse_width_design, weighted_least_squares

    if entries not in ("diag", "offdiag"):
        raise DLTheoryError(f"entries={entries!r}: accepted 'diag', 'offdiag'")
    first = sweep.comparisons[0]
    quantities = ["kernel"] + (["ntk"] if first.ntk is not None else [])
    depth = first.architecture.depth
    inv = 1.0 / np.asarray(sweep.widths, dtype=float)
    fig, axes = plt.subplots(1, len(quantities), figsize=(5.2 * len(quantities), 4.2), squeeze=False)
    cmap = plt.get_cmap("viridis")
    grid = np.linspace(0.0, inv.max() * 1.05, 50)
    for col, q in enumerate(quantities):
        ax = axes[0, col]
        stats = [c.layer_summary(q, entries) for c in sweep.comparisons]
        for ell in range(depth):
            dev = np.array([s["rel_deviation"][ell] for s in stats])
            se = np.array([s["se"][ell] for s in stats])
            color = cmap(ell / max(depth - 1, 1))
            shift = (ell - (depth - 1) / 2) * 0.006 * inv.max()  # side by side, not on top of each other
            ax.errorbar(inv + shift, dev, yerr=2 * se, fmt="o", ms=4, color=color, label=f"ℓ = {ell + 1}")
            if np.all(se > 0):
                coef = weighted_least_squares(inverse_width_design(sweep.widths, sweep.order), dev, se).coef
                curve = sum(c * grid**j for j, c in enumerate(coef))
                ax.plot(grid, curve, color=color, lw=0.8)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xlabel("1 / n")
        ax.set_ylabel(f"(mean − theory) / theory, {entries} entries")
        ax.set_title(_LABELS.get(q, q))
        ax.legend(fontsize=8)
    model = "D_0 + D_1/n" + (" + D_2/n²" if sweep.order == 2 else "")
    fig.suptitle(f"widths {', '.join(map(str, sweep.widths))}: fits {model}; verdict {sweep.verdict.value.upper()} "
                 "(D_0 = 0 per entry)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
