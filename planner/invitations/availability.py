"""`planner availability INPUT --via graph|google|ics`: the free/busy time of
every peer, person and room with an address, over the visit's days, written
into the visit as VFREEBUSY files and named in the `calendar` column.

Where the files go: ``calendars/availability/<id>.ics`` for a peer or person,
``calendars/availability/rooms/<id>.ics`` for a room, inside the visit folder
(beside the workbook for a workbook visit). Each file says it was written by
the planner (PRODID and X-PLANNER-AVAILABILITY); a re-run replaces only such
files, and fills the `calendar` cell only where it is blank or already names
the planner's file: a row naming a calendar of its own keeps it, a file there
that the planner did not write is kept, and the address's answer is reported.
An address the service could not answer for (a partial failure) keeps its
previous file and cell.

Busy time: Graph's schedule items that are busy, out of office or tentative
(FBTYPE BUSY, BUSY-UNAVAILABLE, BUSY-TENTATIVE: `tentative_is_busy` decides
when the visit is read); free and working elsewhere are not busy. Google's
free/busy periods are BUSY. The visit's own invitations are left out: with
``--plan DIR`` (the plan folders whose invitations went out), a Graph item at
exactly the time of an item of that plan the person or room attends is
dropped, and from Google's merged periods that time is cut out.
``--via ics --from FOLDER`` reads exported calendars named ``<address>.ics`` or
``<id>.ics`` in FOLDER, busy as contract 1.2 defines it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from planner import domain as d
from planner.store.fs import atomic_write
from planner.text import clean_email

FOLDER = "calendars/availability"
PRODID = "-//peer-challenge-planner//availability//EN"
MARK = "X-PLANNER-AVAILABILITY"
FBTYPE = {"busy": "BUSY", "oof": "BUSY-UNAVAILABLE", "tentative": "BUSY-TENTATIVE"}  # others are free
TABLES = ("peers", "people", "rooms")

Periods = list[tuple[dt.datetime, dt.datetime, str]]


@dataclass(frozen=True)
class Target:
    table: str
    id: str
    email: str
    calendar: str

    @property
    def path(self) -> str:
        return f"{FOLDER}/{'rooms/' if self.table == 'rooms' else ''}{self.id}.ics"


@dataclass
class AvailabilityReport:
    written: list[tuple[Target, int]] = field(default_factory=list)   # (who, busy periods)
    kept: list[tuple[Target, str]] = field(default_factory=list)      # not touched, and why
    failed: list[tuple[Target, str]] = field(default_factory=list)    # the service's error
    unexported: list[Target] = field(default_factory=list)             # --via ics: no export for them
    cells: dict[str, list[str]] = field(default_factory=dict)         # table -> ids whose cell was filled
    without_address: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def targets(raw) -> tuple[list[Target], int]:
    """Every row of peers, people and rooms with a usable address; how many have none."""
    found, without = [], 0
    for table in TABLES:
        if table not in raw.tables:
            continue
        for _number, cells in raw.tables[table].rows:
            ident, address = cells.get("id", "").strip(), clean_email(cells.get("email", ""))
            if not ident:
                continue
            if not address:
                without += 1
                continue
            found.append(Target(table, ident, address, cells.get("calendar", "").strip()))
    return found, without


def span(settings: d.Settings) -> tuple[dt.datetime, dt.datetime]:
    """The visit's days, first interview day to feedback day, local midnight to midnight, in UTC."""
    zone = ZoneInfo(settings.timezone)
    days = [*settings.interview_days, settings.feedback_day]
    start = dt.datetime.combine(min(days), dt.time(0), zone)
    end = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(0), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def own_times(plans, timezone: str) -> dict[str, set[tuple[dt.datetime, dt.datetime]]]:
    """For each peer, person and room id: the UTC times of the plans' items they attend."""
    from planner.store.planio import read_plan

    zone = ZoneInfo(timezone)
    times: dict[str, set[tuple[dt.datetime, dt.datetime]]] = {}
    for folder in plans:
        for item in read_plan(folder).items:
            when = (item.start.replace(tzinfo=zone).astimezone(dt.UTC),
                    item.end.replace(tzinfo=zone).astimezone(dt.UTC))
            for ident in (*item.peer_ids, *item.attendee_ids, item.room_id):
                if ident:
                    times.setdefault(ident, set()).add(when)
    return times


def without_own(periods: Periods, own: set[tuple[dt.datetime, dt.datetime]], merged: bool) -> Periods:
    """Busy periods less the visit's own invitations: an exact match dropped, or (merged
    free/busy, which cannot tell events apart) the invitation's time cut out."""
    if not own:
        return periods
    if not merged:
        return [p for p in periods if (p[0], p[1]) not in own]
    out: Periods = []
    for start, end, status in periods:
        pieces = [(start, end)]
        for o_start, o_end in sorted(own):
            cut = []
            for s, e in pieces:
                if s < o_end and o_start < e:
                    cut += [(s, o_start)] if s < o_start else []
                    cut += [(o_end, e)] if o_end < e else []
                else:
                    cut.append((s, e))
            pieces = cut
        out += [(s, e, status) for s, e in pieces]
    return out


