"""The always-failing toy as a plugin module of its own (``DLTHEORY_EXTRA_EXPERIMENTS=tests.experiments.broken_toy``),
so that registering the other toys never adds a failing experiment."""

from tests.experiments.toys import BROKEN as EXPERIMENT

__all__ = ["EXPERIMENT"]
