"""Greedy first-fit baseline (benchmarks only, not part of the product).

The simplest planner one could write instead of a solver: take the sessions
in the order of sessions.csv and put each into the first day, start, room and
peers that keep every hard rule, given what is placed already; a session
that fits nowhere is left out. No look-ahead, no preferences, no repair.

The hard-rule bookkeeping is the product's :class:`planner.solve.greedy.Ledger`
(the same checks the solver's hint uses), so the baseline differs from the
product only in what it does with them: the product orders sessions by how
constrained they are, spreads them over the days, picks peers by theme and
load, and then lets CP-SAT optimise. Every plan it returns is checked with the
independent :func:`planner.check.verify.verify`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planner import domain as d  # noqa: E402
from planner.solve.candidates import session_rooms, session_starts  # noqa: E402
from planner.solve.greedy import Ledger  # noqa: E402
from planner.check.verify import verify  # noqa: E402


def first_fit(visit: d.Visit) -> d.Plan:
    """Place sessions in file order at the first day/start/room/peers that keep every hard rule."""
    ledger = Ledger(visit)
    room_order = {room.id: i for i, room in enumerate(visit.rooms)}
    for session in visit.sessions:
        starts = [ledger.t(m) for m in session_starts(visit, session)]
        rooms = sorted(session_rooms(visit, session), key=lambda r: room_order[r.id])
        _first(ledger, session, starts, rooms)
    return ledger.plan({"greedy": "first-fit baseline"})


def _first(ledger: Ledger, session: d.Session, starts: list[int], rooms: list[d.Room]) -> bool:
    for t in starts:  # calendar order: first day, earliest start
        for room in rooms:
            if not ledger.session_fits(session, t, room.id):
                continue
            free = ledger.free_peers(session, t, room)  # in peers.csv order
            if any(p not in free for p in session.required_peers):
                continue
            peers = list(session.required_peers) + [p for p in free if p not in session.required_peers]
            peers = peers[:session.peers]
            if len(peers) < session.peers:
                continue
            ledger.book(session, t, room, peers)
            return True
    return False


@dataclass
class Result:
    seconds: float
    placed: int
    sessions: int
    must_placed: int
    musts: int
    should_placed: int
    shoulds: int
    breaches: list  # every breach the checker finds (rule 1 included: must sessions left out)
    plan: d.Plan

    @property
    def other_breaches(self) -> list:
        """Breaches other than rule 1 (a must session left out): must be empty."""
        return [b for b in self.breaches if b.rule != 1]


def run(visit: d.Visit) -> Result:
    t0 = time.perf_counter()
    plan = first_fit(visit)
    seconds = time.perf_counter() - t0
    held = {i.item_id for i in plan.sessions}
    musts = [s for s in visit.sessions if s.must]
    shoulds = [s for s in visit.sessions if not s.must]
    return Result(seconds=seconds, placed=len(held), sessions=len(visit.sessions),
                  must_placed=sum(s.id in held for s in musts), musts=len(musts),
                  should_placed=sum(s.id in held for s in shoulds), shoulds=len(shoulds),
                  breaches=verify(visit, plan), plan=plan)


def main(argv: list[str] | None = None) -> None:
    import argparse

    from planner.input.validation import load_visit

    parser = argparse.ArgumentParser(description="Greedy first-fit baseline")
    parser.add_argument("visit")
    args = parser.parse_args(argv)
    r = run(load_visit(args.visit))
    print(f"placed {r.placed}/{r.sessions} sessions ({r.must_placed}/{r.musts} must) in {r.seconds:.2f} s; "
          f"checker: {len(r.other_breaches)} breaches besides left-out must sessions")


if __name__ == "__main__":
    main()
