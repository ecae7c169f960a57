"""Effective theory of deep MLPs (effective-theory.md): pure NumPy/SciPy float64."""
