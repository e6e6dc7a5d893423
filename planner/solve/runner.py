"""One CP-SAT solve that Ctrl-C and a cancel hook can stop (planner.solve.run's steps)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model

from planner.errors import Cancelled

Cancel = Callable[[], bool] | threading.Event  # true (or set): stop solving, raise Cancelled


def run_solver(solver: cp_model.CpSolver, model: cp_model.CpModel,
               callback: cp_model.CpSolverSolutionCallback | None = None, cancel: Cancel | None = None) -> int:
    """``solver.Solve(model, callback)``, stoppable.

    CP-SAT runs in a worker thread while the calling thread waits in short
    steps, so that it can take Ctrl-C (Python raises KeyboardInterrupt in the
    main thread only while that thread runs Python code) and poll `cancel`.
    CP-SAT's own SIGINT handler is switched off: it would stop the search and
    hand back the best plan so far as if the time limit had come. On either,
    the search is stopped (``StopSearch``) and the interrupt propagates —
    KeyboardInterrupt, or :class:`~planner.errors.Cancelled` for the cancel
    hook — so no plan ever comes out of an interrupted run."""
    should_stop = cancel.is_set if isinstance(cancel, threading.Event) else cancel
    solver.parameters.catch_sigint_signal = False
    if should_stop is not None and should_stop():
        raise Cancelled()
    answer: dict[str, Any] = {}

    def work() -> None:
        try:
            answer["status"] = solver.Solve(model, callback)
        except BaseException as exc:  # handed over to the waiting thread
            answer["error"] = exc

    worker = threading.Thread(target=work, name="cp-sat", daemon=True)
    stop: BaseException | None = None
    try:
        worker.start()  # inside the try: Ctrl-C may come while the thread starts
        while worker.is_alive():
            worker.join(0.05)
            if stop is None and should_stop is not None and should_stop():
                stop = Cancelled()
            if stop is not None:
                solver.StopSearch()  # repeated until it takes: the search may not have begun yet
    except KeyboardInterrupt as interrupt:
        stop = interrupt
    finally:
        # never leave CP-SAT running behind: a C++ search still running when the
        # interpreter exits aborts the process ("terminate called ...", SIGABRT)
        while worker.is_alive():
            solver.StopSearch()
            try:
                worker.join(0.05)
            except KeyboardInterrupt as again:  # a second Ctrl-C while the search winds down
                stop = stop or again
    if stop is not None:
        raise stop
    if "error" in answer:
        raise answer["error"]
    status: int = answer["status"]
    return status
