"""The edit forms built from the input schema (planner.input.schema): each
column and setting labelled in plain words ("Duration (minutes)", not
`duration_minutes`), the schema's meaning and format as hint text, and the
right control: a drop-down of the referenced table's ids, checkboxes for a list
of ids, a drop-down of the fixed values, a date input, and times typed as
people write them (16:15, 16.15, 4.15pm: planner.web.times reads them).

A form posts only what it shows: a column missing from the post keeps its
value (a list of checkboxes sends nothing when none is ticked, so each list
also posts its name in `shown-lists`, and then none ticked means blank)."""

from __future__ import annotations

import re

from planner.input.schema import REF_NAMES, TABLE_FIELDS, VISIT_FIELDS, Field

# Plain-word labels where the column's name, tidied, would not be plain enough.
LABELS = {
    "id": "Short code (id)", "name": "Name", "job_title": "Job title", "duration_minutes": "Duration (minutes)",
    "peers": "Number of peers", "required_peers": "Peers who must attend", "fixed_start": "Fixed start (date and time)",
    "earliest": "Earliest start", "latest": "Latest end", "days": "Days it may be held on", "after": "After session",
    "room": "Room it must use", "themes": "Themes", "attendees": "Attendees", "priority": "Priority",
    "unavailable": "Unavailable (dates and times)", "max_sessions_per_day": "Most sessions a day",
    "travel_minutes": "Travel each way (minutes)", "specialisms": "Themes covered best",
    "aliases": "Other e-mail addresses",
    "email": "E-mail address", "calendar": "Calendar file", "url": "Link (web address)",
    "organiser_name": "Organiser's name", "organiser_email": "Organiser's e-mail address",
    "organiser_phone": "Organiser's phone number", "interview_days": "Interview days", "feedback_day": "Feedback day",
    "day_start": "Day starts at", "day_end": "Day ends at", "slot_minutes": "Start times every (minutes)",
    "max_sessions_per_peer_per_day": "Most sessions a peer has a day",
    "buffer_minutes": "Gap between a peer's sessions (minutes)",
    "lunch_start": "Lunch window opens", "lunch_end": "Lunch window closes", "lunch_minutes": "Lunch break (minutes)",
    "office_room": "Team's office", "debrief_start": "Debrief starts at", "debrief_minutes": "Debrief length (minutes)",
    "debrief_attendees": "Debrief attendees", "prep_start": "Prep starts at (feedback day)",
    "tentative_is_busy": "Tentative calendar events count as busy", "feedback_start": "Feedback presentation starts at",
    "feedback_minutes": "Feedback presentation length (minutes)", "feedback_room": "Feedback presentation room",
    "feedback_audience": "Feedback presentation audience", "timezone": "Time zone", "host": "Host organisation",
}
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})")


def field_of(table: str | None, column: str) -> Field | None:
    return (VISIT_FIELDS if table is None else TABLE_FIELDS.get(table, {})).get(column)


def label_of(table: str | None, column: str) -> str:
    """A column or setting in plain words."""
    if column in LABELS:
        return LABELS[column]
    words = column.replace("_", " ").strip()
    if words.endswith(" minutes"):
        words = words.removesuffix(" minutes") + " (minutes)"
    return words[:1].upper() + words[1:] if words else column


def hint_of(field: Field | None) -> str:
    """The schema's meaning, format and default, as hint text."""
    if field is None:
        return "A column the input format does not know: it is kept, and ignored by the planner."
    text = field.meaning.rstrip(".") + "."
    if field.kind not in ("text", "line", "choice", "ref", "refs", "date", "time", "datetime", "bool"):
        text += f" Format: {field.format}."
    if field.kind == "time":
        text += " For example 16:15, 16.15 or 4.15pm."
    if field.kind == "datetime":
        text += " A date and a time, for example 2026-05-19 16:15 or 2026-05-19 4.15pm."
    if not field.required and field.shown_default:
        text += f" Blank: {field.shown_default}."
    return text


