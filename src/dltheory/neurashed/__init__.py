"""Neurashed: a hierarchical, iterative, compressive model of training (spec: neurashed.md).

Following W. J. Su, arXiv 2112.09741. Build a feature graph (:func:`semantic_tree` or
:func:`graph_from_adjacency`), draw a :class:`Task` (:func:`make_task`), :func:`train` it with an
update rule (:class:`GradRule` by default; :class:`ActivityRule`, :class:`GatedRule` with guards),
and measure it (:mod:`~dltheory.neurashed.diagnostics`, :mod:`~dltheory.neurashed.elasticity`,
:mod:`~dltheory.neurashed.pictures`). The torch counterparts on real networks live in
:mod:`dltheory.neurashed.real` (imported on demand, since it needs torch).
"""

from dltheory.neurashed.diagnostics import (entropy, first_fit_step, fit_time, flow_shares, idio_share,
                                            information_plane, snapshot)
from dltheory.neurashed.elasticity import (bootstrap_pair_gaps, escalate_step, kernel_kmeans, kernel_similarity, kmeans_rows,
                                           le_ratio, neurashed_margin_gradients, neurashed_relative_similarity,
                                           normalized_similarity, pair_type_means, raw_kmeans_accuracy,
                                           spectral_two_clusters, two_cluster_accuracy)
from dltheory.neurashed.examples import Examples, Task, draw_masks, examples_from_masks, make_task, noisy_labels
from dltheory.neurashed.forward import (Forward, OverflowGuardError, backward, forward, init_theta, logit_gradient,
                                        loss_and_grad)
from dltheory.neurashed.graph import (DEFAULT_PARTITIONS, FeatureGraph, add_idiosyncratic, graph_from_adjacency,
                                      semantic_tree)
from dltheory.neurashed.pictures import animate_training, draw_graph, graph_strip
from dltheory.neurashed.reference import REFERENCE, ReferenceConfig, run_reference
from dltheory.neurashed.rules import (ActivityRule, GatedRule, GradRule, activity_threshold, apply_guards,
                                      effective_number, guard_status)
from dltheory.neurashed.training import NeurashedLog, checkpoint_steps, train

__all__ = [
    "ActivityRule", "DEFAULT_PARTITIONS", "Examples", "FeatureGraph", "Forward", "GatedRule", "GradRule",
    "NeurashedLog", "OverflowGuardError", "REFERENCE", "ReferenceConfig", "Task", "activity_threshold", "add_idiosyncratic", "animate_training",
    "apply_guards", "backward", "bootstrap_pair_gaps", "checkpoint_steps", "escalate_step", "draw_graph", "draw_masks",
    "effective_number", "entropy", "examples_from_masks", "first_fit_step", "fit_time", "flow_shares", "forward",
    "graph_from_adjacency", "graph_strip", "guard_status", "idio_share", "information_plane", "init_theta",
    "kernel_kmeans", "kernel_similarity", "kmeans_rows", "le_ratio", "logit_gradient", "loss_and_grad",
    "make_task", "neurashed_margin_gradients", "neurashed_relative_similarity", "noisy_labels",
    "normalized_similarity", "pair_type_means", "raw_kmeans_accuracy", "run_reference", "semantic_tree",
    "snapshot", "spectral_two_clusters", "train", "two_cluster_accuracy",
]