def freebusy_ics(target: Target, periods: Periods, start: dt.datetime, end: dt.datetime, via: str,
                 stamp: dt.datetime) -> bytes:
    """A VFREEBUSY calendar of the busy periods (icalendar escapes every value)."""
    from icalendar import Calendar, FreeBusy, vPeriod

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    busy = FreeBusy()
    busy.add("uid", f"availability-{target.table}-{target.id}@peer-challenge-planner")
    busy.add("dtstamp", stamp.astimezone(dt.UTC))
    busy.add("dtstart", start)
    busy.add("dtend", end)
    busy.add("attendee", f"mailto:{target.email}")
    busy.add(MARK, f"{via}; {target.table} {target.id}")
    for begin, finish, status in sorted(periods):
        begin, finish = max(begin, start), min(finish, end)
        kind = FBTYPE.get(status.lower())
        if kind and begin < finish:
            busy.add("freebusy", vPeriod((begin.astimezone(dt.UTC), finish.astimezone(dt.UTC))),
                     parameters={"FBTYPE": kind})
    calendar.add_component(busy)
    return calendar.to_ical()


def ours(path: Path) -> bool:
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False
    return PRODID.encode() in head and MARK.encode() in path.read_bytes()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)


def fetch(visit_path, via: str, service=None, source=None, plans=(),
          now: dt.datetime | None = None) -> AvailabilityReport:
    """Ask `service` (schedule(addresses, start, end)) for everyone's free/busy time and write it;
    --via ics reads the exported calendars in the folder `source` instead."""
    from planner.input.columns import set_cells
    from planner.input.reading import read_raw
    from planner.input.validation import load_visit
    from planner.store.fs import inside

    visit_path = Path(visit_path)
    visit = load_visit(visit_path)
    base = visit_path if visit_path.is_dir() else visit_path.parent
    everyone, without = targets(read_raw(visit_path))
    report = AvailabilityReport(without_address=without)
    writable = []
    for target in everyone:
        path = inside(base, target.path)
        if target.calendar and target.calendar.replace("\\", "/") != target.path:
            report.kept.append((target, f"its calendar column names {target.calendar}; left as it is"))
        elif path.exists() and not ours(path):
            report.kept.append((target, f"{target.path} exists and was not written by the planner; left as it is"))
        else:
            writable.append((target, path))
    if via == "ics":
        service = IcsFolder(Path(source), visit.settings, {t.email: t.id for t in everyone})
    start, end = span(visit.settings)
    own = own_times(plans, visit.settings.timezone)
    answers = service.schedule(sorted({t.email for t, _ in writable}), start, end) if writable else {}
    stamp = now or dt.datetime.now(dt.UTC)
    filled: dict[str, dict[str, str]] = {}
    for target, path in writable:
        answer = answers.get(target.email, "no answer for this address")
        if answer is None:  # --via ics: nobody exported this calendar; nothing to say about it
            report.unexported.append(target)
            continue
        if isinstance(answer, str):
            report.failed.append((target, answer))
            continue
        periods = without_own(answer, own.get(target.id, set()), merged=via != "graph")
        _write(path, freebusy_ics(target, periods, start, end, via, stamp))
        report.written.append((target, sum(1 for p in periods if p[2].lower() in FBTYPE)))
        if target.calendar != target.path:
            filled.setdefault(target.table, {})[target.id] = target.path
    for table, values in filled.items():
        report.cells[table] = set_cells(visit_path, table, "calendar", values)
    return report


class IcsFolder:
    """--via ics: exported calendars in a folder, one per address (<address>.ics) or id (<id>.ics)."""

    def __init__(self, folder: Path, settings: d.Settings, ids: dict[str, str]):
        self.folder, self.settings, self.ids = Path(folder), settings, ids  # ids: address -> id

    def schedule(self, addresses: list[str], start: dt.datetime, end: dt.datetime
                 ) -> dict[str, Periods | str | None]:
        """Busy periods from each address's export; None for an address with no export."""
        from planner.input.calendars import CalendarError, read_busy

        zone = ZoneInfo(self.settings.timezone)
        first, last = start.astimezone(zone).date(), (end.astimezone(zone) - dt.timedelta(seconds=1)).date()
        found: dict[str, Periods | str | None] = {}
        for address in addresses:
            names = [f"{address}.ics", f"{self.ids.get(address, '')}.ics"]
            path = next((self.folder / n for n in names if n != ".ics" and (self.folder / n).is_file()), None)
            if path is None:
                found[address] = None
                continue
            try:
                busy = read_busy(path, self.settings.timezone, first, last)
            except CalendarError as exc:
                found[address] = f"{path.name}, {exc}"
                continue
            found[address] = [(w.start.replace(tzinfo=zone).astimezone(dt.UTC),
                               w.end.replace(tzinfo=zone).astimezone(dt.UTC), "busy")
                              for w in busy.windows]
        return found