def _ids(raw, table: str) -> list[tuple[str, str]]:
    """(id, what to show) of every row of a table that has an id, in file order."""
    t = raw.tables.get(table)
    out, seen = [], set()
    for _n, cells in (t.rows if t else []):
        key = str(cells.get("id", "")).strip()
        if key and key not in seen:
            seen.add(key)
            name = str(cells.get("name") or cells.get("title") or "").strip()
            out.append((key, f"{name} ({key})" if name and name != key else key))
    return out


def widget(table: str | None, column: str, value: str, raw) -> dict:
    """What the form shows for one column: its label, hint and control."""
    field = field_of(table, column)
    value = "" if value is None else str(value)
    out = {"name": column, "label": label_of(table, column), "hint": hint_of(field), "value": value,
           "control": "text", "options": [], "required": bool(field and field.required)}
    if field is None:
        return out
    if field.kind in ("choice", "bool"):
        choices = field.choices if field.kind == "choice" else ("true", "false")
        chosen = next((c for c in choices if c.lower() == value.strip().lower()), value.strip())
        options = [(c, c.replace("_", " "), c == chosen) for c in choices]
        out.update(control="select", options=_with_unknown(options, chosen, "not one of the choices"),
                   blank="" if field.required else f"Blank ({field.shown_default or 'none'})")
    elif field.kind == "ref" and field.refers_to:
        options = [(k, shown, k == value.strip()) for k, shown in _ids(raw, field.refers_to)]
        what = REF_NAMES[field.refers_to]
        out.update(control="select", options=_with_unknown(options, value.strip(), f"not a {what} id"),
                   blank="" if field.required else "None")
    elif field.kind == "refs" and field.refers_to:
        chosen_ids = [v.strip() for v in value.split(";") if v.strip()]
        options = [(k, shown, k in chosen_ids) for k, shown in _ids(raw, field.refers_to)]
        known = {k for k, _s, _c in options}
        what = REF_NAMES[field.refers_to]
        options += [(v, f"{v} (not a {what} id)", True) for v in chosen_ids if v not in known]
        options.sort(key=lambda option: not option[2])  # the ticked ones first, in file order
        out.update(control="checkboxes", options=options)
    elif field.kind == "date" and (not value or DATE_RE.fullmatch(value.strip())):
        out.update(control="date", value=value.strip())
    elif field.kind in ("time", "datetime"):  # typed, as people write times, read by planner.web.times:
        # a browser's time picker sends a blank for "4.15", which would clear the cell without a word
        match = DATETIME_RE.fullmatch(value.strip())
        out.update(control=field.kind, value=f"{match.group(1)} {match.group(2)}" if match else value.strip())
    elif field.kind in ("text",) and column in ("notes", "arrival", "directions", "question"):
        out.update(control="textarea")
    elif field.kind == "email":
        out.update(control="email")
    elif field.kind == "int":
        out.update(control="number")
    return out


def _with_unknown(options: list, value: str, why: str) -> list:
    """Options, plus the current value when it is none of them (shown, so nothing typed is lost)."""
    if value and not any(k == value for k, _s, _c in options):
        return [*options, (value, f"{value} ({why})", True)]
    return options


def posted(form, columns: list[str], current: dict[str, str]) -> dict[str, str]:
    """The cells a form posted: lists joined with `;`, a column not posted kept as it was."""
    lists = set(form.getlist("shown-lists"))
    out = {}
    for column in columns:
        if column in form:
            values = [str(v).strip() for v in form.getlist(column)]
            out[column] = ";".join(v for v in values if v) if len(values) > 1 else (values[0] if values else "")
        elif column in lists:
            out[column] = ""
        else:
            out[column] = str(current.get(column, "") or "")
        was = str(current.get(column, "") or "")
        if column in lists and sorted(_items(out[column])) == sorted(_items(was)):
            out[column] = was  # the same ids ticked: kept as written (their order, their spacing)
    return out


def _items(text: str) -> list[str]:
    return [v.strip() for v in text.split(";") if v.strip()]
