"""The example visit (inputs/tower-hamlets-2018, three interview days, 44
sessions) stretched to more interview days, for the solver's size ladder
(issue 21): each extra day adds five sessions shaped like the example's: three
follow-up interviews with people it already sees (one, one and two of
them) and two focus groups of ten new people; and the feedback day moves to the next weekday.

    python benchmarks/example_days.py 4 /tmp/four-days

writes the four-day visit (49 sessions); 3 copies the example unchanged.
benchmarks/tower-hamlets-four-days is the four-day visit, written by this script.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "inputs" / "tower-hamlets-2018"

# per extra day: (id stem, title, kind, themes, attendees, minutes, category of new attendees).
# The interviews are follow-ups with people the example already sees once (attendees named
# by id), as a real visit's extra day is: their idle time joins soft rule 5.
FOLLOW_UPS = [
    ["neil-ashworth", "richard-pennington", "nusrat-karim", "margaret-okonjo", "deborah-lane"],
    ["helen-marchant", "abdul-malik", "nasreen-haque", "rukhsana-alam", "tom-whitfield"],
    ["gordon-thorpe;michael-adeyemi", "karen-oduya;simon-barrett", "ann-furlong;gareth-pryce",
     "stephen-marlowe;lucy-adebayo", "joanna-pike;hannah-bell"],
]
EXTRA = [
    ("follow-up-officer", "Follow-up interview", "interview", "capacity;targets", 0, 60, ""),
    ("follow-up-cabinet", "Follow-up with a Cabinet Member", "interview", "priorities;leadership-of-place", 1,
     60, ""),
    ("follow-up-service", "Follow-up: service review", "interview", "finance;procurement;directions", 2, 60,
     ""),
    ("frontline-extra", "Focus group: frontline staff", "focus_group", "culture;priorities", 10, 75, "officer"),
    ("residents", "Focus group: residents' associations", "focus_group", "place;leadership-of-place", 10, 75,
     "resident"),
]


def _next_weekday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def write(days: int, folder: str | Path) -> Path:
    """Write the example with `days` interview days (3 or more) into `folder`."""
    if days < 3:
        raise ValueError("the example has three interview days; ask for 3 or more")
    out = Path(folder)
    shutil.copytree(EXAMPLE, out, dirs_exist_ok=True)
    toml = (out / "visit.toml").read_text(encoding="utf-8")
    interview = [dt.date.fromisoformat(x) for x in re.search(r"interview_days = \[(.*?)\]", toml).group(1)
                 .replace('"', "").split(", ")]
    while len(interview) < days:
        interview.append(_next_weekday(interview[-1]))
    feedback = _next_weekday(interview[-1])
    toml = re.sub(r"interview_days = \[.*?\]",
                  "interview_days = [" + ", ".join(f'"{x}"' for x in interview) + "]", toml)
    toml = re.sub(r'feedback_day = ".*?"', f'feedback_day = "{feedback}"', toml)
    (out / "visit.toml").write_text(toml, encoding="utf-8")
    people, sessions = [], []
    for n in range(days - 3):
        for stem, title, kind, themes, count, minutes, category in EXTRA:
            ids = []
            if not category:  # a follow-up: the people of FOLLOW_UPS[count], one group a day
                ids = FOLLOW_UPS[count][n % len(FOLLOW_UPS[count])].split(";")
            for i in range(count if category else 0):
                pid = f"{stem}-{n + 1}-{i + 1}"
                ids.append(pid)
                people.append({"id": pid, "name": f"Attendee {stem} {n + 1}.{i + 1}", "job_title": title,
                               "organisation": "London Borough of Tower Hamlets", "category": category,
                               "email": f"{pid}@example.org", "unavailable": ""})
            sessions.append({"id": f"{stem}-{n + 1}", "title": f"{title} ({n + 1})", "kind": kind,
                             "themes": themes, "attendees": ";".join(ids), "duration_minutes": minutes,
                             "peers": 2, "priority": "must"})
    _append(out / "people.csv", people)
    _append(out / "sessions.csv", sessions)
    return out


def _append(path: Path, rows: list[dict]) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        columns = next(csv.reader(f))
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="", lineterminator="\n")
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("days", type=int)
    parser.add_argument("folder")
    args = parser.parse_args(argv)
    print(write(args.days, args.folder))


if __name__ == "__main__":
    main()
