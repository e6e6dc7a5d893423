"""Reading one answer: the VEVENTs of an iTIP reply (RFC 5546 METHOD:REPLY,
or METHOD:COUNTER, a proposed new time) in a calendar or an e-mail, as
:class:`Answer` records. Nothing here knows the plan: see :mod:`.judging`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import re
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses, parsedate_to_datetime
from zoneinfo import ZoneInfo

PARTSTATS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined", "DELEGATED": "delegated"}
# Outlook and others name the answer in the subject; read only when PARTSTAT is missing
SUBJECTS = (("tentatively accepted", "tentative"), ("accepted", "accepted"), ("declined", "declined"),
            ("tentative", "tentative"), ("delegated", "delegated"))
CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics")

# Limits by work: a reply is a few kilobytes with one calendar holding one event
MAX_MESSAGE_BYTES = 10 * 1024 * 1024   # a bigger message (or .ics) is refused before it is read or parsed
MAX_CALENDAR_PARTS = 10                # calendar parts read in one message; the rest are left with a line
MAX_EVENTS = 50                        # VEVENTs read in one calendar


class TooBig(bytes):
    """Stands for a message or calendar refused by its size before it was read (empty)."""

    size: int = 0

    @classmethod
    def of(cls, size: int) -> TooBig:
        made = cls()
        made.size = size
        return made

    def problem(self, source: str) -> str:
        return (f"{source}: {self.size / 1048576:.1f} MB, larger than the {MAX_MESSAGE_BYTES // 1048576} MB "
                f"a reply may be; not read")


@dataclass(frozen=True)
class Answer:
    """One VEVENT of a METHOD:REPLY, with the e-mail it came in (if any)."""

    uid: str
    attendee: str              # the ATTENDEE's address, lower case ('' if none)
    partstat: str              # as written, upper case ('' if none)
    sequence: int | None
    when: str | None           # DTSTAMP (or the e-mail's Date) as UTC ISO
    comment: str
    delegated_to: tuple[str, ...] = ()
    delegated_from: tuple[str, ...] = ()
    sent_by: str = ""
    sender: str = ""           # From of the e-mail ('' for a bare .ics file)
    on_behalf: str = ""        # Sender of the e-mail, when it differs from From
    subject: str = ""
    message_id: str = ""
    source: str = ""
    method: str = "REPLY"      # REPLY, or COUNTER: a proposed new time (DTSTART/DTEND are the proposal)
    start: dt.datetime | None = None  # DTSTART, aware (naive: floating, the visit's own time)
    end: dt.datetime | None = None    # DTEND (or DTSTART + DURATION)
    auth_failure: str = ""     # the e-mail's Authentication-Results failures ("dmarc=fail, spf=fail"), if any


def _address(value) -> str:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().strip("<>").lower()


def _one_line(value, limit: int = 500) -> str:
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(value or ""))
    return re.sub(r" {2,}", " ", text).strip()[:limit]


def _utc(value, cal=None) -> str | None:
    """A date-time as UTC ISO: aware, or read in its own TZID (DTSTAMP;TZID=Europe/Paris:…,
    which icalendar leaves naive), else taken as UTC."""
    if value is None:
        return None
    moment = _moment(value, cal) if hasattr(value, "dt") else value
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


# Outlook's display names of the zones a UK visit meets (Windows' own names are read by icalendar)
DISPLAY_NAMES = {"dublin, edinburgh, lisbon, london": "Europe/London",
                 "amsterdam, berlin, bern, rome, stockholm, vienna": "Europe/Berlin",
                 "brussels, copenhagen, madrid, paris": "Europe/Paris",
                 "belgrade, bratislava, budapest, ljubljana, prague": "Europe/Budapest",
                 "sarajevo, skopje, warsaw, zagreb": "Europe/Warsaw",
                 "coordinated universal time": "UTC", "monrovia, reykjavik": "Atlantic/Reykjavik"}
_OFFSET = re.compile(r"\(UTC(?:([+-])(\d\d):(\d\d))?\)\s*(.*)\Z", re.I)


def zone_of(tzid: str, cal=None) -> dt.tzinfo | None:
    """The zone a TZID names: an IANA name, a Windows zone name, the calendar's own
    VTIMEZONE of that name, or one of Outlook's display names; None when unknown."""
    from icalendar.timezone import tzp

    tzid = str(tzid or "").strip().strip('"')
    if not tzid:
        return None
    with contextlib.suppress(Exception):
        return ZoneInfo(tzid)
    with contextlib.suppress(Exception):
        found = tzp.timezone(tzid)  # Windows names ("GMT Standard Time")
        if found is not None:
            return found
    for component in (cal.walk("VTIMEZONE") if cal is not None else ()):
        if str(component.get("TZID", "")).strip() == tzid:
            with contextlib.suppress(Exception):
                return component.to_tz()
    match = _OFFSET.match(tzid)
    if match:
        sign, hours, minutes, places = match.groups()
        named = DISPLAY_NAMES.get(" ".join(places.lower().split()))
        if named:
            return ZoneInfo(named)
        offset = dt.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        return dt.timezone(-offset if sign == "-" else offset)
    return None


