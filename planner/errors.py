"""Errors a user can cause, each mapped to an exit code of the contract (§5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located the way the user sees it."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        settings = self.file in ("visit.toml", "sheet visit")
        where = self.file
        if self.row is not None:
            where += f", {'line' if self.file.endswith(('.toml', '.json')) else 'row'} {self.row}"
        if self.column:
            where += f", {'key' if settings else 'column'} {self.column}"
        return f"{where}: {self.message}"


class PlannerError(Exception):
    """Base of the errors the command line reports without a traceback."""

    exit_code = 1


class InvalidInput(PlannerError):
    """The visit is not valid input (exit 2); every problem is listed."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Infeasible(PlannerError):
    """No plan satisfies the hard rules (exit 1); reasons in the user's terms."""

    exit_code = 1

    def __init__(self, reasons: list[str], detail: str = ""):
        self.reasons = list(reasons)
        self.detail = detail
        super().__init__("\n".join(self.reasons))


class SolverFailure(PlannerError):
    """The solver gave no answer we can trust (time limit, crash)."""

    exit_code = 1


class Cancelled(PlannerError):
    """The run was stopped (Ctrl-C, or a cancel hook) before it wrote anything (exit 130)."""

    exit_code = 130

    def __init__(self, message: str = "cancelled; nothing was written"):
        super().__init__(message)
