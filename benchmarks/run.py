"""`make bench`: measure the planner at growing sizes and write benchmarks/RESULTS.md.

    python benchmarks/run.py --out benchmarks/RESULTS.md        # the full run (~13 min on a quiet machine)
    python benchmarks/run.py --quick --out /tmp/RESULTS.md      # smoke run (~1 min)

Cases: the bundled example visit (inputs/tower-hamlets-2018) and visits drawn
by benchmarks/generate.py (one week, two weeks, four weeks; the four-week
size with two seeds). For each case, in separate processes so that peak
memory is each case's own:

* product: load, build the model (greedy hint included), solve with a time
  limit, write the plan files and every document, re-plan after one change;
* greedy: the first-fit baseline of benchmarks/greedy.py;
* time-indexed: the rejected formulation of benchmarks/alternative.py, with the
  product's hint, time limit, workers and seed;
* ablations (four weeks, first seed; with ``--ablations`` only, ~5 min): the
  product with one lever undone;
* time to proof against visit size (issue 21): benchmarks/proof_times.py, three
  seeds of each of 3, 4 and 5 interview days, one and four weeks, with each
  stage's status and gap and the whole process's peak resident size (after the
  cases above; ``--no-proof-times`` leaves benchmarks/proof_times.json as it is).

Every plan any of them returns is checked with planner.check.verify. Times are wall
clock on this machine; the solver runs with 2 workers, not deterministically,
as `planner plan` does by default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

MEMORY_LIMIT_MB = 3072  # a case using more is stopped (the machine is shared)
LABEL = {"example": "example (Tower Hamlets 2018, one week)"}


# ============================================================================
# helpers used by the child processes
# ============================================================================

def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def gap(objective: float | None, bound: float | None) -> float | None:
    """CP-SAT's relative gap: |objective - bound| / max(1, |objective|)."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def proven_terms(weights: dict[str, int], values: dict[str, int], bound: float) -> dict[str, dict]:
    """Which rule terms of the lexicographic objective the bound proves optimal.

    Terms are taken in order of weight. With the terms above fixed at their
    values, the bound minus their weighted values bounds what is left; since
    every lower term together weighs less than one unit of this one (that is
    how soft.weights are built), the term cannot go below
    ceil((left - (weight - 1)) / weight). If that equals its value, the term is
    proven; the first term that is not leaves every term below it unproven."""
    out: dict[str, dict] = {}
    left = bound
    unproven = False
    for name in sorted(weights, key=lambda n: -weights[n]):
        w, v = weights[name], values.get(name, 0)
        least = max(0, math.ceil((left - (w - 1)) / w))
        if unproven:
            out[name] = {"value": v, "proven": False, "least": None}
            continue
        proven = least >= v
        out[name] = {"value": v, "proven": proven, "least": least}
        if not proven:
            unproven = True
        left -= w * v
    return out


def _product_options(time_limit: float, **extra):
    from planner.solve.run import SolveOptions

    return SolveOptions(time_limit=time_limit, workers=2, seed=0, **extra)


def _apply_variant(variant: str):
    """Undo one lever of the product's model (ablation), in this process only."""
    from planner.solve import hard
    from planner.solve import run as solve_module

    extra = {}
    undo = set(variant.split("+")) if variant and variant != "product" else set()
    if "no-hint" in undo or "before" in undo:
        extra["greedy_hint"] = False
    if "probing" in undo or "before" in undo:
        solve_module.PROBING_LIMIT = 10 ** 9
    if "old-caps" in undo or "before" in undo:
        import ablations

        rules = list(hard.HARD_RULES)
        rules[[r.__name__ for r in rules].index("daily_session_caps")] = ablations.daily_session_caps_per_day_literals
        hard.HARD_RULES = tuple(rules)
    return extra


