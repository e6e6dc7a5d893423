"""Reading the tables of a visit (contract §1): themes, peers, rooms, people,
documents and sessions, each row checked by the schema and against the other
tables, and the busy time of the `calendar` files added to the windows.

A part of the validator (:class:`planner.input.validation._Validator` mixes it
in): the helpers it uses (value, refs, ref, unique_ids, problem) are there.
"""

from __future__ import annotations

from dataclasses import replace

from planner import domain as d
from planner.input.core import ValidatorCore
from planner.text import clean_text


class TableReaders(ValidatorCore):
    def read_themes(self, rows):
        return tuple(d.Theme(rid, self.value(row, "name", default=rid), self.value(row, "question"))
                     for row, rid in self.unique_ids(rows))

    def read_peers(self, rows, theme_ids):
        self.person_namespace: dict[str, str] = {}
        self.addresses: dict[str, tuple[str, int]] = {}  # alias (lower case) -> where it is given
        peers = []
        for row, rid in self.unique_ids(rows, self.person_namespace):
            peers.append(d.Peer(
                id=rid, name=self.value(row, "name", default=rid), role=self.value(row, "role"),
                kind=self.value(row, "kind"), email=self.value(row, "email"),
                specialisms=self.refs(row, "specialisms", theme_ids),
                unavailable=self.value(row, "unavailable"),
                max_sessions_per_day=self.value(row, "max_sessions_per_day"),
                phone=self.value(row, "phone"), calendar=self.value(row, "calendar"),
                aliases=self.aliases(row)))
        return tuple(peers)

    def read_rooms(self, rows):
        rooms = []
        for row, rid in self.unique_ids(rows):
            kind = self.value(row, "kind", default="interview")
            travel = self.value(row, "travel_minutes")
            if travel and kind != "offsite":
                self.warnings.append(f"{row.table.source} row {row.number}: travel_minutes applies "
                                     f"only to offsite rooms and is ignored for '{rid}'")
            rooms.append(d.Room(
                id=rid, name=self.value(row, "name", default=rid), kind=kind,
                capacity=self.value(row, "capacity", default=1), location=self.value(row, "location"),
                travel_minutes=travel, unavailable=self.value(row, "unavailable"),
                directions=self.value(row, "directions"), email=self.value(row, "email"),
                calendar=self.value(row, "calendar")))
        return tuple(rooms)

    def read_people(self, rows, peer_ids):
        """people.csv; a blank organisation is the host's for officers and
        councillors, and none for partners, residents and others (contract 1.1)."""
        people = []
        for row, rid in self.unique_ids(rows, self.person_namespace):
            category = self.value(row, "category")
            default_organisation = self.host if category in d.HOST_CATEGORIES else ""
            people.append(d.Person(
                id=rid, name=self.value(row, "name", default=rid), job_title=self.value(row, "job_title"),
                organisation=self.value(row, "organisation", default=default_organisation),
                category=category, email=self.value(row, "email"),
                unavailable=self.value(row, "unavailable"), phone=self.value(row, "phone"),
                calendar=self.value(row, "calendar"), aliases=self.aliases(row)))
        return tuple(people)

    def aliases(self, row) -> tuple[str, ...]:
        """(1.2) The other addresses of a peer or person: each an e-mail address, none
        their own `email` again, none another's (a reply must name one person)."""
        aliases = self.value(row, "aliases")
        email = (self.value(row, "email") or "").lower()
        own = tuple(a for a in aliases if a.lower() != email)
        for address in own:
            other = self.addresses.setdefault(address.lower(), (row.table.source, row.number))
            if other != (row.table.source, row.number):
                self.problem(row.table.source, row.number, "aliases",
                             f"'{address}' is already an alias at {other[0]} row {other[1]}; an address "
                             f"belongs to one person")
        return own

    def read_documents(self, rows, theme_ids):
        return tuple(d.Document(rid, self.value(row, "title", default=rid),
                                self.refs(row, "themes", theme_ids), self.value(row, "url"))
                     for row, rid in self.unique_ids(rows))

    def read_sessions(self, rows, settings: dict, theme_ids, peer_ids, room_ids, person_ids):
        sessions = []
        numbers = {}
        interview_days = set(settings.get("interview_days") or ())
        day_start, slot = settings.get("day_start"), settings.get("slot_minutes")
        for row, rid in self.unique_ids(rows):
            src, n = row.table.source, row.number
            attendees = self.refs(row, "attendees", person_ids)
            peers_needed = self.value(row, "peers")
            required = self.refs(row, "required_peers", peer_ids)
            if len(required) > peers_needed:
                self.problem(src, n, "required_peers",
                             f"{len(required)} required peers but the session has only {peers_needed} peers")
            if peer_ids and peers_needed > len(peer_ids):
                self.problem(src, n, "peers", f"needs {peers_needed} peers but the team has only "
                                              f"{len(peer_ids)}")
            room = self.ref(row, "room", room_ids)
            days = self.value(row, "days")
            for day in days:
                if interview_days and day not in interview_days:
                    self.problem(src, n, "days", f"{day.isoformat()} is not an interview day")
            fixed = self.value(row, "fixed_start")
            if fixed is not None and interview_days:
                if fixed.date() not in interview_days:
                    self.problem(src, n, "fixed_start", f"{fixed:%Y-%m-%d} is not an interview day")
                if day_start is not None and slot:
                    offset = d.minutes_of(fixed.time()) - d.minutes_of(day_start)
                    if offset % slot:
                        self.problem(src, n, "fixed_start",
                                     f"{fixed:%H:%M} is not on the {slot}-minute slot grid counted from "
                                     f"{day_start:%H:%M}")
            earliest = self.value(row, "earliest")
            latest = self.value(row, "latest")
            duration = self.value(row, "duration_minutes")
            if earliest and latest and d.minutes_of(latest) - d.minutes_of(earliest) < duration:
                self.problem(src, n, "latest", f"between earliest {earliest:%H:%M} and latest "
                                               f"{latest:%H:%M} there is no room for {duration} minutes")
            after = self.value(row, "after")
            numbers[rid] = (src, n)
            sessions.append(d.Session(
                id=rid, title=self.value(row, "title", default=rid), kind=self.value(row, "kind"),
                themes=self.refs(row, "themes", theme_ids), attendees=attendees,
                duration_minutes=duration, peers=peers_needed, required_peers=required, room=room,
                days=days, earliest=earliest, latest=latest, fixed_start=fixed,
                priority=self.value(row, "priority"), after=after, notes=self.value(row, "notes")))
        ids = {s.id for s in sessions}
        for s in sessions:
            if s.after is not None and s.after not in ids:
                src, n = numbers[s.id]
                self.problem(src, n, "after", self.unknown(s.after, ids, "session"))
            elif s.after == s.id:
                src, n = numbers[s.id]
                self.problem(src, n, "after", "a session cannot come after itself")
        self.check_after_cycles(sessions, numbers)
        return tuple(sessions)

    def check_after_cycles(self, sessions, numbers):
        after = {s.id: s.after for s in sessions if s.after and s.after != s.id}
        reported = set()
        for start in after:
            chain, node = [], start
            while node in after and node not in chain:
                chain.append(node)
                node = after[node]
            if node in chain:
                cycle = chain[chain.index(node):]
                key = frozenset(cycle)
                if key in reported:
                    continue
                reported.add(key)
                loop = " → ".join(cycle + [cycle[0]])
                first = min(cycle, key=lambda c: numbers[c][1])
                src, n = numbers[first]
                self.problem(src, n, "after", f"the sessions' after column makes a cycle: {loop}")

    def with_calendars(self, rows, items, settings):
        """Busy time of each `calendar` file (planner.input.calendars) added to the peer's,
        person's or room's unavailable windows; the path was checked by the schema (relative,
        inside). *(1.2)* The owner (email and aliases) decides which answers are theirs,
        and this visit's own invitations are not busy time."""
        from planner.identity import is_own_uid
        from planner.input.calendars import CalendarError, Owner, read_busy

        if self.base is None or not any(item.calendar for item in items):
            return items
        where = {clean_text(row.cells.get("id", "")).strip(): row for row in rows}
        last = max(settings.feedback_day, settings.interview_days[-1])
        base = self.base.resolve()
        out = []
        for item in items:
            row = where.get(item.id)
            source, number = (row.table.source, row.number) if row else ("", None)
            if not item.calendar:
                out.append(item)
                continue
            path = (self.base / item.calendar).resolve()
            if base not in path.parents:  # a symbolic link leading out of the visit folder
                self.problem(source, number, "calendar", f"'{item.calendar}' must be a file inside the visit "
                                                         f"folder, named relative to it")
            elif not path.is_file():
                self.problem(source, number, "calendar", f"{item.calendar}: no such file")
            else:
                try:
                    addresses = (item.email, *getattr(item, "aliases", ()))
                    owner = Owner(frozenset(a.lower() for a in addresses if a), settings.tentative_is_busy,
                                  lambda uid: is_own_uid(settings, uid))
                    key = (path, owner.addresses)
                    if key not in self.calendars:  # a shared calendar is read once per owner
                        self.calendars[key] = read_busy(path, settings.timezone, settings.interview_days[0], last,
                                                        owner)
                    busy = self.calendars[key]
                except CalendarError as exc:
                    self.problem(source, number, "calendar", f"{item.calendar}, {exc}")
                else:
                    self.notes.append(f"{item.id}: {len(busy.windows)} window{'s' if len(busy.windows) != 1 else ''}"
                                      f" from {item.calendar}")
                    item = replace(item, unavailable=item.unavailable + busy.windows)
            out.append(item)
        return tuple(out)
