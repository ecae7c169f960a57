"""Weight space of trained binary-synapse networks (weight-space.md; Zou & Huang 2021).

Pipeline: :func:`load_dataset` → :func:`train_lrnet` → :func:`sample_weights` → :class:`WeightEnsemble`
(accuracy filter, permutation gauge, save/load) → :func:`spin_moments` → :func:`fit_pseudolikelihood`
→ :func:`belief_propagation`, :func:`entropy_landscape`, :func:`count_tap_states`, :func:`multi_information`.
"""

from dltheory.weightspace.analysis import (coupling_summary, fit_quality, model_sample_accuracy, multi_information,
                                           shuffle_columns)
from dltheory.weightspace.bp import BPConvergenceError, BPResult, belief_propagation
from dltheory.weightspace.data import PCAData, load_dataset, pca_reduce, regime_ratio, stratified_prefix
from dltheory.weightspace.ensemble import WeightEnsemble, check_spins
from dltheory.weightspace.ising import (IsingModel, binary_entropy, enumerate_states, exact_moments, exact_sample,
                                        metropolis_sample)
from dltheory.weightspace.landscape import Landscape, bias_grid, entropy_landscape
from dltheory.weightspace.layout import (GAUGES, WeightLayout, accuracy_binary, apply_permutations,
                                         canonical_permutations, forward_binary, gauge_samples)
from dltheory.weightspace.learning import (LearningTrace, fit_bethe_learning, fit_boltzmann, mean_field_inverse,
                                           moment_error)
from dltheory.weightspace.lrnet import (DEEP, SHALLOW, LRNetEnsemble, lr_preactivation_moments, sample_accuracy,
                                        sample_weights, train_lrnet)
from dltheory.weightspace.moments import (Moments, bootstrap_moment_se, frozen_spins, noise_floors, spin_moments,
                                          third_moments)
from dltheory.weightspace.pipeline import analyze_segment, build_ensemble, select_references
from dltheory.weightspace.plm import FewSamplesWarning, PLMFit, fit_logistic_per_spin, fit_pseudolikelihood
from dltheory.weightspace.tap import TAPStates, count_tap_states, tap_free_entropy, tap_gradient, tap_iterate

__all__ = [
    "BPConvergenceError", "BPResult", "DEEP", "FewSamplesWarning", "GAUGES", "IsingModel", "LRNetEnsemble",
    "Landscape", "LearningTrace", "analyze_segment", "build_ensemble", "select_references", "Moments", "PCAData", "PLMFit", "SHALLOW", "TAPStates", "WeightEnsemble",
    "WeightLayout", "accuracy_binary", "apply_permutations", "belief_propagation", "bias_grid", "binary_entropy",
    "bootstrap_moment_se", "canonical_permutations", "check_spins", "count_tap_states", "coupling_summary",
    "entropy_landscape", "enumerate_states", "exact_moments", "exact_sample", "fit_bethe_learning",
    "fit_boltzmann", "fit_logistic_per_spin", "fit_pseudolikelihood", "fit_quality", "forward_binary",
    "frozen_spins", "gauge_samples", "load_dataset", "lr_preactivation_moments", "mean_field_inverse",
    "metropolis_sample", "model_sample_accuracy", "moment_error", "multi_information", "noise_floors",
    "pca_reduce", "regime_ratio", "sample_accuracy", "sample_weights", "shuffle_columns", "spin_moments",
    "stratified_prefix", "tap_free_entropy", "tap_gradient", "tap_iterate", "third_moments", "train_lrnet",
]
