"""Torch building blocks shared by all pillars: random-MLP ensembles, empirical NTKs, trainers.

- :mod:`~dltheory.nets.activations` — torch activations by registry name (effective-theory.md §3)
- :mod:`~dltheory.nets.random_mlp` — batched Monte Carlo ensembles of random MLPs (§2, §9.3)
- :mod:`~dltheory.nets.estimators` — means, SEs and jackknifed cumulants (§10.1)
- :mod:`~dltheory.nets.training` — vmapped ensemble training (torch.func), sequential baseline
- :mod:`~dltheory.nets.ntk` — NTK forward equation, autodiff NTK, ``make_mlp`` (§6.1)
- :mod:`~dltheory.nets.compare` — your own ``nn.Module`` against the infinite-width theory
"""

from dltheory.nets.activations import (
    TORCH_ACTIVATION_NAMES,
    ActivationLayer,
    TorchActivation,
    resolve_torch_activation,
    torch_activation,
)
from dltheory.nets.compare import (
    Architecture,
    LayerSpec,
    TheoryComparison,
    WidthSweep,
    activation_name,
    compare_to_theory,
    fit_inverse_width,
    parse_architecture,
    width_sweep,
)
from dltheory.nets.estimators import (
    estimate_excess_kurtosis,
    estimate_four_point_vertex,
    estimate_kernel,
    estimate_ntk_fluctuations,
    estimate_ntk_mean,
    jackknife,
    mean_and_se,
)
from dltheory.nets.ntk import (
    NTKEnsembleStatistics,
    empirical_ntk_autodiff,
    make_mlp,
    mlp_weights,
    ntk_forward_equation,
    ntk_from_weights,
)
from dltheory.nets.residual_mlp import sample_residual_mlps
from dltheory.nets.random_mlp import EnsembleStatistics, default_chunk_size, sample_random_mlps
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
    "fit_inverse_width",
    "parse_architecture",
    "width_sweep",
    "sample_residual_mlps",
    "EnsembleTrainResult",
    "ensemble_forward",
    "stack_models",
    "train_ensemble",
    "train_sequential",
    "unstack",
    "TORCH_ACTIVATION_NAMES",
    "ActivationLayer",
    "TorchActivation",
    "resolve_torch_activation",
    "torch_activation",
    "EnsembleStatistics",
    "default_chunk_size",
    "sample_random_mlps",
    "mean_and_se",
    "jackknife",
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
