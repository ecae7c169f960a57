"""The HTML report: every saved experiment run, its claims, figures and provenance."""

from dltheory.report.html import build_report, collect_records

__all__ = ["build_report", "collect_records"]
