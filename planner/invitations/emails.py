"""Invitation e-mails: one RFC 5322 message per message of the invites manifest.

A REQUEST or CANCEL message is about one event (one UID): its letter says
when, where, how long, with which peers, what it is about, that nothing is
attributed, and whom to contact. A peer's PUBLISH message carries their week.

Each .eml is multipart/mixed: a multipart/alternative holding a friendly
text/plain body and the invite as ``text/calendar; method=…`` (the method of
the .ics), then the same .ics as an attachment; an interviewee's session
invitation (REQUEST of kind ``sessions``) also carries their briefing pack,
``briefing.html`` (text/html), the same page as
briefings/interviewees/<person>.html: only their own sessions, never another
attendee. The pack is not part of the invite's fingerprint: a change to the
pack alone sends nothing again. From is the organiser, To the
recipient, Date the fixed clock, Message-ID stable (from the message key,
i.e. uids, sequences, method and recipient). Every header is built from
cleaned values, so no CR/LF reaches a header; From and To are written by
:func:`mailbox_field` (plain words, or RFC 2047 encoded-words for any name with
punctuation or non-ASCII letters), never by the library's folding, which in
Python 3.11 drops the quotes of a long display name and so lets a name such as
``Ann Smith: attacker@evil.example, …`` add addresses.

The bytes of each message are written by :mod:`.mime` (headers, parts and
boundaries), not built as an email.message.EmailMessage: the same bytes the
email package writes with :data:`MAIL_POLICY`, in a fraction of the time.

The exporter :func:`export_invites` writes the invites, then the e-mails from
the manifest invites.write_invites returns (never re-reading its JSON).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from planner import domain as d
from planner.documents.briefings import interviewee_page
from planner.documents.render import common, issued_wording, version_of
from planner.documents.view import kind_label, over_lunch, plan_view, stay_wording, visit_kind
from planner.invitations import mime
from planner.invitations.events import NOT_ATTRIBUTED, peers_of, themes_of
from planner.invitations.invites import write_invites
from planner.invitations.manifest import Cancellation, Event, Manifest, Message, UnitRecord, load_manifest
from planner.invitations.mime import mailbox_field, subject_field
from planner.store.fs import inside
from planner.text import clean, clean_email

ATTACHMENT_NAMES = {"REQUEST": "invite.ics", "PUBLISH": "calendar.ics", "CANCEL": "cancel.ics"}
BRIEFING_NAME = "briefing.html"


def _day(moment: dt.datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def _when(start: dt.datetime, end: dt.datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} ({minutes} minutes)"


_LOOKUP: list = []  # (plan, its items by id) of the last plan asked for


def _item_lookup(plan: d.Plan) -> dict[str, d.PlanItem]:
    """item id -> item, built once per plan (not once per message)."""
    if not (_LOOKUP and _LOOKUP[0] is plan):
        _LOOKUP[:] = [plan, {i.item_id: i for i in plan.items}]
    return _LOOKUP[1]


def _event_block(visit: d.Visit, plan: d.Plan, event: Event, item: d.PlanItem | None, note: str = "") -> list[str]:
    start = dt.datetime.fromisoformat(event.start)
    end = dt.datetime.fromisoformat(event.end)
    title = clean(item.title) if item is not None else clean(event.summary or "")
    kind = kind_label(item.kind if item is not None else event.kind or "")
    lines = [f"{title} ({kind.lower()})" + (f" — {note}" if note else ""),
             f"  When:  {_when(start, end)}"]
    if clean(event.location):
        lines.append(f"  Where: {clean(event.location)}")
    if item is not None:
        entry = plan_view(visit, plan).of(item)
        peers = peers_of(entry)
        if peers:
            lines.append("  With:  " + "; ".join(n + (f", {r}" if r else "") for n, r in peers))
        themes = themes_of(entry)
        if themes:
            lines.append("  About: " + "; ".join(n + (f" — {q}" if q else "") for n, q in themes))
    return lines


def _arrival_lines(visit: d.Visit, plan: d.Plan, item: d.PlanItem) -> list[str]:
    """How to arrive (the visit's `arrival`) and find the room (its
    `directions`), for an item on site."""
    place = plan_view(visit, plan).of(item).place
    if place.offsite:
        return [f"  Finding it: {clean(place.directions)}"] if clean(place.directions) else []
    lines = []
    if clean(visit.settings.arrival):
        lines.append(f"  Arrival: {clean(visit.settings.arrival)}")
    if clean(place.directions):
        lines.append(f"  Finding the room: {clean(place.directions)}")
    return lines


def _short(event: Event | Cancellation) -> str:
    start = dt.datetime.fromisoformat(event.start)
    end = dt.datetime.fromisoformat(event.end)
    return f"- {start:%a} {start.day} {start:%b} {start:%H:%M}–{end:%H:%M}  {clean(event.summary)}" + (
        f" — {clean(event.location)}" if clean(event.location) else "")


NOUNS = {"sessions": ("session", "sessions"), "debriefs": ("daily debrief", "daily debriefs"),
         "feedback": ("feedback presentation", "feedback presentations")}


def _noun(kind: str, count: int) -> str:
    one, many = NOUNS.get(kind, ("event", "events"))
    return one if count == 1 else many


def _was(event: Event) -> str:
    """What the recipient held before a change, when the time or the place moved."""
    held = event.held
    if held is None or not held.start or not held.end:
        return ""
    start, end = dt.datetime.fromisoformat(held.start), dt.datetime.fromisoformat(held.end)
    moved = (held.start, held.end) != (event.start, event.end)
    place = clean(held.location)
    if not moved and place == clean(event.location):
        return ""
    return f"  Was:   {_when(start, end)}" + (f", {place}" if place and place != clean(event.location) else "")


@dataclass(frozen=True)
class _Letter:
    """What every letter of a visit says the same way."""

    name: str           # the visit's name
    intro: str          # what a peer challenge is, for a first invitation
    reach: str          # the organiser, their address and phone
    event_name: str     # "corporate peer challenge" or "progress review"

    @property
    def contact(self) -> str:
        return f"If the time does not suit you or you have a question, please contact {self.reach}."


def _letter(visit: d.Visit) -> _Letter:
    s = visit.settings
    first, feedback = s.interview_days[0], s.feedback_day
    event_name = visit_kind(visit)
    span = (f"on {_day(dt.datetime.combine(first, dt.time()))}" if first == feedback else
            f"from {_day(dt.datetime.combine(first, dt.time()))} to {_day(dt.datetime.combine(feedback, dt.time()))}")
    intro = (f"{clean(s.host)} is holding a {event_name} {span}: a team of experienced councillors and "
             f"officers from other councils {stay_wording(visit)} with us to help us improve.")
    phone = f" or on {clean(s.organiser_phone)}" if clean(s.organiser_phone) else ""
    reach = f"{clean(s.organiser_name)} at {clean_email(s.organiser_email)}{phone}"
    return _Letter(clean(s.name), intro, reach, event_name)


def _cancel_letter(letter: _Letter, unit: UnitRecord, message: Message) -> tuple[str, list[str]]:
    events = [c for c in unit.cancelled if c.uid in set(message.uids)]
    withdrawn = all(c.withdrawn for c in events)
    if len(events) == 1:
        subject = f"Cancelled: {clean(events[0].summary)} — {letter.name}"
    else:
        subject = f"Cancelled: {len(events)} peer challenge events — {letter.name}"
    if withdrawn:
        lead = ("The plan for the peer challenge has changed, and the following "
                + ("has" if len(events) == 1 else "have") + " been cancelled:")
    else:
        lead = "The plan for the peer challenge has changed, and you are no longer needed at the following:"
    lines = [lead, ""] + [_short(event) for event in events]
    lines += ["", "The attached cancellation removes it from your calendar. Thank you for making the "
                  "time; we are sorry for the change."]
    remaining, kind = len(unit.events), message.kind
    moved = [e for e in unit.events if e.change in ("changed", "new")]
    if remaining and kind == "peer" and moved:
        lines += ["", f"Other parts of your week changed in the same re-plan ({len(moved)} "
                      f"{'item' if len(moved) == 1 else 'items'}); your updated week comes in its own "
                      "message with the calendar attached."]
    elif remaining and kind == "peer":
        lines += ["", "The rest of your week on the peer challenge stays as planned."]
    elif remaining == 1:
        lines += ["", f"Your other {_noun(kind, 1)} with the peer team stays as planned."]
    elif remaining:
        lines += ["", f"Your other {remaining} {_noun(kind, remaining)} with the peer team stay as planned; "
                      "each has its own invitation."]
    return subject, lines + ["", f"If you have a question, please contact {letter.reach}."]


def _week_letter(letter: _Letter, unit: UnitRecord, message: Message) -> tuple[str, list[str]]:
    events = [e for e in unit.events if e.uid in set(message.uids)]
    changed = any(e.change == "changed" for e in events) or message.role == "update"
    subject = (f"Updated: your week — {letter.name}" if changed else f"Your week — {letter.name}")
    lines = [("Your week on the peer challenge has changed. " if changed else
              "Here is your week on the peer challenge. ")
             + "The attached calendar holds every session, debrief, preparation and the feedback "
               "presentation, with attendees, themes and notes:", ""]
    lines += [_short(e) + (" (changed)" if e.change == "changed" else "") for e in events]
    return subject, lines + ["", letter.contact]


def _opening(letter: _Letter, kind: str, prefix: str, title: str, start: dt.datetime) -> tuple[str, str, list[str]]:
    """(subject, lead, opening lines) of an invitation to one event."""
    if kind == "sessions":
        return f"{prefix}: {title} — {letter.name}", "The peer team would like to meet you:", [letter.intro, ""]
    if kind == "debriefs":
        return (f"{prefix}: daily debrief, {start:%A} {start.day} {start:%B} — {letter.name}",
                "At the end of each interview day the peer team meets you in its office to share what it "
                "heard and saw that day, to test its emerging thoughts and to agree what it will look at next:", [])
    return (f"{prefix}: feedback presentation — {letter.name}",
            f"At the end of the {letter.event_name} the peer team presents what it found: its findings and "
            "recommendations, on the day, before its written report. You are invited:", [])


def _invitation_letter(visit: d.Visit, plan: d.Plan, letter: _Letter, unit: UnitRecord, message: Message,
                       briefing: bool) -> tuple[str, list[str]]:
    """One event, one invitation."""
    (event,) = [e for e in unit.events if e.uid in set(message.uids)]
    kind = message.kind
    item = _item_lookup(plan).get(event.item_id or "")
    changed = event.change == "changed"
    title = clean(item.title) if item is not None else clean(event.summary).removeprefix("Peer challenge: ")
    subject, lead, opening = _opening(letter, kind, "Updated invitation" if changed else "Invitation", title,
                                      dt.datetime.fromisoformat(event.start))
    if changed:
        lead = f"The plan for the {letter.event_name} has changed. Here are the new details:"
    lines = opening + [lead, ""] + _event_block(visit, plan, event, item, "changed" if changed else "")
    if item is not None and kind == "sessions" and over_lunch(visit, item):
        lines.append("  Lunch: this focus group is held over lunchtime.")
    if item is not None:
        lines += _arrival_lines(visit, plan, item)
    was = _was(event) if changed else ""
    lines += ([was] if was else []) + [""]
    count = len(unit.events)
    if count > 1:
        lines += [f"You have {count} {_noun(kind, count)} with the peer team; each has its own invitation.", ""]
    if kind == "sessions":
        lines += [NOT_ATTRIBUTED, ""]
    lines += ["The calendar invitation is attached; please accept it so that we know you can come.", ""]
    if briefing:
        lines += [f"Your briefing pack is attached: {BRIEFING_NAME}, to open in a web browser or print. "
                  + ("It covers all your sessions: " if count > 1 else "It tells you ")
                  + "where to go and how to find the room, whom you will meet from the peer team, and the "
                    "questions they would like to talk about.", ""]
    return subject, lines + [letter.contact]


def body(visit: d.Visit, plan: d.Plan, unit: UnitRecord, message: Message, briefing: bool = False,
         clock: dt.datetime | None = None) -> tuple[str, str]:
    """(subject, text) of one message; `briefing`: the briefing pack is
    attached; `clock`: the plan's issue time, named with its version."""
    s = visit.settings
    letter = _letter(visit)
    if message.method == "CANCEL":
        subject, lines = _cancel_letter(letter, unit, message)
    elif message.kind == "peer":
        subject, lines = _week_letter(letter, unit, message)
    else:
        subject, lines = _invitation_letter(visit, plan, letter, unit, message, briefing)
    lines = [f"Dear {clean(message.name)},", ""] + lines
    lines += ["", "Kind regards,", clean(s.organiser_name), clean(s.host), ""]
    if clock is not None:
        version = version_of(plan)
        lines += [("Plan version " + str(version) + ", issued " if version else "Plan issued ")
                  + issued_wording(visit, clock) + ".", ""]
    return clean(subject), "\n".join(lines)


