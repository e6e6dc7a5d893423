"""Benchmark hook of the planning board (issue 12): how long a board page
takes to render and how long the checker takes to give its verdict on a
move, for the example visit and the four-week generated visit.

``measure(folder, plan)`` puts the visit and its plan into a fresh workspace
as its working draft and times, over several repeats (median reported):

* ``board_ms``: GET /v/<visit>/board?day=<busiest day>, the whole
  response through Starlette's TestClient (routing, reading the plan files,
  the grid, the soft-rule scores, rendering);
* ``verdict_ms``: planner.web.actions.verdict on a move of one session to
  another start (planner.check.verify on the moved plan, as the move page does);
* ``move_page_ms``: GET of the move page with that move, verdict included;
* ``picked_board_ms``: the board page with that session picked up (its
  people's and rooms' unavailability shaded);
* ``where_ms``: GET /v/<visit>/board/draft/where/<session> ("Where can this
  go?": candidates pruned, ranked by soft cost, checked in order), for the
  first sessions of the busiest day, the median and the slowest;
  ``where_funnel`` says how many slots each had, how many survived the cheap
  pruning and how many the checker was asked about;
* ``visit_page_ms``: GET /v/<visit>?table=sessions&page=2, the visit page (a tab, 50 rows; target
  500 ms at four weeks, issue 18).

Targets of the issue: a board page in at most 200 ms, a verdict in at
most 100 ms and "Where can this go?" in at most 500 ms for four weeks (280 sessions). Run
``python benchmarks/web.py`` (a minute or so; the example is planned once with
a 10 s limit, the four-week visit uses the generator's planted plan).
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _median_ms(fn, repeats: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(runs), 1), [round(r, 1) for r in runs]


def measure(folder: Path, plan, repeats: int = 7) -> dict:
    from starlette.testclient import TestClient

    from planner.store.planio import write_plan_files
    from planner.web import actions
    from planner.web.app import Board

    with tempfile.TemporaryDirectory() as temp:
        ws = Path(temp) / "ws"
        shutil.copytree(folder, ws / "visit", ignore=shutil.ignore_patterns(
            "plans", "draft", "releases", ".history", "journal.jsonl"))
        visit = actions.load(ws / "visit")
        (ws / "visit" / "draft").mkdir(parents=True)
        write_plan_files(ws / "visit" / "draft", plan, visit)
        board = Board(ws, allowed_hosts=["testserver"])
        client = TestClient(board.app)
        day = Counter(i.start.date() for i in plan.sessions).most_common(1)[0][0]
        url = f"/v/visit/board?day={day}"
        assert client.get(url).status_code == 200
        board_ms, board_runs = _median_ms(lambda: client.get(url), repeats)

        stored = actions.read_version(board.ws.visit("visit"), "draft")
        item = next(i for i in stored.sessions if not visit.session_by_id[i.item_id].fixed_start)
        later = item.start.replace(hour=min(item.start.hour + 1, 15))
        move = actions.parse_move(visit, item.item_id, f"{later:%Y-%m-%d}", f"{later:%H:%M}", item.room_id,
                                  list(item.peer_ids))[0]
        verdict_ms, verdict_runs = _median_ms(lambda: actions.verdict(visit, stored, move), repeats)
        move_url = (f"/v/visit/board/draft/move/{item.item_id}?day={later:%Y-%m-%d}&start={later:%H:%M}"
                    f"&room={item.room_id}")
        assert client.get(move_url).status_code == 200
        move_ms, move_runs = _median_ms(lambda: client.get(move_url), repeats)
        picked_url = f"/v/visit/board?day={item.start:%Y-%m-%d}&pick={item.item_id}"
        assert client.get(picked_url).status_code == 200
        picked_ms, _ = _median_ms(lambda: client.get(picked_url), repeats)
        where = _where(client, visit, stored, day, repeats)
        visit_url = "/v/visit?table=sessions&page=2"
        assert client.get(visit_url).status_code == 200
        visit_ms, visit_runs = _median_ms(lambda: client.get(visit_url), repeats)
        board.solver.shutdown()
    return {"sessions": len(plan.sessions), "board_ms": board_ms, "board_runs": board_runs,
            "verdict_ms": verdict_ms, "verdict_runs": verdict_runs, "move_page_ms": move_ms,
            "move_page_runs": move_runs, "visit_page_ms": visit_ms, "visit_page_runs": visit_runs,
            "picked_board_ms": picked_ms, **where}


def _where(client, visit, plan, day, repeats: int, sessions: int = 6) -> dict:
    """'Where can this go?' for the first sessions of `day` (not pinned): each page's median."""
    from planner.web import placing

    chosen = [i for i in plan.on(day) if i.is_session and not visit.session_by_id[i.item_id].fixed_start][:sessions]
    medians, funnel = [], []
    for item in chosen:
        url = f"/v/visit/board/draft/where/{item.item_id}"
        assert client.get(url).status_code == 200
        medians.append(_median_ms(lambda url=url: client.get(url), max(3, repeats // 2))[0])
        found = placing.where_can_it_go(visit, plan, item.item_id)
        funnel.append({"session": item.item_id, "slots": found.candidates, "survivors": found.survivors,
                       "checked": found.checked, "offered": len(found.offers)})
    return {"where_ms": statistics.median(medians) if medians else None,
            "where_max_ms": max(medians, default=None), "where_runs": medians, "where_funnel": funnel}


def example_case() -> dict:
    from planner.solve import SolveOptions
    from planner.orchestrate import plan_visit
    from planner.input.validation import load_visit

    folder = ROOT / "inputs" / "tower-hamlets-2018"
    visit = load_visit(folder)
    plan = plan_visit(visit, SolveOptions(time_limit=10, workers=1, deterministic=True)).plan
    return {"case": "example (tower-hamlets-2018)", **measure(folder, plan)}


def four_weeks_case(seed: int = 1) -> dict:
    from generate import generate

    with tempfile.TemporaryDirectory() as temp:
        generated = generate("four-weeks", seed, Path(temp) / "visit")
        return {"case": f"four weeks (generated, seed {seed}, planted plan)",
                **measure(generated.folder, generated.planted)}


def run() -> list[dict]:
    """Both cases; what `make bench` can call and write into RESULTS.md."""
    return [example_case(), four_weeks_case()]


def main() -> None:
    results = run()
    for r in results:
        print(f"{r['case']}: {r['sessions']} sessions; board page {r['board_ms']} ms (target 200), "
              f"move verdict {r['verdict_ms']} ms (target 100), move page {r['move_page_ms']} ms, "
              f"visit page {r.get('visit_page_ms')} ms (target 500), "
              f"picked board {r['picked_board_ms']} ms, where can this go {r['where_ms']} ms "
              f"(slowest {r['where_max_ms']}; target 500)")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