def export_times(visit_dir: Path, visit, plan, runs: int) -> dict:
    """`planner export` of the plan as a user runs it (issue 17): a fresh
    process each run, imports, invites, e-mails, sheets and PDFs included.
    Per run: wall time, CPU (user + sys of the planner and of its PDF
    processes, which load does not inflate as it does wall time) and the
    1-minute load average just before; then the PDFs and their pages."""
    from planner.documents.typesetting import page_count
    from planner.store.planio import write_plan_files

    out: dict = {"runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "plan"
        folder.mkdir()
        write_plan_files(folder, plan, visit)
        command = [sys.executable, "-m", "planner", "export", str(visit_dir), str(folder), "-q",
                   "--now", "2026-05-01T09:00:00Z"]
        for _ in range(runs):
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            out["runs"].append({"wall_s": wall, "cpu_s": cpu, "load": load})
        pdfs = sorted(folder.rglob("*.pdf"))
        out["pdfs"] = len(pdfs)
        out["pages"] = sum(page_count(p.read_bytes()) for p in pdfs)
        out["files"] = sum(1 for p in folder.rglob("*") if p.is_file())
    middle = sorted(out["runs"], key=lambda r: r["wall_s"])[len(out["runs"]) // 2]
    out.update(wall_s=middle["wall_s"], cpu_s=middle["cpu_s"], load=middle["load"])
    return out


def child_product(visit_dir: Path, time_limit: float, variant: str, documents: bool, replan: bool,
                  export: int = 0) -> dict:
    import importlib

    from planner.input.validation import load_visit
    from planner.check.verify import verify

    S = importlib.import_module("planner.solve.run")
    extra = _apply_variant(variant)
    t0 = time.perf_counter()
    visit = load_visit(visit_dir)
    load_s = time.perf_counter() - t0
    events, room_stage = [], []  # room_stage: how many events came before the rooms-and-peers stage
    options = _product_options(time_limit, on_progress=lambda e, o, b: events.append((e, o, b)),
                               on_phase=lambda name: room_stage.append(len(events)) if name == "rooms" else None,
                               **extra)
    t1 = time.perf_counter()
    outcome = S.solve_model(visit, options)
    events = events[:room_stage[0]] if room_stage else events  # the main stage's progress
    total_s = time.perf_counter() - t1
    build_s = outcome.timings["build_seconds"]
    out = {"load_s": load_s, "build_s": build_s, "status": outcome.status, "time_limit": time_limit,
           "variant": variant, "solve_s": outcome.timings["solve_seconds"], "wall_s": total_s,
           "booleans": None}
    stats = outcome.pm.model.Proto()
    out["variables"] = len(stats.variables)
    out["constraints"] = len(stats.constraints)
    w_must = outcome.weights["must_sessions_scheduled_once"]
    valid = [(e, o, b) for e, o, b in events if o < w_must]
    out["first_solution_s"] = build_s + events[0][0] if events else None
    out["first_valid_s"] = build_s + valid[0][0] if valid else None
    out["within_1pct_s"] = next((build_s + e for e, o, b in valid if gap(o, b) <= 0.01), None)
    out["rss_solve_mb"] = rss_mb()
    if outcome.status in ("OPTIMAL", "FEASIBLE"):
        solver = outcome.solver
        # the main stage's objective and bound; soft rules 7 and 8 come in a stage of their own
        main = outcome.stages[0]
        objective, bound = main["objective"], main["bound"]
        values = {n: int(solver.Value(e)) if not isinstance(e, int) else e for n, (e, _b) in outcome.pm.terms.items()}
        main_weights = {n: w for n, w in outcome.weights.items() if n in main["rules"]}
        out.update(objective=objective, bound=bound, gap=gap(objective, bound), terms=values,
                   weights=outcome.weights, proof=proven_terms(main_weights, values, bound),
                   room_stage=outcome.stages[-1])
        if out["status"] == "OPTIMAL":
            out["optimal_s"] = build_s + outcome.timings["solve_seconds"]
            if out["within_1pct_s"] is None:
                out["within_1pct_s"] = out["optimal_s"]
        plan = S.extract(outcome, options)
        breaches = verify(visit, plan)
        out["breaches"] = [str(b) for b in breaches]
        out["must_left_out"] = values.get("must_sessions_scheduled_once", 0)
        if documents:
            from planner.orchestrate.documents import write_documents
            from planner.documents.render import pdf_workers
            from planner.store.planio import write_plan_files

            with tempfile.TemporaryDirectory() as tmp:
                t2 = time.perf_counter()
                cpu = time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
                write_plan_files(Path(tmp), plan, visit)
                write_documents(Path(tmp), visit, plan)
                out["documents_s"] = time.perf_counter() - t2
                # CPU of this process and of the PDF processes it forked (reaped by now): the
                # documents' cost whatever the load of the machine
                out["documents_cpu_s"] = (time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
                                          - cpu)
                out["documents_files"] = sum(1 for p in Path(tmp).rglob("*") if p.is_file())
                out["pdf_workers"] = pdf_workers(10 ** 6)
            if export:
                out["export"] = export_times(visit_dir, visit, plan, export)
        if replan:
            out["replan"] = _replan(visit_dir, visit, plan, time_limit)
    out["rss_mb"] = rss_mb()
    out["rss_children_mb"] = children_rss_mb()
    return out


def one_change(visit_dir: Path, visit, plan, into: Path) -> tuple[Path, str]:
    """A copy of the visit with one change: an attendee of a session on the
    second day becomes unavailable at the time of that session (the kind of
    late change a strategy team re-plans for)."""
    import csv

    days = visit.settings.interview_days
    day = days[1] if len(days) > 1 else days[0]
    protected = set(visit.settings.debrief_attendees)
    candidates = sorted((i for i in plan.sessions if i.start.date() == day and i.attendee_ids),
                        key=lambda i: (i.start, i.item_id))
    for item in candidates:
        person = next((a for a in item.attendee_ids if a not in protected), None)
        if person is None:
            continue
        shutil.copytree(visit_dir, into)
        path = into / "people.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
            columns = list(rows[0].keys())
        if "unavailable" not in columns:
            columns.append("unavailable")
        window = f"{item.start:%Y-%m-%d %H:%M}-{item.end:%H:%M}"
        for row in rows:
            if row["id"] == person:
                row["unavailable"] = ";".join(x for x in ((row.get("unavailable") or ""), window) if x)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return into, f"{person} becomes unavailable {window} (during {item.item_id})"
    raise RuntimeError("no session to change")


def _replan(visit_dir: Path, visit, plan, time_limit: float) -> dict:
    from planner.orchestrate import replan_plan
    from planner.input.validation import load_visit
    from planner.check.verify import verify

    with tempfile.TemporaryDirectory() as tmp:
        changed, what = one_change(visit_dir, visit, plan, Path(tmp) / "changed")
        t0 = time.perf_counter()
        new_visit = load_visit(changed)
        t1 = time.perf_counter()
        new_plan = replan_plan(new_visit, plan, _product_options(time_limit))
        t2 = time.perf_counter()
    before = {i.item_id: i for i in plan.sessions}
    moved = sum(1 for i in new_plan.sessions if i.item_id in before and
                (before[i.item_id].start, before[i.item_id].room_id, before[i.item_id].peer_ids)
                != (i.start, i.room_id, i.peer_ids))
    return {"change": what, "load_s": t1 - t0, "replan_s": t2 - t1, "moved": moved,
            "status": new_plan.meta.get("solver", {}).get("status"),
            "kept_days_untouched": new_plan.meta.get("replan", {}).get("kept_days_untouched"),
            "breaches": [str(b) for b in verify(new_visit, new_plan)]}


def score(visit, plan, time_limit: float = 30.0) -> dict:
    """The product's objective for a given plan: the product's model with every
    session fixed where the plan has it (lunches left to the solver)."""
    import importlib

    from ortools.sat.python import cp_model

    S = importlib.import_module("planner.solve.run")
    pm, weights = S.build_model(visit, _product_options(time_limit, greedy_hint=False))
    held = {i.item_id: i for i in plan.sessions}
    for sid, sv in pm.sessions.items():
        item = held.get(sid)
        if item is None:
            pm.model.Add(sv.present == 0)
            continue
        pm.model.Add(sv.present == 1)
        pm.model.Add(sv.start == pm.t(item.start))
        for rid, lit in sv.room.items():
            pm.model.Add(lit == int(rid == item.room_id))
        for pid, lit in sv.peer.items():
            pm.model.Add(lit == int(pid in item.peer_ids))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    status = solver.Solve(pm.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": solver.StatusName(status)}
    values = {n: int(solver.Value(e)) if not isinstance(e, int) else e for n, (e, _b) in pm.terms.items()}
    return {"status": solver.StatusName(status), "objective": solver.ObjectiveValue(), "terms": values}


def child_greedy(visit_dir: Path, time_limit: float) -> dict:
    import greedy

    from planner.input.validation import load_visit

    visit = load_visit(visit_dir)
    r = greedy.run(visit)
    out = {"seconds": r.seconds, "placed": r.placed, "sessions": r.sessions, "must_placed": r.must_placed,
           "musts": r.musts, "should_placed": r.should_placed, "shoulds": r.shoulds,
           "other_breaches": [str(b) for b in r.other_breaches], "rss_mb": rss_mb()}
    out["score"] = score(visit, r.plan)
    return out


def child_alternative(visit_dir: Path, time_limit: float, progress: Path | None = None) -> dict:
    import alternative

    from ortools.sat.python import cp_model

    from planner.solve.greedy import greedy_plan
    from planner.input.validation import load_visit
    from planner.check.verify import verify

    import importlib

    S = importlib.import_module("planner.solve.run")
    visit = load_visit(visit_dir)
    _pm, weights = S.build_model(visit, _product_options(time_limit, greedy_hint=False))  # the same objective
    del _pm
    t0 = time.perf_counter()
    try:
        tm = alternative.build(visit, deadline=t0 + time_limit, weights=weights)
    except alternative.BuildTimeout:
        return {"build_timeout": True, "build_s": time.perf_counter() - t0, "rss_mb": rss_mb(),
                "time_limit": time_limit}
    alternative.add_hint(tm, greedy_plan(visit))
    build_s = time.perf_counter() - t0
    proto = tm.model.Proto()
    out = {"build_s": build_s, "booleans": tm.booleans, "variables": len(proto.variables),
           "constraints": len(proto.constraints), "rss_build_mb": rss_mb(), "time_limit": time_limit}
    if progress is not None:  # what the parent reports if it has to stop this process
        progress.write_text(json.dumps(out), encoding="utf-8")
    events = []

    class Callback(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.t = time.perf_counter()

        def on_solution_callback(self):
            events.append((time.perf_counter() - self.t, self.ObjectiveValue(), self.BestObjectiveBound()))

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers, p.random_seed, p.max_time_in_seconds = 2, 0, time_limit
    if sum(len(tv.peer) for tv in tm.sessions.values()) > S.PROBING_LIMIT:  # the product's rule, same levers
        p.cp_model_probing_level = 0
    status = solver.Solve(tm.model, Callback())
    out["status"] = solver.StatusName(status)
    out["solve_s"] = solver.WallTime()
    w_must = weights["must_sessions_scheduled_once"]
    valid = [(e, o, b) for e, o, b in events if o < w_must]
    out["first_solution_s"] = build_s + events[0][0] if events else None
    out["first_valid_s"] = build_s + valid[0][0] if valid else None
    out["within_1pct_s"] = next((build_s + e for e, o, b in valid if gap(o, b) <= 0.01), None)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        objective, bound = solver.ObjectiveValue(), solver.BestObjectiveBound()
        values = {n: int(solver.Value(e)) if not isinstance(e, int) else e for n, (e, _b) in tm.terms.items()}
        out.update(objective=objective, bound=bound, gap=gap(objective, bound), terms=values,
                   must_left_out=values.get("must_sessions_scheduled_once", 0))
        if status == cp_model.OPTIMAL:
            out["optimal_s"] = build_s + solver.WallTime()
            if out["within_1pct_s"] is None:
                out["within_1pct_s"] = out["optimal_s"]
        plan = alternative.extract(tm, solver)
        out["breaches"] = [str(b) for b in verify(visit, plan)]
    out["rss_mb"] = rss_mb()
    return out


def child_main(args) -> None:
    visit_dir, limit = Path(args.visit), args.time_limit
    if args.child == "product":
        result = child_product(visit_dir, limit, args.variant, args.documents, args.replan, args.export)
    elif args.child == "greedy":
        result = child_greedy(visit_dir, limit)
    elif args.child == "alternative":
        result = child_alternative(visit_dir, limit, Path(args.result + ".partial"))
    else:
        raise SystemExit(f"unknown child {args.child}")
    Path(args.result).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


# ============================================================================
# the parent: run every case in its own process, then write RESULTS.md
# ============================================================================

def run_child(mode: str, visit_dir: Path, time_limit: float, *, variant: str = "product",
              documents: bool = False, replan: bool = False, export: int = 0, log=print) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--visit", str(visit_dir),
               "--time-limit", str(time_limit), "--result", str(result), "--variant", variant]
        if documents:
            cmd.append("--documents")
        if replan:
            cmd.append("--replan")
        if export:
            cmd += ["--export", str(export)]
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        peak, killed = 0.0, None
        deadline = started + 4 * time_limit + 300
        while process.poll() is None:
            rss = _rss_of(process.pid)
            peak = max(peak, rss)
            if rss > MEMORY_LIMIT_MB:
                killed = f"stopped: more than {MEMORY_LIMIT_MB} MB resident"
                process.kill()
            elif time.perf_counter() > deadline:
                killed = "stopped: ran far past its time limit"
                process.kill()
            time.sleep(0.2)
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        if killed or process.returncode != 0 or not result.exists():
            log(f"    {mode} {variant}: failed ({killed or process.returncode}) {stderr[-2000:]}")
            partial = Path(str(result) + ".partial")
            data = json.loads(partial.read_text(encoding="utf-8")) if partial.exists() else {}
            data.update({"failed": killed or f"exit {process.returncode}: {stderr.strip().splitlines()[-1:]}",
                         "rss_mb": peak, "process_wall_s": wall, "time_limit": time_limit})
            return data
        data = json.loads(result.read_text(encoding="utf-8"))
        data["process_wall_s"] = wall
        data["rss_polled_mb"] = peak
        return data


def _rss_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine() -> dict:
    import ortools

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "planner"], capture_output=True,
                               text=True, cwd=ROOT).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram, "python": platform.python_version(),
            "ortools": ortools.__version__, "platform": platform.platform(), "commit": commit,
            "dirty": bool(dirty), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": os.getloadavg() if hasattr(os, "getloadavg") else None}


def visit_stats(visit) -> dict:
    return {"sessions": len(visit.sessions), "must": sum(s.must for s in visit.sessions),
            "should": sum(not s.must for s in visit.sessions),
            "focus_groups": sum(s.kind == "focus_group" for s in visit.sessions),
            "site_visits": sum(s.kind == "site_visit" for s in visit.sessions),
            "peers": len(visit.peers), "rooms": sum(r.kind != "office" for r in visit.rooms),
            "days": len(visit.settings.interview_days), "people": len(visit.people),
            "required": sum(bool(s.required_peers) for s in visit.sessions),
            "peers_partly_away": sum(bool(p.unavailable) for p in visit.peers)}


def plan_cases(quick: bool, ablations: bool = False) -> list[dict]:
    if quick:
        return [dict(name="example", size=None, seed=None, limit=20, alternative=True, documents=True,
                     replan=True, export=1),
                dict(name="tiny #1", size="tiny", seed=1, limit=10, alternative=True, documents=False,
                     replan=True)]
    return [
        dict(name="example", size=None, seed=None, limit=60, alternative=True, documents=True, replan=True,
             repeat=3, export=5),
        dict(name="one-week #1", size="one-week", seed=1, limit=60, alternative=True, documents=True,
             replan=True, repeat=3),
        dict(name="four-days (example + 1 day)", size="example-days:4", seed=None, limit=60, alternative=False,
             documents=False, replan=False, repeat=3),
        dict(name="two-weeks #1", size="two-weeks", seed=1, limit=60, alternative=True, documents=True,
             replan=True),
        dict(name="four-weeks #1", size="four-weeks", seed=1, limit=60, alternative=True, documents=True,
             replan=True, ablations=("before", "no-hint", "probing", "old-caps") if ablations else (), export=3),
        dict(name="four-weeks #2", size="four-weeks", seed=2, limit=60, alternative=False, documents=False,
             replan=False),
        dict(name="four-weeks #3", size="four-weeks", seed=3, limit=60, alternative=False, documents=False,
             replan=False),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write RESULTS.md")
    parser.add_argument("--out", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: the example and a tiny visit")
    parser.add_argument("--json", help="also write the raw measurements here (default: beside --out, "
                                       "results.json)")
    parser.add_argument("--only", help="comma-separated case names to run (default: all)")
    parser.add_argument("--render", metavar="JSON", help="only write --out again from the results.json of a run")
    parser.add_argument("--ablations", action="store_true", help="also the four-week ablations (~5 min more)")
    parser.add_argument("--no-proof-times", action="store_true",
                        help="skip benchmarks/proof_times.py (time to proof against size, ~6 min)")
    # child mode (internal)
    parser.add_argument("--child")
    parser.add_argument("--visit")
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--result")
    parser.add_argument("--variant", default="product")
    parser.add_argument("--documents", action="store_true")
    parser.add_argument("--replan", action="store_true")
    parser.add_argument("--export", type=int, default=0, help="time `planner export` of the plan this many times")
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
        return
    if args.render:
        data = json.loads(Path(args.render).read_text(encoding="utf-8"))
        Path(args.out).write_text(render(data["machine"], data["results"], data["machine"].get("quick", False)),
                                  encoding="utf-8")
        return

    from generate import generate

    from planner.input.validation import load_visit

    cases = plan_cases(args.quick, args.ablations)
    if args.only:
        wanted = {x.strip() for x in args.only.split(",")}
        cases = [c for c in cases if c["name"] in wanted]
    info = machine()
    started = time.perf_counter()
    print(f"benchmarks on {info['cpu']} ({info['cores']} cores), ortools {info['ortools']}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        for case in cases:
            if case["size"] is None:
                folder = ROOT / "inputs" / "tower-hamlets-2018"
            elif case["size"].startswith("example-days:"):  # the example stretched (issue 21)
                import example_days

                folder = example_days.write(int(case["size"].split(":")[1]), Path(tmp) / "example-days")
            else:
                folder = Path(tmp) / case["name"].replace(" ", "").replace("#", "-")
                generate(case["size"], case["seed"], folder)
            visit = load_visit(folder)
            entry = {"case": case, "stats": visit_stats(visit)}
            print(f"  {case['name']}: {entry['stats']['sessions']} sessions", flush=True)
            runs = [run_child("product", folder, case["limit"], documents=case["documents"], replan=case["replan"],
                              export=case.get("export", 0) if k == 0 else 0)
                    for k in range(case.get("repeat", 1))]
            timed = next((x["export"] for x in runs if x.get("export")), None)
            if timed:
                print(f"    planner export: {timed['wall_s']:.2f} s wall, {timed['cpu_s']:.2f} s CPU, "
                      f"{timed['pages']} PDF pages", flush=True)
            for one in runs:
                _say("product", one)
            # the run with the median end-to-end time stands for the case; all are kept
            entry["product"] = sorted(runs, key=_end_to_end)[len(runs) // 2]
            entry["product_runs"] = runs
            entry["greedy"] = run_child("greedy", folder, case["limit"])
            print(f"    greedy: {entry['greedy'].get('must_placed')}/{entry['greedy'].get('musts')} must placed",
                  flush=True)
            if case.get("alternative"):
                entry["alternative"] = run_child("alternative", folder, case["limit"])
                _say("time-indexed", entry["alternative"])
            entry["ablations"] = {}
            for variant in case.get("ablations", ()):
                entry["ablations"][variant] = run_child("product", folder, case["limit"], variant=variant)
                _say(f"ablation {variant}", entry["ablations"][variant])
            results.append(entry)
    if not args.only or "board" in {x.strip() for x in args.only.split(",")}:
        import web as board_bench  # benchmarks/web.py: the planning board (issue 12)

        print("  planning board: page render and a move's verdict", flush=True)
        info["board"] = board_bench.run()
    if not (args.quick or args.only or args.no_proof_times):
        import proof_times  # benchmarks/proof_times.py: time to proof against size, three seeds (issue 21)

        print("  time to proof against visit size (benchmarks/proof_times.py)", flush=True)
        proof_times.main([])
    info["bench_minutes"] = (time.perf_counter() - started) / 60
    info["quick"] = args.quick
    info["load_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    json_path = args.json or str(Path(args.out).with_name("results.json"))
    if json_path:
        Path(json_path).write_text(json.dumps({"machine": info, "results": results}, indent=1, default=str),
                                   encoding="utf-8")
    Path(args.out).write_text(render(info, results, args.quick), encoding="utf-8")
    print(f"wrote {args.out} in {info['bench_minutes']:.1f} min", flush=True)


def _end_to_end(r: dict) -> float:
    """Load + build + solve (to optimal, or the limit) + documents, for picking the median run."""
    if r.get("failed"):
        return math.inf
    solve = r.get("optimal_s") if r.get("optimal_s") is not None else r.get("wall_s", 0)
    return r.get("load_s", 0) + solve + (r.get("documents_s") or 0)


def _say(what: str, r: dict) -> None:
    if r.get("failed"):
        print(f"    {what}: {r['failed']}", flush=True)
        return
    print(f"    {what}: status {r.get('status')}, first valid {_s(r.get('first_valid_s'))}, "
          f"gap {_pct(r.get('gap'))}, rss {r.get('rss_polled_mb', 0):.0f} MB", flush=True)


# ============================================================================
# RESULTS.md
# ============================================================================

def _s(x, digits=1) -> str:
    if x is None:
        return "—"
    if x < 0.095:
        return f"{1000 * x:.0f} ms"
    return f"{x:.{digits}f} s"


def _pct(x) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "0 %"
    return f"{100 * x:.2g} %" if x < 0.01 else f"{100 * x:.1f} %"


def _mb(r: dict) -> str:
    values = [r.get(k) for k in ("rss_mb", "rss_polled_mb") if r.get(k)]
    return f"{max(values):.0f} MB" if values else "—"


TERM_NAMES = {
    "must_sessions_scheduled_once": "must left out",
    "fewest_sessions_moved": "moved",
    "should_sessions_scheduled": "should left out",
    "peers_matched_to_themes": "peers off theme",
    "member_peer_with_councillors": "councillor sessions without a member peer",
    "balanced_load": "busiest peer's sessions",
    "short_days_for_people": "people's idle slots",
    "right_sized_rooms": "empty seats",
    "peers_stay_put": "peers' room changes",
}


def _proof(r: dict) -> str:
    if r.get("status") == "OPTIMAL":
        return "all proven"
    proof = r.get("proof") or {}
    open_terms = [f"{TERM_NAMES.get(n, n)} ({p['value']}" + (f", bound ≥ {p['least']})" if p["least"] is not None
                                                              else ")")
                  for n, p in proof.items() if not p["proven"]]
    return "unproven: " + "; ".join(open_terms) if open_terms else "—"


def _solver_cell(r: dict | None) -> list[str]:
    if not r:
        return ["not run"] * 7
    if r.get("failed"):
        built = _s(r.get("build_s"), 2) if r.get("build_s") is not None else "—"
        return [built, f"none: {r['failed']} after {_s(r.get('process_wall_s'))}", "—", "—", "—", _mb(r), "—"]
    if r.get("build_timeout"):
        return [f"> {r['time_limit']:.0f} s (stopped)", "none", "—", "—", "—", _mb(r), "—"]
    placed = "—"
    if "terms" in r:
        placed = "all must" if not r.get("must_left_out") else f"{r['must_left_out']} must left out"
    breaches = r.get("breaches")
    others = [b for b in breaches or () if not b.startswith("rule 1:")]
    if breaches is None:
        checked = "—"
    elif len(others) < len(breaches):  # must sessions left out (rule 1): say what else the checker found
        checked = f"{len(others)} breaches besides must left out"
    else:
        checked = f"{len(breaches)} breaches"
    if r.get("status") == "OPTIMAL":
        final = f"optimal at {_s(r.get('optimal_s'))}"
    elif r.get("status") == "UNKNOWN":
        final = f"no plan in {r.get('time_limit', 0):.0f} s"
    else:
        final = f"{r.get('status')}, gap {_pct(r.get('gap'))}"
    return [_s(r.get("build_s"), 2), _s(r.get("first_valid_s"), 2), _s(r.get("within_1pct_s")), final,
            placed, _mb(r), checked]


def render(info: dict, results: list[dict], quick: bool) -> str:
    lines = ["# Benchmarks", ""]
    lines += [
        "Written by `make bench` (`benchmarks/run.py`)" + (" in `--quick` mode (smoke run, short limits)" if quick
                                                          else "") + ". Do not edit by hand.",
        "",
        f"- Date: {info['date']}",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']:.1f} GB RAM ({info['platform']})"
        if info.get("ram_gb") else f"- Machine: {info['cpu']}, {info['cores']} cores",
        f"- Versions: Python {info['python']}, OR-Tools {info['ortools']}; planner at commit {info['commit']}"
        + (" with uncommitted changes" if info.get("dirty") else ""),
        f"- Load average before / after: {_load(info.get('load'))} / {_load(info.get('load_after'))} "
        "(other work on the machine slows the wall-clock times below)",
        f"- Whole run: {info.get('bench_minutes', 0):.1f} min. Solver: CP-SAT, 2 workers, seed 0, not "
        "deterministic (as `planner plan` by default); every case in its own process.",
        "",
    ]
    lines += _targets(results)
    lines += _per_size(results)
    lines += _side_by_side(results)
    lines += _ablations(results)
    lines += _board(info.get("board"))
    lines += _proof_times()
    lines += _method()
    return "\n".join(lines) + "\n"


def _proof_times() -> list[str]:
    """Time to proof against visit size (issue 21), from benchmarks/proof_times.json when it exists
    (benchmarks/proof_times.py writes it: three seeds a case take longer than the rest of the bench)."""
    import proof_times

    if not proof_times.OUT.exists():
        return []
    return proof_times.render(json.loads(proof_times.OUT.read_text(encoding="utf-8"))).splitlines() + [""]


def _board(board) -> list[str]:
    """The planning board (issue 12): targets 200 ms a board page, 100 ms a move's verdict at four weeks."""
    if not board:
        return []
    out = ["## The planning board (issue 12)", "",
           "Median of 7 runs each, in-process through Starlette's TestClient (benchmarks/web.py). Targets for "
           "four weeks: a board page in at most 200 ms, a move's verdict in at most 100 ms.", "",
           "| case | sessions | board page (busiest day) | move's verdict (checker) | move page (verdict included) "
           "| visit page (sessions, page 2; target 500 ms) |",
           "|---|---|---|---|---|---|"]
    for r in board:
        out.append(f"| {r['case']} | {r['sessions']} | {r['board_ms']} ms | {r['verdict_ms']} ms | "
                   f"{r['move_page_ms']} ms | {r.get('visit_page_ms', '—')} ms |")
    return out + [""]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _load(load) -> str:
    return "—" if not load else ", ".join(f"{x:.1f}" for x in load)


def _find(results, name):
    return next((r for r in results if r["case"]["name"] == name), None)


def _targets(results) -> list[str]:
    out = ["## Targets (issues 5, 8 and 17)", "", "| target | measured | met |", "|---|---|---|"]

    def row(target, measured, ok):
        out.append(f"| {target} | {measured} | {'yes' if ok else ('**no**' if ok is False else '—')} |")

    ex = _find(results, "example")
    if ex and not ex["product"].get("failed"):
        p = ex["product"]
        solve_part = (p["load_s"] + p["optimal_s"]) if p.get("optimal_s") is not None else None
        docs = p.get("documents_s")
        total = solve_part + docs if solve_part is not None and docs is not None else None
        runs = [x for x in ex.get("product_runs", [p]) if not x.get("failed")]
        spread = ""
        if len(runs) > 1:
            totals = sorted(_end_to_end(x) for x in runs)
            spread = (f"; median of {len(runs)} runs, all: " + ", ".join(_s(x, 1) for x in totals))
        measured = (f"load {_s(p['load_s'], 2)} + build and prove optimal {_s(p.get('optimal_s'), 2)} + documents "
                    f"{_s(docs, 2)} ({p.get('documents_files', 0)} files; {_s(p.get('documents_cpu_s'), 1)} of CPU) "
                    f"= **{_s(total, 1)}**{spread}")
        row("example one-week visit proven optimal and every document written ≤ 5 s (issue 5)", measured,
            total is not None and total <= 5)
        row("example: the plan with every document ≤ 3 s (issue 8)", measured, total is not None and total <= 3)
    for r in results:
        timed = _export_of(r)
        if timed and r["case"]["name"] in ("example", "four-weeks #1"):
            limit = 1 if r["case"]["name"] == "example" else 4
            row(f"{r['case']['name']}: `planner export` ≤ {limit} s on a quiet machine (issue 17)",
                _export_words(timed), timed["wall_s"] <= limit)
    fours = [r for r in results if r["case"]["size"] == "four-weeks"]
    for r in fours:
        p = r["product"]
        if p.get("failed"):
            row(f"{r['case']['name']}: first valid plan ≤ 10 s", p["failed"], False)
            continue
        first = p.get("first_valid_s")
        row(f"{r['case']['name']}: first valid plan ≤ 10 s", f"{_s(first, 1)} (build {_s(p['build_s'], 1)} "
            f"included)", first is not None and first <= 10)
        g = p.get("gap")
        row(f"{r['case']['name']}: within 1 % of the best bound by 60 s",
            f"gap {_pct(g)} at the {p['time_limit']:.0f} s limit; ≤ 1 % from {_s(p.get('within_1pct_s'))}",
            g is not None and g <= 0.01 and p["time_limit"] <= 60)
        mem = max(p.get("rss_mb") or 0, p.get("rss_polled_mb") or 0)
        row(f"{r['case']['name']}: peak memory < 1 GB", f"{mem:.0f} MB", mem < 1024)
        if p.get("documents_s") is not None:
            row(f"{r['case']['name']}: every document ≤ 10 s (issue 8)",
                f"**{_s(p['documents_s'], 1)}** ({p.get('documents_files', 0)} files; "
                f"{_s(p.get('documents_cpu_s'), 1)} of CPU on {p.get('pdf_workers', 2)} PDF processes and this one)",
                p["documents_s"] <= 10)
    for r in results:
        if r["case"]["size"] in (None, "one-week", "tiny") and r["product"].get("replan"):
            rp = r["product"]["replan"]
            others = [x["replan"]["replan_s"] for x in r.get("product_runs", []) if x.get("replan")]
            spread = f"; every run: {', '.join(_s(x, 2) for x in sorted(others))}" if len(others) > 1 else ""
            row(f"{r['case']['name']}: replan after one change ≤ 2 s",
                f"**{_s(rp['replan_s'], 2)}** ({rp['change']}; {_n(rp['moved'], 'session')} moved; "
                f"{len(rp['breaches'])} breaches{spread})",
                max([rp["replan_s"], *others]) <= 2 and not rp["breaches"])
    out.append("")
    return out


def _export_of(r: dict) -> dict | None:
    """The `planner export` timings of a case (measured after its first product run)."""
    return next((x["export"] for x in r.get("product_runs", [r.get("product", {})]) if x.get("export")), None)


def _export_words(timed: dict) -> str:
    runs = timed["runs"]
    def load(x) -> str:
        return "—" if x is None else f"{x:.1f}"

    every = ", ".join(f"{x['wall_s']:.2f} s ({x['cpu_s']:.2f} s CPU, load {load(x['load'])})" for x in runs)
    return (f"**{timed['wall_s']:.2f} s** wall, {timed['cpu_s']:.2f} s of CPU (user + sys, its PDF processes "
            f"included), load {load(timed['load'])} before; {timed['pdfs']} PDFs, {timed['pages']} pages, "
            f"{timed['files']} files" + (f"; median of {len(runs)} runs: {every}" if len(runs) > 1 else ""))


def _per_size(results) -> list[str]:
    out = ["## The product at each size", "",
           "Times from the start of model building (the greedy hint included) unless said otherwise; "
           "*load* reads and validates the input folder. *≤ 1 %* is the first solution whose gap "
           "|objective − bound| / |objective| was at most 1 % when it was found. *Peak memory* is the "
           "planning process's peak resident set (PDF rendering runs in child processes, listed apart).",
           "",
           "| case | sessions (must/should, focus groups, site visits) | peers | rooms | days | people | load | build | "
           "first valid plan | ≤ 1 % | optimal / gap at limit | rule terms | documents | peak memory | "
           "replan after one change |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        st, p = r["stats"], r["product"]
        name = LABEL.get(r["case"]["name"], r["case"]["name"])
        sizes = (f"{st['sessions']} ({st['must']}/{st['should']}, {st['focus_groups']}, {st['site_visits']})")
        if p.get("failed"):
            out.append(f"| {name} | {sizes} | {st['peers']} | {st['rooms']} | {st['days']} | {st['people']} | "
                       f"{p['failed']} |||||||||")
            continue
        final = (f"optimal, {_s(p.get('optimal_s'))}" if p["status"] == "OPTIMAL"
                 else f"{p['status']}: gap {_pct(p.get('gap'))} at {p['time_limit']:.0f} s")
        docs = (f"{_s(p['documents_s'])} ({p['documents_files']} files)" if p.get("documents_s") is not None
                else "not run")
        rp = p.get("replan")
        replan = (f"{_s(rp['replan_s'], 2)}, {rp['moved']} moved, {len(rp['breaches'])} breaches"
                  + ("" if rp.get("kept_days_untouched") else " (whole visit)") if rp else "not run")
        mem = f"{p.get('rss_mb', 0):.0f} MB" + (f" (PDF workers {p['rss_children_mb']:.0f} MB)"
                                                 if p.get("rss_children_mb") else "")
        out.append(f"| {name} | {sizes} | {st['peers']} | {st['rooms']} | {st['days']} | {st['people']} | "
                   f"{_s(p['load_s'], 2)} | {_s(p['build_s'], 2)} | {_s(p.get('first_valid_s'), 2)} | "
                   f"{_s(p.get('within_1pct_s'))} | {final} | {_proof(p)} | {docs} | {mem} | {replan} |")
    out.append("")
    for r in results:
        p = r["product"]
        if p.get("breaches"):
            out.append(f"- **{r['case']['name']}: the checker found breaches in the product's plan:** "
                       + "; ".join(p["breaches"][:5]))
    out.append("")
    return out


def _side_by_side(results) -> list[str]:
    out = ["## Side by side: product, rejected formulation, greedy baseline", "",
           "Same visit, same time limit, same hint, 2 workers each. *Product*: one start variable and "
           "optional intervals per session, a NoOverlap per room, person and peer (planner/model). "
           "*Time-indexed*: a Boolean per (session, start, room) and per (session, start, peer), an "
           "AtMostOne per resource and moment (benchmarks/alternative.py). *Greedy*: first fit in file "
           "order, no solver (benchmarks/greedy.py); its objective is the product's objective of its plan.",
           "",
           "| case | model | build | first valid plan | ≤ 1 % | final | placed | peak memory | checker |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        name = r["case"]["name"]
        p = r["product"]
        cells = _solver_cell(p)
        size = (f"{p.get('variables', '?')} variables, {p.get('constraints', '?')} constraints"
                if not p.get("failed") else "")
        out.append(f"| {name} | product ({size}) | " + " | ".join(cells) + " |")
        a = r.get("alternative")
        if a is not None:
            size = (f"{a.get('booleans')} Booleans, {a.get('constraints')} constraints"
                    if a.get("booleans") else "")
            out.append(f"| {name} | time-indexed ({size}) | " + " | ".join(_solver_cell(a)) + " |")
        g = r.get("greedy")
        if g and not g.get("failed"):
            sc = g.get("score", {})
            objective = sc.get("objective")
            ref = p.get("objective")
            versus = (f"objective {objective:.4g}" + (f" ({objective / ref:.2f}× the product's)" if ref else "")
                      if objective is not None else "objective —")
            checked = "0 breaches" if not g["other_breaches"] else f"{len(g['other_breaches'])} breaches"
            out.append(f"| {name} | greedy first fit | — | {_s(g['seconds'], 2)} (plan) | — | {versus} | "
                       f"{g['must_placed']}/{g['musts']} must, {g['should_placed']}/{g['shoulds']} should | "
                       f"{_mb(g)} | {checked} besides must left out |")
    out.append("")
    out.append("Rule terms of the final plans (lower is better; order = priority):")
    out.append("")
    header = ["case", "model"] + [TERM_NAMES[n] for n in TERM_NAMES if n != "fewest_sessions_moved"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for r in results:
        for label, data in (("product", r["product"]), ("time-indexed", r.get("alternative")),
                            ("greedy", (r.get("greedy") or {}).get("score"))):
            if not data or "terms" not in data:
                continue
            out.append(f"| {r['case']['name']} | {label} | " + " | ".join(
                str(data["terms"].get(n, "—")) for n in TERM_NAMES if n != "fewest_sessions_moved") + " |")
    out.append("")
    return out


def _ablations(results) -> list[str]:
    rows = [(r, v, a) for r in results for v, a in r.get("ablations", {}).items()]
    if not rows:
        return []
    names = {"before": "before: all three levers undone (the model as it was)",
             "no-hint": "without the greedy hint", "probing": "with presolve probing kept on",
             "old-caps": "daily caps as one literal per (session, peer, day)"}
    out = ["## Levers, measured (each undone on its own)", "",
           "| case | model | build | first valid plan | ≤ 1 % | final | placed | peak memory | checker |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r, v, a in rows:
        out.append(f"| {r['case']['name']} | {names.get(v, v)} | " + " | ".join(_solver_cell(a)) + " |")
        if v == rows[0][1]:
            pass
    for r in {id(r): r for r, _, _ in rows}.values():
        out.append(f"| {r['case']['name']} | product (all levers) | " + " | ".join(_solver_cell(r["product"]))
                   + " |")
    out.append("")
    return out


def _method() -> list[str]:
    return ["## How it is measured", "",
            "- Visits: `benchmarks/generate.py` plants a complete schedule that keeps every hard rule, then "
            "writes the visit's constraints around it (days, windows, fixed starts and rooms, `after`, "
            "required peers, people's and rooms' unavailability); peers' partial availability is drawn "
            "first and planted around. The planted plan passes the checker, so every visit is feasible; "
            "the solver never sees it. About 80 % of rooms, peers' daily caps and the daily cap are used.",
            "- *First valid plan*: the first solution with every `must` session placed (the objective "
            "below the weight of one left-out `must` session).",
            "- *Gap*: as CP-SAT reports it, |objective − bound| / |objective|. The objective is lexicographic "
            "(planner/model/soft.py weights), so a gap is read term by term: *rule terms* lists the terms "
            "the bound does not prove optimal, with the least value the bound allows.",
            "- *Documents*: `planio.write_plan_files` and `exporters.write_documents` into a temporary "
            "folder (schedule, JSON, agendas, invites, e-mails, briefing packs, PDFs).",
            "- *Replan*: an attendee of a session on the second day becomes unavailable at that time; "
            "`planner.orchestrate.replan_plan` re-plans from the previous plan (days the change does not touch "
            "kept). Timed from the loaded, changed visit to the new plan; the new plan is checked.",
            "- *Peak memory*: each case runs in its own process; the process's own peak RSS "
            "(`getrusage`), and the parent polls RSS and stops a case above "
            f"{MEMORY_LIMIT_MB} MB.",
            ""]


if __name__ == "__main__":
    main()