def build_message(visit: d.Visit, plan: d.Plan, unit: UnitRecord, message: Message, ics: bytes,
                  clock: dt.datetime, briefing: str | None = None) -> bytes:
    """The e-mail of one manifest message, as the bytes of its .eml;
    `briefing`, the recipient's briefing pack (HTML), is attached as
    briefing.html when given. Written by :mod:`.mime`, byte for byte what
    the email package wrote with :data:`MAIL_POLICY` (headers in its order,
    MIME-Version repeated in the parts it added), save one fix: a Subject
    holding a literal RFC 2047 encoded-word (``=?utf-8?q?…?=`` in a title)
    now reads back as written, where the header registry decoded it."""
    s = visit.settings
    subject, text = body(visit, plan, unit, message, briefing=briefing is not None, clock=clock)
    method = message.method
    # MIME boundaries are random by default: derive them from the message key.
    boundary = f"=_peer-challenge_{message.key[:20]}_"
    cte, letter = mime.text_body(text)
    calendar = ics.decode("utf-8")
    ics_cte, invite = mime.text_body(calendar, "7bit" if calendar.isascii() else "quoted-printable")
    alternative = mime.multipart_body(boundary + "1", [
        mime.part([("Content-Type", mime.content_field("text/plain", {"charset": "utf-8"})),
                   ("Content-Transfer-Encoding", cte)], letter),
        mime.part([("Content-Transfer-Encoding", ics_cte),
                   ("Content-Type", mime.content_field("text/calendar", {"charset": "utf-8", "method": method})),
                   ("MIME-Version", "1.0")], invite),
    ])
    parts = [
        mime.part([("Content-Type", mime.content_field("multipart/alternative", {"boundary": boundary + "1"}))],
                  alternative),
        mime.part([("Content-Type", "application/ics"), ("Content-Transfer-Encoding", "base64"),
                   ("Content-Disposition", mime.content_field(
                       "attachment", {"filename": ATTACHMENT_NAMES[method]}, "Content-Disposition")),
                   ("MIME-Version", "1.0")], mime.base64_body(ics)),
    ]
    if briefing is not None:
        html_cte, html = mime.text_body(briefing, "quoted-printable")
        parts.append(mime.part([
            ("Content-Type", mime.content_field("text/html", {"charset": "utf-8"})),
            ("Content-Transfer-Encoding", html_cte),
            ("Content-Disposition", mime.content_field("attachment", {"filename": BRIEFING_NAME},
                                                       "Content-Disposition")),
            ("MIME-Version", "1.0")], html))
    return mime.part([
        ("From", mailbox_field(clean(s.organiser_name), clean_email(s.organiser_email), "From")),
        ("To", mailbox_field(clean(message.name), clean_email(message.email), "To")),
        ("Subject", subject_field(subject)),
        ("Date", format_datetime(clock.astimezone(dt.UTC))),
        ("Message-ID", mime.token_field("Message-ID", message.message_id)),
        ("MIME-Version", "1.0"),
        ("Content-Type", mime.content_field("multipart/mixed", {"boundary": boundary + "0"})),
    ], mime.multipart_body(boundary + "0", parts))


