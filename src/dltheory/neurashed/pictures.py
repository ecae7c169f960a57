"""Pictures: the graph drawn with node areas proportional to amounts (neurashed.md §2, §8).

Node area is proportional to the within-level share n_f / Σ_{F_ℓ} n (raw amounts drift between
levels, §7.1, so they are never compared across levels). Idiosyncratic features are drawn as one
aggregate node per class of their readout (their total share), since there are hundreds of them.
matplotlib is imported lazily; the animation uses PillowWriter (GIF) when pillow is available.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltheory.errors import require
from dltheory.neurashed.graph import FeatureGraph

__all__ = ["draw_graph", "graph_strip", "animate_training"]

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def _layout(graph: FeatureGraph):
    """Node positions (x, y), colours and the list of drawn nodes per level (shared features)."""
    shared_top = np.flatnonzero(graph.idio_example < 0)
    nodes = [np.arange(s) for s in graph.level_sizes[:-1]] + [shared_top]
    pos = []
    for l, idx in enumerate(nodes):
        x = np.linspace(0.05, 0.95, len(idx)) if len(idx) > 1 else np.array([0.5])
        pos.append(np.column_stack([x, np.full(len(idx), l + 1.0)]))
    return nodes, pos


def _node_colour(graph: FeatureGraph, level: int, f: int) -> str:
    own = np.flatnonzero(graph.owners[level][f])
    return "lightgrey" if len(own) == graph.n_classes else _COLORS[int(own[0]) % len(_COLORS)]


def draw_graph(ax, graph: FeatureGraph, theta: np.ndarray, *, max_area: float = 600.0, title: str | None = None,
               edges: bool = True) -> None:
    """Draw ``graph`` on ``ax`` with node area ∝ within-level share of exp(θ)."""
    nodes, pos = _layout(graph)
    ths = graph.split(np.asarray(theta, dtype=np.float64))
    if edges:
        for l in range(graph.n_levels - 1):
            e = graph.edges[l]
            e = e.toarray() if hasattr(e, "toarray") else e
            sub = e[np.ix_(nodes[l], nodes[l + 1])]
            for i, j in zip(*np.nonzero(sub)):
                ax.plot([pos[l][i, 0], pos[l + 1][j, 0]], [pos[l][i, 1], pos[l + 1][j, 1]],
                        color="0.85", lw=0.4, zorder=0)
    for l in range(graph.n_levels):
        t = ths[l] - ths[l].max()
        share = np.exp(t) / np.exp(t).sum()
        cols = [_node_colour(graph, l, f) for f in nodes[l]]
        ax.scatter(pos[l][:, 0], pos[l][:, 1], s=max_area * share[nodes[l]] * len(nodes[l]) / 2 + 2, c=cols,
                   edgecolors="k", linewidths=0.3, zorder=2)
    idio = np.flatnonzero(graph.idio_example >= 0)
    if len(idio):
        t = ths[-1] - ths[-1].max()
        share = np.exp(t) / np.exp(t).sum()
        cls = graph.readout_dense()[idio].argmax(axis=1)
        for c in range(graph.n_classes):
            tot = share[idio[cls == c]].sum()
            ax.scatter([0.1 + 0.8 * c / max(graph.n_classes - 1, 1)], [graph.n_levels + 0.6],
                       s=max_area * tot * 2 + 2, marker="s", c=_COLORS[c % len(_COLORS)], alpha=0.5,
                       edgecolors="k", linewidths=0.3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0.5, graph.n_levels + 1.0)
    ax.set_yticks(range(1, graph.n_levels + 1))
    ax.set_yticklabels([f"level {l}" for l in range(1, graph.n_levels + 1)])
    ax.set_xticks([])
    if title:
        ax.set_title(title, fontsize=9)


def graph_strip(graph: FeatureGraph, thetas: np.ndarray, steps, *, which=None):
    """A figure strip: the graph at chosen checkpoints (rows of ``thetas`` (C, F), labels ``steps``)."""
    import matplotlib.pyplot as plt

    thetas = np.atleast_2d(thetas)
    which = range(len(thetas)) if which is None else which
    which = list(which)
    require(len(which) >= 1, "which must select at least one checkpoint")
    fig, axes = plt.subplots(1, len(which), figsize=(3.2 * len(which), 3.2), squeeze=False)
    for ax, c in zip(axes[0], which):
        draw_graph(ax, graph, thetas[c], title=f"step {int(np.asarray(steps)[c])}")
    fig.suptitle("node area ∝ within-level share; squares: idiosyncratic features by readout class", fontsize=8)
    fig.tight_layout()
    return fig


def animate_training(graph: FeatureGraph, thetas: np.ndarray, steps, path, *, fps: int = 4) -> Path | None:
    """Write an animated GIF of training to ``path`` (PillowWriter); returns the path, or ``None`` without pillow."""
    import matplotlib.pyplot as plt
    from matplotlib import animation

    if not animation.PillowWriter.isAvailable():
        return None
    path = Path(path)
    fig, ax = plt.subplots(figsize=(4, 3.5))

    def frame(c):
        ax.clear()
        draw_graph(ax, graph, thetas[c], title=f"step {int(np.asarray(steps)[c])}", edges=False)

    anim = animation.FuncAnimation(fig, frame, frames=len(thetas))
    anim.save(str(path), writer=animation.PillowWriter(fps=fps))
    plt.close(fig)
    return path
