"""Time to proof against visit size (issue 21): each case with three seeds,
each run in its own process under GNU time (the whole process's maximum
resident size), through benchmarks/trace_stages.py.

    python benchmarks/proof_times.py [--only NAME,...] [--seeds 1,2,3]

writes benchmarks/proof_times.json; `make bench` (benchmarks/run.py) renders
it as a section of RESULTS.md, and ``--render`` writes that section alone
into RESULTS.md now (between its markers, replacing the last one).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "proof_times.json"
PYTHON = sys.executable
# name, visit (trace_stages.visit_folder), time limit
CASES = [
    ("example (3 interview days, 44 sessions)", "example-days:3", 120),
    ("example + 1 day (4 interview days, 49 sessions)", "example-days:4", 120),
    ("example + 2 days (5 interview days, 54 sessions)", "example-days:5", 120),
    ("one-week #1 (generated, 3 days)", "one-week:1", 120),
    ("four-weeks #1 (generated, 20 days)", "four-weeks:1", 60),
]
BEGIN, END = "<!-- proof-times:begin -->", "<!-- proof-times:end -->"


def run_one(spec: str, seed: int, limit: float, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        timing = Path(tmp) / "time.txt"
        done = subprocess.run(["/usr/bin/time", "-v", "-o", str(timing), PYTHON, str(BENCH / "trace_stages.py"),
                               spec, "--seed", str(seed), "--time-limit", str(limit), "--workers", str(workers),
                               "--json"], capture_output=True, text=True)
        text = timing.read_text() if timing.exists() else ""
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    out = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {"error": done.stderr[-500:]}
    out["max_rss_mb"] = round(int(peak.group(1)) / 1024) if peak else None
    return out


def render(data: dict) -> str:
    lines = [BEGIN, "## Time to proof against visit size (issue 21)", "",
             f"`benchmarks/proof_times.py` on {data.get('when', '?')} (planner at commit {data.get('commit', '?')}): "
             f"`--workers {data.get('workers', 2)}`, seeds {', '.join(map(str, data.get('seeds', [])))}, each run "
             "in its own process. *Proven* is the time from the start of model building until every stage "
             "was proven optimal (the model's build included); *peak* is GNU time's maximum resident size "
             "of the whole process. The load average (1 min, before → after each run) is beside every "
             "figure: the machine is shared by other work, which slows wall-clock times (at a load of 15 on "
             "2 cores a process gets about a seventh of the machine).", "",
             "| case | seed | status | build | proven (or gap at the limit) | stages | peak | load |",
             "|---|---|---|---|---|---|---|---|"]
    for case in data.get("cases", []):
        for run in case["runs"]:
            if "error" in run:
                lines.append(f"| {case['name']} | {run.get('seed')} | failed | | | | | |")
                continue
            t = run["timings"]
            total = t["build_seconds"] + t["solve_seconds"]
            if run["status"] == "OPTIMAL":
                proof = f"{total:.1f} s"
            elif not run["stages"]:
                proof = f"no plan within {run.get('time_limit', '?')} s"
            else:
                gaps = [f"{s['status'].lower()} {100 * _gap(s):.3g} %" for s in run["stages"]]
                proof = f"not within {run.get('time_limit', '?')} s ({'; '.join(gaps)})"
            stages = ", ".join(f"{'+'.join(_short(n) for n in s['rules'][-1:])} {s['status'][:3].lower()}"
                               for s in run["stages"])
            load = run.get("load") or [None] * 6
            lines.append(f"| {case['name']} | {run['seed']} | {run['status']} | {t['build_seconds']:.1f} s | {proof} "
                         f"| {stages} | {run.get('max_rss_mb')} MB | {load[0]} → {load[3]} |")
    lines += ["", "*Stages* lists each step by the last term it minimises (the main stage's first step "
              "minimises soft rules 1–4 with rule 5 then minimised with them held).", END]
    return "\n".join(lines) + "\n"


def _gap(stage: dict) -> float:
    return abs(stage["objective"] - stage["bound"]) / max(1.0, abs(stage["objective"]))


def _short(name: str) -> str:
    return {"balanced_load": "rules 1–4", "short_days_for_people": "rule 5", "right_sized_rooms": "rule 7",
            "peers_stay_put": "rule 8"}.get(name, name)


def write_section(results: Path) -> None:
    text = results.read_text(encoding="utf-8")
    section = render(json.loads(OUT.read_text(encoding="utf-8")))
    if BEGIN in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated visit specs (example-days:4, four-weeks:1, ...)")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--render", action="store_true", help="only write the section into RESULTS.md")
    args = parser.parse_args(argv)
    if not args.render:
        seeds = [int(x) for x in args.seeds.split(",")]
        wanted = set(args.only.split(",")) if args.only else None
        old = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
        kept = {c["spec"]: c for c in old.get("cases", [])}
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=BENCH).stdout.strip()
        import datetime as dt

        for name, spec, limit in CASES:
            if wanted and spec not in wanted:
                continue
            runs = []
            for seed in seeds:
                one = run_one(spec, seed, limit, args.workers)
                one.update(seed=seed, time_limit=limit)
                print(f"{name} seed {seed}: {one.get('status')} {one.get('timings')} {one.get('max_rss_mb')} MB "
                      f"load {one.get('load')}", flush=True)
                runs.append(one)
            kept[spec] = {"name": name, "spec": spec, "runs": runs}
        data = {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit,
                "workers": args.workers, "seeds": seeds, "load_now": os.getloadavg(),
                "cases": [kept[spec] for _n, spec, _l in CASES if spec in kept]}
        OUT.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    write_section(BENCH / "RESULTS.md")


if __name__ == "__main__":
    main()
