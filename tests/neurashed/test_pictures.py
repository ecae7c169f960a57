"""Pictures: figure strip and GIF animation of training (neurashed.md §2)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

from dltheory.neurashed import GradRule, animate_training, graph_strip, train

from .conftest import small_task


def test_strip_and_gif(tmp_path):
    task = small_task(seed=0)
    log = train(task, GradRule(), steps=200, checkpoint_every=100, rng=np.random.default_rng(0))
    fig = graph_strip(task.graph, log.thetas, log.steps)
    assert len(fig.axes) == len(log.steps)
    # node areas are proportional to within-level shares: the largest level-1 amount has the largest marker
    sizes = fig.axes[-1].collections[0].get_sizes()
    assert np.argmax(sizes) == np.argmax(log.thetas[-1][task.graph.level_slice(0)])
    plt.close(fig)
    out = animate_training(task.graph, log.thetas, log.steps, tmp_path / "train.gif", fps=2)
    if animation.PillowWriter.isAvailable():
        assert out is not None and out.stat().st_size > 0 and out.read_bytes()[:3] == b"GIF"
    else:
        assert out is None
