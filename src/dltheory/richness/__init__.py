"""The richness scale: parametrizations from lazy (NTK, r = 0) to rich (muP, r = 1/2), one knob, and
the measurements that tell lazy from rich training (spec richness.md)."""

from dltheory.richness.abc_parametrization import ABC, abc_mfp, abc_mup, abc_ntp, abc_richness, abc_sp
from dltheory.richness.measurements import (cka, coordinate_size, kernel_alignment, kernel_target_alignment,
                                            mlp_ntk, mlp_preactivations, relative_change, relative_ntk_change,
                                            relative_weight_change, representation_change, update_alignment)
from dltheory.richness.modules import (SUPPORTED_LAYERS, ScaledConv2d, ScaledLinear, layer_table,
                                       lr_multipliers, mlp, param_groups, parametrize, scaled_layers)
from dltheory.richness.parametrization import (GAUGES, PRESETS, ROLES, LayerScales, Parametrization,
                                               UnstableRichnessWarning, mfp, mup, ntp, preset, richness, sp)
from dltheory.richness.sweep import EnsembleRun, run_ensemble, sweep
from dltheory.richness.tasks import classification_task

__all__ = [
    "ABC", "EnsembleRun", "GAUGES", "LayerScales", "PRESETS", "Parametrization", "ROLES",
    "SUPPORTED_LAYERS", "ScaledConv2d", "ScaledLinear", "UnstableRichnessWarning", "abc_mfp",
    "abc_mup", "abc_ntp", "abc_richness", "abc_sp", "cka", "classification_task", "coordinate_size",
    "kernel_alignment", "kernel_target_alignment", "layer_table", "lr_multipliers", "mfp", "mlp", "mlp_ntk",
    "mlp_preactivations", "mup", "ntp", "param_groups", "parametrize", "preset", "relative_change",
    "relative_ntk_change", "relative_weight_change", "representation_change", "richness", "run_ensemble",
    "scaled_layers", "sp", "sweep", "update_alignment",
]
