"""A seeded generator of realistic peer challenge visits at growing sizes.

``generate(size, seed, folder)`` writes a visit as a CSV folder in the
contract's format (visit.toml, peers.csv, rooms.csv, people.csv,
sessions.csv, themes.csv, documents.csv) and returns a :class:`Generated`
with the folder, the loaded Visit and a *planted* plan.

How it stays feasible without being tuned to one instance: it first plants a
complete schedule (random days, starts, rooms, peers and lunches that keep
every hard rule of §2), and only then writes the constraints of the visit
around it: days, earliest/latest, fixed starts, fixed rooms, `after`,
required peers and people's/rooms' unavailability are all drawn at random
but never contradict the planted schedule. Peers' unavailability is drawn
before planting and the planting respects it. The planted plan is checked
with :func:`planner.check.verify.verify` before the generator returns, so every
generated visit is feasible by construction. The solver never sees the
planted plan.

Slack: the planted schedule fills at most ~80 % of what the rules allow: the
daily cap is set to at least 1.25 x the busiest planted day, peers are
planted at most ``cap - 1`` sessions a day, and rooms are planted with
random gaps. A few extra `should` sessions are not planted at all and fit
only if the solver finds room for them.

Sizes (sessions are approximate and vary with the seed):

=========== ======== ========== ======= =============================
size         days     sessions   peers   session rooms (+ office)
=========== ======== ========== ======= =============================
tiny         2        ~12        4       2 onsite + 1 offsite
one-week     3        ~45        7-9     3-4 onsite + 1 offsite
two-weeks    10       ~140       11-12   5 onsite + 1 offsite
four-weeks   20       ~280       15      6 onsite + 2 offsite
=========== ======== ========== ======= =============================

Run ``python benchmarks/generate.py four-weeks 1 /tmp/visit`` to write one.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planner import domain as d  # noqa: E402


@dataclass(frozen=True)
class Size:
    days: int
    per_day: int  # planted sessions a day (target)
    peers: tuple[int, int]
    onsite_rooms: tuple[int, int]  # interview/presentation rooms
    offsite_rooms: int
    week_bound: bool = False  # most sessions restricted to the week they belong to


SIZES: dict[str, Size] = {
    "tiny": Size(days=2, per_day=6, peers=(4, 4), onsite_rooms=(2, 2), offsite_rooms=1),
    "one-week": Size(days=3, per_day=15, peers=(7, 9), onsite_rooms=(3, 4), offsite_rooms=1),
    "two-weeks": Size(days=10, per_day=14, peers=(11, 12), onsite_rooms=(5, 5), offsite_rooms=1,
                      week_bound=True),
    "four-weeks": Size(days=20, per_day=14, peers=(15, 15), onsite_rooms=(6, 6), offsite_rooms=2,
                       week_bound=True),
}

DAY_START, DAY_END = 9 * 60, 17 * 60 + 15
SLOT = 15
BUFFER = 15
LUNCH_START, LUNCH_END, LUNCH_MINUTES = 12 * 60, 14 * 60, 30
DEBRIEF_START, DEBRIEF_MINUTES = 17 * 60 + 30, 45
PEER_CAP = 6

FIRST = ("Aisha", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hamza", "Iris", "Jack", "Kiran",
         "Lena", "Marcus", "Nadia", "Owen", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Umar", "Vera",
         "Wei", "Yusuf", "Zara", "Alan", "Beth", "Colin", "Dina", "Ewan", "Farah", "Gary", "Hana",
         "Ian", "Jo", "Kofi", "Lucy", "Mo", "Niamh", "Oli", "Pat", "Ruth", "Sunil", "Tom", "Ursula")
LAST = ("Ahmed", "Baker", "Clarke", "Doyle", "Evans", "Fisher", "Gill", "Hughes", "Islam", "Jones",
        "Khan", "Lewis", "Murphy", "Nowak", "Okafor", "Patel", "Quinn", "Reid", "Shah", "Turner",
        "Uddin", "Vaughan", "Walsh", "Young", "Zhang", "Begum", "Chowdhury", "Fox", "Grant", "Hall")
THEMES = (
    ("place", "Understanding of the local place and priority setting",
     "Does the council understand its local context and use it to set clear priorities?"),
    ("leadership", "Leadership of place",
     "Does the council provide effective leadership of place through members, officers and partners?"),
    ("governance", "Organisational leadership and governance",
     "Is there effective political and managerial leadership supported by good governance?"),
    ("finance", "Financial planning and viability",
     "Does the council have a financial plan that ensures long-term viability?"),
    ("capacity", "Capacity to deliver",
     "Is organisational capacity aligned with the council's priorities?"),
    ("housing", "Housing and regeneration", "Is the housing and regeneration programme on track?"),
    ("children", "Children's services", "Are children's services improving at pace?"),
    ("adults", "Adult social care and health", "Is health and social care integration working?"),
    ("culture", "Organisational culture", "Do staff understand and share the council's values?"),
    ("partners", "Partnership working", "Do partners trust the council and work with it?"),
    ("digital", "Digital and transformation", "Is the transformation programme delivering?"),
    ("climate", "Climate and environment", "Is the climate emergency plan credible?"),
)
INTERVIEW_TOPICS = (
    ("Chief Executive", ("governance", "leadership", "capacity")),
    ("Leader of the Council", ("leadership", "place", "governance")),
    ("Cabinet Member for Resources", ("finance", "governance")),
    ("Cabinet Member for Housing", ("housing", "place")),
    ("Cabinet Member for Children", ("children", "leadership")),
    ("Cabinet Member for Adults and Health", ("adults", "partners")),
    ("Leader of the Opposition", ("governance", "leadership")),
    ("Chair of Scrutiny", ("governance",)),
    ("Director of Finance (s151)", ("finance", "capacity")),
    ("Director of Children's Services", ("children", "capacity")),
    ("Director of Adult Services", ("adults", "capacity")),
    ("Director of Place", ("place", "housing", "climate")),
    ("Monitoring Officer", ("governance", "culture")),
    ("Head of HR", ("culture", "capacity")),
    ("Head of Digital", ("digital", "capacity")),
    ("Internal Audit and risk", ("governance", "finance")),
    ("Climate emergency programme", ("climate", "partners")),
    ("Police and community safety partners", ("partners", "leadership")),
    ("Health partners", ("adults", "partners")),
    ("Transformation programme board", ("digital", "capacity", "finance")),
)
FOCUS_TOPICS = (
    ("Focus group: frontline staff", ("culture", "capacity")),
    ("Focus group: middle managers", ("culture", "capacity")),
    ("Focus group: backbench councillors", ("governance", "leadership")),
    ("Focus group: voluntary and community sector", ("partners", "place")),
    ("Focus group: business partners", ("place", "partners")),
    ("Focus group: social workers", ("children", "culture")),
    ("Focus group: staff networks", ("culture",)),
    ("Focus group: residents' panel", ("place", "housing")),
)
SITE_TOPICS = (
    ("Site visit: regeneration area", ("housing", "place")),
    ("Site visit: community hub", ("partners", "place")),
    ("Site visit: depot and waste services", ("climate", "capacity")),
    ("Site visit: family hub", ("children", "partners")),
)


@dataclass
class _Peer:
    id: str
    name: str
    kind: str
    specialisms: tuple[str, ...]
    away: list[tuple[int, int, int]] = field(default_factory=list)  # (day, from, to) minutes
    cap: int = PEER_CAP


@dataclass
class _Planted:
    id: str
    kind: str
    title: str
    themes: tuple[str, ...]
    day: int
    start: int
    duration: int
    room: str
    peers: tuple[str, ...]
    attendees: tuple[str, ...]

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass
class Generated:
    folder: Path
    visit: d.Visit
    planted: d.Plan  # a plan that keeps every hard rule (proof of feasibility)
    size: str
    seed: int


def interview_days(rng: random.Random, n: int) -> tuple[list[dt.date], dt.date]:
    year = rng.choice((2026, 2027))
    monday = dt.date(year, 1, 5) + dt.timedelta(weeks=rng.randrange(2, 40))  # a Monday
    first = monday + dt.timedelta(days=1 if n <= 3 else 0)  # short visits run Tue–Thu
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    feedback = days[-1] + dt.timedelta(days=1)
    while feedback.weekday() >= 5:
        feedback += dt.timedelta(days=1)
    return days, feedback


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Planter:
    """Plants a schedule that keeps every hard rule, session by session."""

    def __init__(self, rng: random.Random, peers: list[_Peer], rooms: list[dict], n_days: int):
        self.rng = rng
        self.peers = {p.id: p for p in peers}
        self.rooms = rooms
        self.room_busy: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self.peer_busy: dict[tuple[str, int], list[tuple[int, int]]] = {}  # travel-inclusive
        self.peer_count: dict[tuple[str, int], int] = {}
        self.person_busy: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self.lunch: dict[tuple[str, int], int] = {}
        self.load = {p: 0 for p in self.peers}
        for p in peers:
            for k in range(n_days):
                self.lunch[(p.id, k)] = rng.choice(range(LUNCH_START, LUNCH_END - LUNCH_MINUTES + 1, SLOT))

    @staticmethod
    def _clash(spans, a, b) -> bool:
        return any(a < y and x < b for x, y in spans)

    def peer_ok(self, pid: str, day: int, start: int, end: int, travel: int) -> bool:
        peer = self.peers[pid]
        a, b = start - travel, end + travel
        if self.peer_count.get((pid, day), 0) >= peer.cap - 1:  # slack: one below the cap
            return False
        if any(k == day and a < y and x < b for k, x, y in peer.away):
            return False
        if b > DEBRIEF_START:  # the debrief is in the office
            return False
        lunch = self.lunch[(pid, day)]
        if a < lunch + LUNCH_MINUTES and lunch < b:
            return False
        # buffer on top of travel between any two of the peer's sessions
        return not self._clash(self.peer_busy.get((pid, day), []), a - BUFFER, b + BUFFER)

    def place(self, day: int, duration: int, n_peers: int, kind: str, themes, headcount: int,
              attendees_free, rooms_allowed=None):
        """Try random starts and rooms; returns (start, room, travel, peers) or None."""
        rng = self.rng
        starts = list(range(DAY_START, DAY_END - duration + 1, SLOT))
        rng.shuffle(starts)
        suitable = [r for r in self.rooms if r["kind"] != "office"
                    and (r["kind"] == "offsite") == (kind == "site_visit")
                    and r["capacity"] >= headcount and (rooms_allowed is None or r["id"] in rooms_allowed)]
        for start in starts[:24]:
            end = start + duration
            if not attendees_free(day, start, end):
                continue
            rng.shuffle(suitable)
            for room in suitable:
                if self._clash(self.room_busy.get((room["id"], day), []), start, end):
                    continue
                travel = room["travel"]
                free = [pid for pid in self.peers if self.peer_ok(pid, day, start, end, travel)]
                if len(free) < n_peers:
                    continue
                # realistic assignment: prefer peers who share a theme, then the least loaded
                free.sort(key=lambda p: (not set(themes) & set(self.peers[p].specialisms),
                                         self.load[p] + rng.random() * 2))
                return start, room, travel, tuple(sorted(free[:n_peers]))
        return None

    def commit(self, day, start, end, room, travel, peers, attendees):
        self.room_busy.setdefault((room["id"], day), []).append((start, end))
        for pid in peers:
            self.peer_busy.setdefault((pid, day), []).append((start - travel, end + travel))
            self.peer_count[(pid, day)] = self.peer_count.get((pid, day), 0) + 1
            self.load[pid] += 1
        for a in attendees:
            self.person_busy.setdefault((a, day), []).append((start, end))


def generate(size: str, seed: int, folder: str | Path) -> Generated:
    """Write a visit of `size` (a key of SIZES) drawn with `seed` into `folder`."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; use one of {', '.join(SIZES)}")
    spec = SIZES[size]
    rng = random.Random(f"{size}/{seed}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    days, feedback_day = interview_days(rng, spec.days)
    n_days = len(days)

    # themes ---------------------------------------------------------------
    themes = list(THEMES)

    # names ------------------------------------------------------------------
    used_names: set[str] = set()

    def name() -> str:
        for _ in range(1000):
            candidate = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if candidate not in used_names:
                used_names.add(candidate)
                return candidate
        candidate = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{len(used_names)}"
        used_names.add(candidate)
        return candidate

    # peers ------------------------------------------------------------------
    n_peers = rng.randint(*spec.peers)
    n_members = max(2, round(n_peers * 0.25))
    peers: list[_Peer] = []
    theme_ids = [t[0] for t in themes]
    for i in range(n_peers):
        kind = "manager" if i == n_peers - 1 else "member" if 1 <= i <= n_members else "officer"
        peers.append(_Peer(id=f"peer{i + 1:02d}", name=name(), kind=kind,
                           specialisms=tuple(sorted(rng.sample(theme_ids, rng.randint(3, 4))))))
    # partial availability of peers, drawn before planting (the planting respects it)
    for peer in peers[1:]:  # the lead peer (peer01) is there throughout
        if spec.days > 5 and rng.random() < 0.6:
            # long programmes: peers miss a few whole days
            for k in rng.sample(range(n_days), max(1, n_days // rng.randint(5, 8))):
                peer.away.append((k, 0, 24 * 60))
        if rng.random() < 0.35:
            k = rng.randrange(n_days)
            a = rng.choice((DAY_START, DAY_START, 14 * 60))
            peer.away.append((k, a, a + rng.choice((60, 90, 120, 180))))
    if rng.random() < 0.5:
        rng.choice(peers[1:]).cap = PEER_CAP - 1  # one peer asks for a lighter day

    # rooms ------------------------------------------------------------------
    rooms: list[dict] = [dict(id="office", name="Peer team base room", kind="office", capacity=20, travel=0)]
    n_onsite = rng.randint(*spec.onsite_rooms)
    for i in range(n_onsite):
        if i == 0:
            rooms.append(dict(id="chamber", name="Council Chamber", kind="presentation", capacity=80, travel=0))
        else:
            rooms.append(dict(id=f"room{i}", name=f"Meeting room {i}", kind="interview",
                              capacity=rng.choice((6, 8, 10, 12, 14, 16)), travel=0))
    if not any(r["capacity"] >= 14 for r in rooms[2:]) and n_onsite > 1:
        rooms[-1]["capacity"] = 16  # at least one committee room for focus groups
    for i in range(spec.offsite_rooms):
        rooms.append(dict(id=f"site{i + 1}", name=f"Site {i + 1}", kind="offsite", capacity=20,
                          travel=rng.choice((15, 20, 30))))

    # people ------------------------------------------------------------------
    people: dict[str, dict] = {}

    def person(category: str, job: str, organisation: str = "") -> str:
        pid = f"person{len(people) + 1:04d}"
        nm = name()
        people[pid] = dict(id=pid, name=nm, job_title=job, organisation=organisation, category=category,
                           email=f"{nm.lower().replace(' ', '.').replace('-', '.')}@example.org",
                           unavailable=[])
        return pid

    ceo = person("officer", "Chief Executive")
    strategy = person("officer", "Head of Strategy")
    leader = person("councillor", "Leader of the Council")
    # recurring people: attend several sessions (interviews, focus groups)
    recurring = [ceo, leader]
    for _ in range(max(6, spec.days * 3)):
        if rng.random() < 0.4:
            recurring.append(person("councillor", rng.choice(("Cabinet Member", "Committee Chair",
                                                               "Opposition Leader"))))
        else:
            recurring.append(person("officer", rng.choice(("Director", "Head of Service",
                                                           "Assistant Director"))))

    # planting ---------------------------------------------------------------
    planter = _Planter(rng, peers, rooms, n_days)
    planted: list[_Planted] = []

    def attendees_free(chosen):
        def ok(day, start, end):
            return all(not planter._clash(planter.person_busy.get((a, day), []), start, end) for a in chosen)
        return ok

    counter = {"interview": 0, "focus_group": 0, "site_visit": 0}
    titles: dict[str, int] = {}
    for k in range(n_days):
        target = max(2, spec.per_day + rng.randint(-2, 1))
        attempts = 0
        placed_today = 0
        while placed_today < target and attempts < target * 4:
            attempts += 1
            roll = rng.random()
            if roll < 0.12 and spec.offsite_rooms:
                kind = "site_visit"
                title, st = rng.choice(SITE_TOPICS)
                duration = rng.choice((90, 90, 120))
                n_att = rng.randint(2, 4)
                n_pe = rng.choice((2, 2, 3))
            elif roll < 0.35:
                kind = "focus_group"
                title, st = rng.choice(FOCUS_TOPICS)
                duration = rng.choice((60, 75, 90))
                n_att = rng.randint(5, 10)
                n_pe = 2
            else:
                kind = "interview"
                title, st = rng.choice(INTERVIEW_TOPICS)
                duration = rng.choice((45, 60, 60, 60, 75))
                n_att = rng.randint(1, 3)
                n_pe = rng.choice((2, 2, 2, 3)) if n_peers > 4 else 2
            session_themes = tuple(sorted(rng.sample(st, rng.randint(1, len(st)))))
            # one or two recurring people in many interviews and some focus groups
            chosen: list[str] = []
            if kind == "interview" and rng.random() < 0.5 or kind == "focus_group" and rng.random() < 0.2:
                chosen = rng.sample(recurring, 1 if rng.random() < 0.7 else 2)
            n_new = max(0, n_att - len(chosen))
            spot = planter.place(k, duration, n_pe, kind, session_themes, len(chosen) + n_new + n_pe,
                                 attendees_free(chosen))
            if spot is None:
                continue
            start, room, travel, session_peers = spot
            if kind == "interview":
                category = "councillor" if "Cabinet" in title or "Leader" in title or "Scrutiny" in title \
                    else "partner" if "partners" in title else "officer"
            elif kind == "focus_group":
                category = "councillor" if "councillor" in title else "resident" if "residents" in title \
                    else "partner" if "sector" in title or "business" in title else "officer"
            else:
                category = "officer"
            new = [person(category, title.split(": ")[-1]) for _ in range(n_new)]
            attendees = tuple(chosen + new)
            counter[kind] += 1
            prefix = {"interview": "int", "focus_group": "fg", "site_visit": "site"}[kind]
            sid = f"{prefix}{counter[kind]:03d}"
            planter.commit(k, start, start + duration, room, travel, session_peers, attendees)
            titles[title] = titles.get(title, 0) + 1
            if titles[title] > 1:
                title = f"{title} ({titles[title]})"
            planted.append(_Planted(sid, kind, title, session_themes, k, start, duration,
                                    room["id"], session_peers, attendees))
            placed_today += 1

    # constraints around the planted schedule -------------------------------
    rows: list[dict] = []
    by_day_start = sorted(planted, key=lambda p: (p.day, p.start, p.id))
    planted_end = {p.id: (p.day, p.end) for p in planted}
    week_of = {k: (days[k] - days[0]).days // 7 for k in range(n_days)}
    for index, p in enumerate(by_day_start):
        row = dict(id=p.id, title=p.title, kind=p.kind, themes=";".join(p.themes),
                   attendees=";".join(p.attendees), duration_minutes=str(p.duration),
                   peers=str(len(p.peers)), required_peers="", room="", days="", earliest="",
                   latest="", fixed_start="", priority="must", after="", notes="")
        if index == 0:
            # the opening with the chief executive style: fixed start, lead peer required
            row["fixed_start"] = f"{days[p.day]} {_hm(p.start)}"
        r = rng.random()
        if spec.week_bound and r < 0.55:
            row["days"] = ";".join(str(days[k]) for k in range(n_days) if week_of[k] == week_of[p.day])
        elif r < 0.75:
            extra = rng.sample(range(n_days), min(n_days, rng.randint(0, 2)))
            row["days"] = ";".join(str(days[k]) for k in sorted({p.day, *extra}))
        if rng.random() < 0.18 and not row["fixed_start"]:
            lo = rng.choice(range(DAY_START, p.start + 1, SLOT))
            hi = rng.choice(range(p.end, DAY_END + 1, SLOT))
            if rng.random() < 0.5:
                row["earliest"] = _hm(lo)
            else:
                row["latest"] = _hm(hi)
        if rng.random() < 0.28:
            row["required_peers"] = ";".join(rng.sample(p.peers, 1))
        if rng.random() < 0.10 or (p.kind == "site_visit" and spec.offsite_rooms > 1 and rng.random() < 0.5):
            row["room"] = p.room
        if rng.random() < 0.09:
            row["priority"] = "should"
        if rng.random() < 0.06:
            earlier = [q for q in by_day_start[:index] if planted_end[q.id] <= (p.day, p.start)
                       and q.day >= p.day - 2]
            if earlier:
                row["after"] = rng.choice(earlier).id
        if p.kind == "focus_group":
            row["notes"] = "Chatham House rule; participants are not named to each other."
        rows.append(row)

    # a few `should` sessions that were never planted: they fit only if the solver finds room
    for i in range(max(1, len(planted) // 25)):
        title, st = rng.choice(INTERVIEW_TOPICS)
        chosen = [person("officer", title)] + rng.sample(recurring, rng.randint(0, 1))
        sid = f"extra{i + 1:03d}"
        rows.append(dict(id=sid, title=f"{title}: follow-up {i + 1}", kind="interview",
                         themes=";".join(st[:2]), attendees=";".join(chosen), duration_minutes="60",
                         peers="2", required_peers="", room="",
                         days=str(days[rng.randrange(n_days)]) if rng.random() < 0.5 else "",
                         earliest="", latest="", fixed_start="", priority="should", after="",
                         notes="Only if time allows."))

    # unavailability of people and rooms, never against the planted schedule --
    held: dict[str, set[int]] = {}
    for p in planted:
        for a in p.attendees:
            held.setdefault(a, set()).add(p.day)
    for pid, info in people.items():
        if pid in (ceo, strategy):
            continue  # debrief attendees stay free at the debriefs
        chance = 0.6 if pid in recurring else 0.08
        if rng.random() >= chance:
            continue
        busy_days = held.get(pid, set())
        free_days = [k for k in range(n_days) if k not in busy_days]
        if free_days and rng.random() < 0.6:
            for k in rng.sample(free_days, min(len(free_days), rng.randint(1, 2))):
                info["unavailable"].append(str(days[k]))
        else:
            k = rng.randrange(n_days)
            spans = planter.person_busy.get((pid, k), [])
            a = rng.choice(range(DAY_START, DAY_END - 60, SLOT))
            b = a + rng.choice((60, 90, 120))
            if not planter._clash(spans, a, b):
                info["unavailable"].append(f"{days[k]} {_hm(a)}-{_hm(b)}")
    for room in rooms[1:]:
        if rng.random() < 0.4:
            k = rng.randrange(n_days)
            a = rng.choice(range(DAY_START, DAY_END - 60, SLOT))
            b = min(DAY_END, a + rng.choice((60, 120, 180)))
            if not planter._clash(planter.room_busy.get((room["id"], k), []), a, b):
                room["unavailable"] = f"{days[k]} {_hm(a)}-{_hm(b)}"

    # write -----------------------------------------------------------------
    settings_rows = _settings(size, seed, days, feedback_day, planted, n_days, ceo, strategy, leader,
                              recurring, rng)
    (folder / "visit.toml").write_text(settings_rows, encoding="utf-8")
    _write(folder / "themes.csv", ["id", "name", "question"], [dict(zip(("id", "name", "question"), t))
                                                               for t in themes])
    _write(folder / "peers.csv", ["id", "name", "role", "kind", "email", "specialisms", "unavailable",
                                  "max_sessions_per_day"],
           [dict(id=p.id, name=p.name, role=_role(p, i), kind=p.kind,
                 email=f"{p.name.lower().replace(' ', '.').replace('-', '.')}@example.com",
                 specialisms=";".join(p.specialisms), unavailable=";".join(_window(days, w) for w in p.away),
                 max_sessions_per_day=str(p.cap) if p.cap != PEER_CAP else "")
            for i, p in enumerate(peers)])
    _write(folder / "rooms.csv", ["id", "name", "kind", "capacity", "location", "travel_minutes", "unavailable"],
           [dict(id=r["id"], name=r["name"], kind=r["kind"], capacity=str(r["capacity"]),
                 location="Town Hall" if r["kind"] != "offsite" else f"{r['travel']} minutes from the Town Hall",
                 travel_minutes=str(r["travel"]) if r["kind"] == "offsite" else "",
                 unavailable=r.get("unavailable", "")) for r in rooms])
    _write(folder / "people.csv", ["id", "name", "job_title", "organisation", "category", "email", "unavailable"],
           [dict(info, unavailable=";".join(info["unavailable"])) for info in people.values()])
    _write(folder / "sessions.csv", ["id", "title", "kind", "themes", "attendees", "duration_minutes", "peers",
                                     "required_peers", "room", "days", "earliest", "latest", "fixed_start",
                                     "priority", "after", "notes"], rows)
    _write(folder / "documents.csv", ["id", "title", "themes", "url"],
           [dict(id=f"doc-{t[0]}", title=f"Evidence pack: {t[1]}", themes=t[0],
                 url=f"https://example.org/evidence/{t[0]}.pdf") for t in themes])

    from planner.input.validation import load_visit
    from planner.check.verify import verify

    visit = load_visit(folder)
    plan = _planted_plan(visit, days, planted, planter)
    breaches = verify(visit, plan)
    if breaches:  # a bug in the generator, never a property of the seed
        raise AssertionError("the planted plan breaks the rules:\n" + "\n".join(map(str, breaches[:10])))
    return Generated(folder, visit, plan, size, seed)


def _role(peer: _Peer, index: int) -> str:
    if index == 0:
        return "Lead peer"
    return {"member": "Member peer", "manager": "Peer challenge manager"}.get(peer.kind, "Officer peer")


def _window(days, w) -> str:
    k, a, b = w
    if a == 0 and b == 24 * 60:
        return str(days[k])
    return f"{days[k]} {_hm(a)}-{_hm(b)}"


def _settings(size, seed, days, feedback_day, planted, n_days, ceo, strategy, leader, recurring, rng) -> str:
    per_day = [sum(1 for p in planted if p.day == k) for k in range(n_days)]
    cap = max(15, math.ceil(max(per_day, default=1) * 1.25))
    audience = [ceo, strategy, leader] + recurring[2:2 + 20]
    values = {
        "name": f"Corporate Peer Challenge — Benchmark {size} #{seed}",
        "host": f"Benchmark Borough Council {seed}",
        "timezone": "Europe/London",
        "location": "Town Hall, High Street",
        "organiser_name": "Strategy team",
        "organiser_email": "strategy@example.org",
        "interview_days": [str(x) for x in days],
        "feedback_day": str(feedback_day),
        "day_start": _hm(DAY_START),
        "day_end": _hm(DAY_END),
        "slot_minutes": SLOT,
        "max_sessions_per_day": cap,
        "max_sessions_per_peer_per_day": PEER_CAP,
        "buffer_minutes": BUFFER,
        "lunch_start": _hm(LUNCH_START),
        "lunch_end": _hm(LUNCH_END),
        "lunch_minutes": LUNCH_MINUTES,
        "office_room": "office",
        "debrief_start": _hm(DEBRIEF_START),
        "debrief_minutes": DEBRIEF_MINUTES,
        "debrief_attendees": [ceo, strategy],
        "feedback_start": "14:00",
        "feedback_minutes": 90,
        "feedback_room": "chamber",
        "feedback_audience": list(dict.fromkeys(audience)),
    }

    def value(v):
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, int):
            return str(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    head = f"# Generated by benchmarks/generate.py: size {size}, seed {seed}. Invented data.\n"
    return head + "".join(f"{k} = {value(v)}\n" for k, v in values.items())


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _planted_plan(visit: d.Visit, days, planted: list[_Planted], planter: _Planter) -> d.Plan:
    items = list(visit.fixed_items())
    for p in planted:
        start = d.combine(days[p.day], dt.time(p.start // 60, p.start % 60))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, p.duration), item_id=p.id, kind=p.kind,
                                title=p.title, room_id=p.room, peer_ids=p.peers, attendee_ids=p.attendees))
    for (pid, k), minute in sorted(planter.lunch.items()):
        start = d.combine(days[k], dt.time(minute // 60, minute % 60))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, LUNCH_MINUTES),
                                item_id=f"lunch-{pid}-{days[k]}", kind="lunch", title="Lunch", peer_ids=(pid,)))
    should_out = [s.id for s in visit.sessions if not s.must and not any(p.id == s.id for p in planted)]
    return d.Plan(items=tuple(items), unscheduled=tuple(d.Unscheduled(s, "not planted") for s in should_out),
                  meta={"planted": True})


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=list(SIZES))
    parser.add_argument("seed", type=int)
    parser.add_argument("folder")
    args = parser.parse_args(argv)
    g = generate(args.size, args.seed, args.folder)
    v = g.visit
    print(f"{g.folder}: {len(v.sessions)} sessions ({sum(s.must for s in v.sessions)} must), "
          f"{len(v.peers)} peers, {len(v.rooms)} rooms, {len(v.people)} people, "
          f"{len(v.settings.interview_days)} interview days")


if __name__ == "__main__":
    main()