def _moment(prop, cal=None):
    """The value of a date or date-time property, aware when its TZID can be read."""
    value = getattr(prop, "dt", None)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        zone = zone_of(getattr(prop, "params", {}).get("TZID", ""), cal)
        if zone is not None:
            value = value.replace(tzinfo=zone)
    return value


def _param_addresses(prop, name: str) -> tuple[str, ...]:
    value = getattr(prop, "params", {}).get(name)
    if not value:
        return ()
    values = value if isinstance(value, (list, tuple)) else re.split(r",(?=\s*\"?mailto:)", str(value))
    return tuple(a for a in (_address(str(v).strip().strip('"')) for v in values) if a)


def answers_in_calendar(data: bytes, *, sender: str = "", on_behalf: str = "", subject: str = "",
                        message_id: str = "", date: str | None = None, source: str = "",
                        auth_failure: str = "") -> list[Answer]:
    """The answers of one iCalendar object; [] when it is not a METHOD:REPLY
    or a METHOD:COUNTER. Raises ValueError when it is not iCalendar at all."""
    from icalendar import Calendar

    if isinstance(data, TooBig) or len(data) > MAX_MESSAGE_BYTES:
        size = data.size if isinstance(data, TooBig) else len(data)
        raise ValueError(f"{size / 1048576:.1f} MB, larger than the {MAX_MESSAGE_BYTES // 1048576} MB a reply "
                         f"may be; not read")
    try:
        cal = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and others on garbage
        raise ValueError(f"not a readable calendar ({type(exc).__name__})") from None
    method = str(cal.get("METHOD", "")).upper()
    if method not in ("REPLY", "COUNTER"):
        return []
    answers = []
    for event in cal.walk("VEVENT")[:MAX_EVENTS]:
        uid = _one_line(event.get("UID", ""), 300)
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else ([attendees] if attendees is not None else [])
        # the attendee who answers: the one the e-mail comes from, else the one with an answer
        chosen = None
        for prop in attendees:
            if sender and _address(prop) == sender:
                chosen = prop
        if chosen is None:
            answered = [p for p in attendees if str(p.params.get("PARTSTAT", "")).upper() not in ("", "NEEDS-ACTION")]
            chosen = (answered or attendees or [None])[0]
        partstat = str(chosen.params.get("PARTSTAT", "")).upper() if chosen is not None else ""
        sequence = event.get("SEQUENCE")
        try:
            sequence = int(sequence) if sequence is not None else None
        except (TypeError, ValueError):
            sequence = None
        comment = event.get("COMMENT")
        if isinstance(comment, list):
            comment = " ".join(str(c) for c in comment)
        start, end = _span(event, cal)
        answers.append(Answer(
            uid=uid, attendee=_address(chosen) if chosen is not None else "", partstat=partstat,
            sequence=sequence, when=_utc(event.get("DTSTAMP"), cal) or date, comment=_one_line(comment),
            method=method, start=start, end=end,
            delegated_to=_param_addresses(chosen, "DELEGATED-TO"),
            delegated_from=_param_addresses(chosen, "DELEGATED-FROM"),
            sent_by=(_param_addresses(chosen, "SENT-BY") or ("",))[0],
            sender=sender, on_behalf=on_behalf, subject=_one_line(subject, 200),
            message_id=_one_line(message_id, 300), source=source, auth_failure=auth_failure))
    return answers


