"""The CP-SAT model: variables (build), hard rules (hard), soft rules (soft), solving (solve)."""

from .solve import SolveOptions, solve

__all__ = ["SolveOptions", "solve"]
