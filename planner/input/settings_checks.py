"""The settings of a visit (visit.toml or the `visit` sheet): every key parsed
by the schema, then the checks that need more than one value (orders, the
lunch window, prep_start, the clocks going forward, days the zone skips).

A part of the validator (:class:`planner.input.validation._Validator` mixes it
in): the helpers it uses (setting, setting_row, problem, check_refs) are there.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from planner import domain as d
from planner.input import schema
from planner.input.core import ValidatorCore
from planner.input.hints import FAR_WINDOW, did_you_mean

SETTING_KEYS = set(schema.VISIT_FIELDS)
UNKNOWN_KEYS_SHOWN = 20  # warnings about unknown keys, one each; the rest are counted


def _exists(day: dt.date, minute: int, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether a local wall time exists (not skipped by the clocks going forward)."""
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), zone)
    return local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


class SettingsChecks(ValidatorCore):
    def read_settings(self) -> dict:
        """Every key of the visit, parsed as far as it can be (a key that does
        not parse takes its default, and its problem is recorded)."""
        source = self.raw.settings_source
        unused = SETTING_KEYS - set(self.raw.settings)  # once: a file of many unknown keys stays linear
        unknown = [key for key in self.raw.settings if key not in SETTING_KEYS]
        for key in unknown[:UNKNOWN_KEYS_SHOWN]:
            guess = did_you_mean(key, unused)
            hint = f" (did you mean `{guess}`?)" if guess else ""
            self.warnings.append(f"{source}: unknown key '{schema.shown(key)}' is ignored{hint}")
        if len(unknown) > UNKNOWN_KEYS_SHOWN:
            self.warnings.append(f"{source}: {len(unknown) - UNKNOWN_KEYS_SHOWN} more unknown keys are ignored")
        values = {key: self.setting(key) for key in schema.VISIT_FIELDS}
        values["timezone"] = values["timezone"] or "Europe/London"
        days = values["interview_days"] or ()
        if days and list(days) != sorted(set(days)):
            self.problem(source, self.setting_row("interview_days"), "interview_days",
                         "interview days must be listed in order, each once")
        values["interview_days"] = tuple(sorted(set(days)))
        feedback_day = values["feedback_day"]
        if feedback_day and days and feedback_day < max(days):
            self.problem(source, self.setting_row("feedback_day"), "feedback_day",
                         f"feedback_day {feedback_day} must be the last interview day {max(days)} or a day "
                         f"after it")
        self.check_dates(values)
        raw_attendees = self.raw.settings.get("debrief_attendees")
        if not values["debrief_attendees"] and raw_attendees is not None and raw_attendees.value.strip():
            self.problem(source, self.setting_row("debrief_attendees"), "debrief_attendees",
                         "name at least the chief executive's person id")
        prep_from = values["prep_start"] or values["day_start"]
        m = d.minutes_of
        checks = (
            (m(values["day_start"]) < m(values["day_end"]), "day_end",
             "day_end must be after day_start"),
            (m(values["day_end"]) <= m(values["debrief_start"]), "day_end",
             f"day_end {values['day_end']:%H:%M} is after debrief_start {values['debrief_start']:%H:%M}"),
            (m(values["lunch_end"]) - m(values["lunch_start"]) >= values["lunch_minutes"], "lunch_end",
             f"the lunch window {values['lunch_start']:%H:%M}–{values['lunch_end']:%H:%M} is shorter "
             f"than lunch_minutes ({values['lunch_minutes']})"),
            (m(values["feedback_start"]) >= m(prep_from), "feedback_start",
             f"feedback_start must not be before prep_start {prep_from:%H:%M} (prep runs from prep_start "
             f"until then)"),
            (values["prep_start"] is None or m(values["prep_start"]) >= m(values["day_start"]), "prep_start",
             "prep_start must not be before day_start"),
            (m(values["debrief_start"]) + values["debrief_minutes"] <= schema.DAY, "debrief_minutes",
             "the debrief must end by midnight"),
            (m(values["feedback_start"]) + values["feedback_minutes"] <= schema.DAY, "feedback_minutes",
             "the feedback presentation must end by midnight"),
        )
        for ok, key, message in checks:
            if not ok:
                self.problem(source, self.setting_row(key), key, message)
        self.check_progress_review(values)
        if not self.check_days_exist(values):
            self.check_clock_changes(values)
        return values

    def check_progress_review(self, values: dict) -> None:
        """(1.2) When the feedback day is also an interview day, prep_start is
        required, and each peer's lunch ends by it: a prep_start earlier than
        lunch_start + lunch_minutes leaves no lunch that could."""
        feedback_day, days = values["feedback_day"], values["interview_days"] or ()
        if feedback_day is None or not days or feedback_day != max(days):
            return
        source, prep = self.raw.settings_source, values["prep_start"]
        if prep is None:
            self.problem(source, self.setting_row("prep_start") or self.setting_row("feedback_day"), "prep_start",
                         f"prep_start is required when feedback_day {feedback_day} is also an interview day (a "
                         f"progress review): the sessions that day end by it, then prep and feedback follow")
            return
        earliest = d.minutes_of(values["lunch_start"]) + values["lunch_minutes"]
        if values["lunch_minutes"] > 0 and d.minutes_of(prep) < earliest:
            self.problem(source, self.setting_row("prep_start"), "prep_start",
                         f"prep_start {prep:%H:%M} is before lunch_start + lunch_minutes "
                         f"({earliest // 60:02d}:{earliest % 60:02d}): on {feedback_day}, the last day of a "
                         f"progress review, each peer's lunch ends by prep_start")

    def check_days_exist(self, values: dict) -> bool:
        """(1.2) Refuse a day the visit's zone skips whole (Pacific/Apia 2011-12-30); True if one was."""
        try:
            zone = zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return False
        found = False
        for key in ("interview_days", "feedback_day"):
            value = values[key]
            for day in value if isinstance(value, tuple) else (value,) if value else ():
                if not any(_exists(day, minute, zone) for minute in range(0, schema.DAY, 30)):
                    found = True
                    self.problem(self.raw.settings_source, self.setting_row(key), key,
                                 f"{day} does not exist in {values['timezone']} (the zone skipped that whole "
                                 f"day); choose another day")
        return found

    def check_dates(self, values: dict) -> None:
        """A visit's days lie within a year of each other and at most a few
        years ahead; a visit in the past is planned, with a warning."""
        source = self.raw.settings_source
        days, feedback_day = values["interview_days"], values["feedback_day"]
        if not days:
            return
        ahead = self.today.replace(year=self.today.year + schema.YEARS_AHEAD) \
            if not (self.today.month == 2 and self.today.day == 29) else self.today + dt.timedelta(days=1826)
        far = [day for day in days if day > ahead]
        if far:
            self.problem(source, self.setting_row("interview_days"), "interview_days",
                         f"{far[0]} is more than {schema.YEARS_AHEAD} years after today ({self.today}); "
                         f"is the year right?")
        last = feedback_day or days[-1]
        if last - days[0] > FAR_WINDOW:
            self.problem(source, self.setting_row("feedback_day" if feedback_day else "interview_days"),
                         "feedback_day" if feedback_day else "interview_days",
                         f"the visit runs from {days[0]} to {last}, more than a year; is a year wrong?")
            return
        if not far:
            self.span = (days[0], last)
        if last < self.today:
            self.warnings.append(f"{source}: the visit's days are in the past (the last is {last}; today is "
                                 f"{self.today}); its invites are for dates that have gone")

    def check_clock_changes(self, values: dict) -> None:
        """Refuse a visit day whose working hours include local times that do
        not exist (the night the clocks go forward)."""
        try:
            zone = zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return
        m = d.minutes_of
        first = min(m(values["day_start"]), m(values["prep_start"] or values["day_start"]))
        last = max(m(values["day_end"]), m(values["debrief_start"]) + values["debrief_minutes"],
                   m(values["feedback_start"]) + values["feedback_minutes"])
        days = list(values["interview_days"] or ())
        if values["feedback_day"] and values["feedback_day"] not in days:
            days.append(values["feedback_day"])
        source = self.raw.settings_source
        for day in days:
            start = dt.datetime.combine(day, dt.time(0), zone)
            if start.utcoffset() == (start + dt.timedelta(hours=23, minutes=59)).utcoffset():
                continue  # no change of offset on this day
            missing = [minute for minute in range(first, min(last, schema.DAY - 1) + 1)
                       if not _exists(day, minute, zone)]
            if missing:
                key = "interview_days" if day in (values["interview_days"] or ()) else "feedback_day"
                gap = f"{missing[0] // 60:02d}:{missing[0] % 60:02d}"
                after = missing[-1] + 1
                self.problem(source, self.setting_row(key), key,
                             f"{gap} does not exist on {day} in {values['timezone']} (the clocks go forward "
                             f"to {after // 60:02d}:{after % 60:02d}), and the visit's hours that day run from "
                             f"{first // 60:02d}:{first % 60:02d}; start the day later (day_start) or choose "
                             f"another day")

    def make_settings(self, values: dict) -> d.Settings | None:
        if any(values[k] in (None, "") for k in ("name", "host", "organiser_name", "organiser_email",
                                                  "office_room", "feedback_room")) \
                or not values["interview_days"] or values["feedback_day"] is None:
            return None
        return d.Settings(**values)

    def check_settings_references(self, values: dict, room_ids, person_ids, rooms):
        source = self.raw.settings_source
        for key in ("office_room", "feedback_room"):
            value = values.get(key)
            if value and room_ids is not None and value not in room_ids:
                self.problem(source, self.setting_row(key), key, self.unknown(value, room_ids, "room"))
        office = next((r for r in rooms if r.id == values.get("office_room")), None)
        if office is not None and office.kind != "office":
            self.warnings.append(f"{source}: office_room '{office.id}' is a room of kind {office.kind}, "
                                 f"not office")
        for key in ("debrief_attendees", "feedback_audience"):
            field = schema.VISIT_FIELDS[key]
            ids = tuple(values.get(key) or ())
            self.check_refs(ids, person_ids, field, source, self.setting_row(key), key)