def _span(event, cal) -> tuple[dt.datetime | None, dt.datetime | None]:
    """DTSTART and DTEND (or DTSTART + DURATION) of a VEVENT, when they are date-times."""
    start = end = None
    with contextlib.suppress(Exception):
        start = _moment(event.get("DTSTART"), cal) if event.get("DTSTART") is not None else None
        if event.get("DTEND") is not None:
            end = _moment(event.get("DTEND"), cal)
        elif event.get("DURATION") is not None and isinstance(start, dt.datetime):
            end = start + event["DURATION"].dt
    start = start if isinstance(start, dt.datetime) else None
    end = end if isinstance(end, dt.datetime) and start is not None else None
    return start, end


_AUTH_FAILURE = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*fail\b", re.IGNORECASE)


def auth_failures(values) -> str:
    """The DMARC, SPF and DKIM failures the Authentication-Results headers report
    ("dmarc=fail, spf=fail"), '' when none. Any header counts: a sender can forge a
    pass further down, but a fail only ever makes its own message suspicious."""
    found: list[str] = []
    for value in values:
        for method in _AUTH_FAILURE.findall(str(value or "")[:4000]):
            if f"{method.lower()}=fail" not in found:
                found.append(f"{method.lower()}=fail")
    return ", ".join(found)


def answers_in_message(raw: bytes | email.message.Message, source: str) -> tuple[list[Answer], list[str]]:
    """(answers, problems) of one e-mail: every calendar part (up to MAX_CALENDAR_PARTS),
    the same one counted once; a message larger than MAX_MESSAGE_BYTES is not parsed."""
    if isinstance(raw, TooBig):
        return [], [raw.problem(source)]
    if isinstance(raw, bytes) and len(raw) > MAX_MESSAGE_BYTES:
        return [], [TooBig.of(len(raw)).problem(source)]
    try:
        msg = raw if isinstance(raw, email.message.Message) else email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        return [], [f"{source}: not a readable e-mail ({type(exc).__name__})"]

    def header(name: str) -> str:
        try:
            return str(msg.get(name, "") or "")
        except Exception:  # a malformed header
            return ""

    def first_address(name: str) -> str:
        pairs = getaddresses([header(name)])
        return _address(pairs[0][1]) if pairs and pairs[0][1] else ""

    sender, on_behalf = first_address("From"), first_address("Sender")
    try:
        failure = auth_failures(msg.get_all("Authentication-Results") or ())
    except Exception:  # a malformed header
        failure = ""
    date = None
    with contextlib.suppress(Exception):
        date = _utc(parsedate_to_datetime(header("Date")))
    seen: set[bytes] = set()
    answers: list[Answer] = []
    problems: list[str] = []
    tnef = False
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").lower() if hasattr(part, "get_filename") else ""
        tnef = tnef or part.get_content_type() == "application/ms-tnef" or name == "winmail.dat"
        if part.get_content_type() not in CALENDAR_TYPES and not name.endswith(".ics"):
            continue
        try:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        except Exception:
            data = b""
        if not data.strip() or data in seen:
            continue
        if len(seen) >= MAX_CALENDAR_PARTS:
            problems.append(f"{source}: more than {MAX_CALENDAR_PARTS} calendar parts in one message; only the "
                            f"first {MAX_CALENDAR_PARTS} were read")
            break
        seen.add(data)
        try:
            answers += answers_in_calendar(data, sender=sender, on_behalf=on_behalf if on_behalf != sender else "",
                                           subject=header("Subject"), message_id=header("Message-ID"),
                                           date=date, source=source, auth_failure=failure)
        except ValueError as exc:
            problems.append(f"{source}: attachment {name or part.get_content_type()!s} is {exc}")
    if tnef and not seen:
        problems.append(f"{source}: an Outlook reply in its own format (winmail.dat, TNEF) with no iCalendar; "
                        f"read the answer by hand, or have Outlook send calendar replies as iCalendar")
    return answers, problems
