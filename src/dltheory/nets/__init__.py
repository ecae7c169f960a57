"""Torch building blocks shared by all pillars: random-MLP ensembles, empirical NTKs, trainers.

- :mod:`~dltheory.nets.random_mlp` — batched Monte Carlo ensembles of random MLPs (§2, §9.3)
- :mod:`~dltheory.nets.estimators` — kernels, vertices and NTK tensors with SEs from ensembles (§10.1; the
  generic statistics are in :mod:`dltheory.stats`)
- :mod:`~dltheory.nets.training` — vmapped ensemble training (torch.func), sequential baseline
- :mod:`~dltheory.nets.ntk` — NTK forward equation, autodiff NTK, ``make_mlp``, ``ActivationLayer`` (§6.1)
- :mod:`~dltheory.nets.compare` — your own ``nn.Module`` against the infinite-width theory

Activations (NumPy and torch forms) come from the one registry :mod:`dltheory.activations`.
"""

from dltheory.nets._engine import default_chunk_size
from dltheory.nets.compare import (
    Architecture,
    LayerSpec,
    TheoryComparison,
    WidthSweep,
    activation_name,
    compare_to_theory,
    parse_architecture,
    width_sweep,
)
from dltheory.nets.estimators import (
    estimate_excess_kurtosis,
    estimate_four_point_vertex,
    estimate_kernel,
    estimate_ntk_fluctuations,
    estimate_ntk_mean,
)
from dltheory.nets.ntk import (
    ActivationLayer,
    NTKEnsembleStatistics,
    empirical_ntk_autodiff,
    make_mlp,
    mlp_weights,
    ntk_forward_equation,
    ntk_from_weights,
)
from dltheory.nets.random_mlp import EnsembleStatistics, sample_random_mlps
from dltheory.nets.residual_mlp import sample_residual_mlps
from dltheory.nets.training import (
    EnsembleTrainResult,
    ensemble_forward,
    stack_models,
    train_ensemble,
    train_sequential,
    unstack,
)

__all__ = [
    "Architecture",
    "LayerSpec",
    "TheoryComparison",
    "WidthSweep",
    "activation_name",
    "compare_to_theory",
    "parse_architecture",
    "width_sweep",
    "sample_residual_mlps",
    "EnsembleTrainResult",
    "ensemble_forward",
    "stack_models",
    "train_ensemble",
    "train_sequential",
    "unstack",
    "ActivationLayer",
    "EnsembleStatistics",
    "default_chunk_size",
    "sample_random_mlps",
    "estimate_kernel",
    "estimate_four_point_vertex",
    "estimate_excess_kurtosis",
    "estimate_ntk_mean",
    "estimate_ntk_fluctuations",
    "NTKEnsembleStatistics",
    "ntk_forward_equation",
    "ntk_from_weights",
    "empirical_ntk_autodiff",
    "make_mlp",
    "mlp_weights",
]
