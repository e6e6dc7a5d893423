"""The CP-SAT model: variables (build), hard rules (hard), soft rules (soft),
one solver run (solve), the greedy hint (greedy). The model knows neither
files nor templates and writes no explanations: planning a visit end to end
(pre-checks, confirmation, explanations) is :mod:`planner.orchestrate`'s."""

from planner.solve.run import SolveOptions, SolverRun, solve_model

__all__ = ["SolveOptions", "SolverRun", "solve_model"]
