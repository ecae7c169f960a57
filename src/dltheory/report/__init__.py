"""The HTML report: every saved experiment run, its claims, figures and provenance; figures for
:mod:`dltheory.nets.compare` (your network against the theory)."""

from dltheory.report.html import build_report, collect_records
from dltheory.report.theory_plots import plot_comparison, plot_width_sweep

__all__ = ["build_report", "collect_records", "plot_comparison", "plot_width_sweep"]
