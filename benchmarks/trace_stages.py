"""How each stage's bound moves, term by term (issue 21, item 1).

    python benchmarks/trace_stages.py VISIT [--seed 1] [--time-limit 120] [--workers 2]

plans VISIT (a folder or a generated size: ``example-days:4``, ``four-weeks:1``)
and prints, per stage and step, each soft term's value in the best plan and when
the bound proved it: the term whose bound stays below its value while the
plan no longer improves is what resists. The objective of a stage is
lexicographic (soft.weights), so an objective decodes into its terms exactly
and a bound into the least value each term can still take (proven_terms).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from run import proven_terms  # noqa: E402  (benchmarks/run.py)


def decode(weights: dict[str, int], names: list[str], objective: float) -> dict[str, int]:
    """A lexicographic objective's value of each term (the weights make it unique)."""
    out, left = {}, int(round(objective))
    for name in sorted(names, key=lambda n: -weights[n]):
        out[name], left = divmod(left, weights[name])
    return out


def visit_folder(spec: str, into: Path) -> Path:
    """A folder as is, or ``example-days:N`` / ``SIZE:SEED`` written into `into`."""
    if ":" not in spec:
        return Path(spec)
    kind, n = spec.split(":")
    if kind == "example-days":
        import example_days

        return example_days.write(int(n), into / f"example-{n}-days")
    import generate

    generate.generate(kind, int(n), into / f"{kind}-{n}")
    return into / f"{kind}-{n}"


def _peak_mb() -> int:
    """The process's peak resident set so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def trace(folder: Path, seed: int, time_limit: float, workers: int) -> dict:
    from planner.check.verify import verify
    from planner.input.validation import load_visit
    from planner.solve import run as S
    from planner.solve import soft

    visit = load_visit(folder)
    load_before = os.getloadavg()
    stages: list[dict] = []

    def on_stage(index: int, names: list[str]) -> None:  # once per step: its stage, the terms it minimises
        stages.append({"index": index, "rules": names, "events": [], "peak_before_mb": _peak_mb()})

    def on_progress(elapsed: float, objective: float, bound: float) -> None:
        if stages:
            stages[-1]["events"].append(("plan", round(elapsed, 3), objective))

    def on_bound(elapsed: float, bound: float) -> None:
        if stages:
            stages[-1]["events"].append(("bound", round(elapsed, 3), bound))

    options = S.SolveOptions(time_limit=time_limit, seed=seed, workers=workers, on_progress=on_progress,
                             on_stage=on_stage, on_bound=on_bound)
    t0 = time.perf_counter()
    outcome = S.solve_model(visit, options)
    wall = time.perf_counter() - t0
    weights = dict(outcome.weights)
    weights.update(soft.weights(outcome.pm))  # the rooms stages' weights, once their rules exist
    for stage in stages:
        stage["stage_rules"] = next((r["rules"] for r in outcome.stages
                                     if stage["rules"] == r["rules"][:len(stage["rules"])]), stage["rules"])
    plan = S.extract(outcome, options) if outcome.found else None
    out = {"visit": str(folder), "seed": seed, "workers": workers, "status": outcome.status,
           "notes": [r["note"] for r in outcome.stages if r.get("note")],
           "wall_s": round(wall, 2), "timings": outcome.timings,
           "breaches": len(verify(visit, plan)) if plan is not None else None,
           "load": [round(x, 2) for x in load_before + os.getloadavg()],
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "stages": []}
    reports = [step for stage in outcome.stages for step in stage.get("steps", [stage])]
    for stage, report in zip(stages, reports, strict=False):
        names = [n for n in stage["rules"] if n in weights]
        w = {n: weights[n] for n in names}
        final = decode(w, names, report["objective"])
        terms = {n: {"value": final[n], "found_s": None, "proven_s": None} for n in names}
        for kind, elapsed, value in stage["events"]:
            if kind == "plan":  # the progress callback reports the whole stage's objective
                best = decode({n: weights[n] for n in stage["stage_rules"]}, stage["stage_rules"], value)
                for n in names:
                    if best[n] == final[n] and terms[n]["found_s"] is None:
                        terms[n]["found_s"] = elapsed
                    elif best[n] != final[n]:
                        terms[n]["found_s"] = None
            else:
                proof = proven_terms(w, final, value)
                for n in names:
                    if proof[n]["proven"] and terms[n]["proven_s"] is None:
                        terms[n]["proven_s"] = elapsed
        end = proven_terms(w, final, report["bound"])
        for n in names:
            terms[n]["least"] = end[n]["least"]
            if end[n]["proven"] and terms[n]["proven_s"] is None and report["status"] == "OPTIMAL":
                terms[n]["proven_s"] = "at the end"
        first = stage["events"][0][1] if stage["events"] else None
        last = stage["events"][-1][1] if stage["events"] else None
        out["stages"].append({"rules": names, "status": report["status"], "objective": report["objective"],
                              "bound": report["bound"], "first_event_s": first, "last_event_s": last,
                              "peak_before_mb": stage["peak_before_mb"],
                              "terms": terms})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("visit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the whole trace as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = trace(visit_folder(args.visit, Path(tmp)), args.seed, args.time_limit, args.workers)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{out['visit']} seed {out['seed']}: {out['status']} in {out['wall_s']} s "
          f"(build {out['timings']['build_seconds']} s), {out['breaches']} breaches, "
          f"peak {out['peak_rss_mb']} MB, load average before/after {out['load']}")
    for note in out["notes"]:
        print(f"  {note}")
    for stage in out["stages"]:
        print(f"  step {', '.join(stage['rules'])}: {stage['status']} "
              f"(events {stage['first_event_s']}..{stage['last_event_s']} s; peak before it "
              f"{stage['peak_before_mb']} MB)")
        for name, t in stage["terms"].items():
            print(f"    {name:32} value {t['value']:>6}  found {t['found_s']!s:>8} s  "
                  f"proven {t['proven_s']!s:>10}  least {t['least']}")


if __name__ == "__main__":
    main()