def _briefings(visit: d.Visit, plan: d.Plan, clock: dt.datetime):
    """person id -> their briefing pack (HTML) or None, rendered once per person."""
    base = common(visit, clock, plan)
    cache: dict[str, str | None] = {}

    def pack_of(person_id: str) -> str | None:
        if person_id not in cache:
            person = visit.person_by_id.get(person_id)
            cache[person_id] = interviewee_page(visit, plan, clock, person, base) if person is not None else None
        return cache[person_id]

    return pack_of


def write_emails(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime, manifest: Manifest,
                 calendars: dict[str, bytes] | None = None) -> None:
    """An .eml for every message of `manifest` (what invites.write_invites
    returned, its .ics files written) that has a recipient address; session
    invitations carry the person's briefing pack. `calendars` (.ics name ->
    bytes, as write_invites wrote them) spares reading the .ics files back."""
    folder = Path(folder)
    units = {u.key: u for u in manifest.units}
    briefing_of = _briefings(visit, plan, clock)
    made: set[Path] = set()
    for message in manifest.messages:
        if not clean_email(message.email) or not message.eml:
            continue
        ics = (calendars or {}).get(message.file)
        if ics is None:
            ics = inside(folder, message.file).read_bytes()
        briefing = (briefing_of(message.recipient)
                    if message.kind == "sessions" and message.method == "REQUEST" else None)
        eml = build_message(visit, plan, units[message.unit], message, ics, clock, briefing=briefing)
        target = inside(folder, message.eml)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(eml)


def export_invites(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                   previous_folder: Path | None = None) -> Manifest:
    """Exporter: the invites of `plan` (re-issuing against `previous_folder`
    if given) and the e-mails of the messages they call for; returns the
    invites manifest."""
    previous = load_manifest(previous_folder) if previous_folder is not None else None
    calendars: dict[str, bytes] = {}
    manifest = write_invites(folder, visit, plan, clock, previous_manifest=previous, written=calendars)
    write_emails(folder, visit, plan, clock, manifest, calendars)
    return manifest


export_invites.takes_previous = True  # type: ignore[attr-defined]  # read by orchestrate.documents
