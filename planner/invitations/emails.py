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
import re
from email.header import Header
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path

from planner import domain as d
from planner.invitations import mime
from planner.store.fs import inside
from planner.invitations.invites import NOT_ATTRIBUTED, clean, clean_email, load_manifest, peers_of, themes_of, write_invites
from planner.documents.briefings import interviewee_html, interviewee_pack
from planner.documents.render import common, issued_wording, version_of
from planner.documents.view import kind_label, over_lunch, plan_view, stay_wording, visit_kind

ADDRESS_HEADERS = frozenset({"from", "to"})
MAX_DISPLAY_NAME = 200  # characters of a display name kept in a header; a header line stays far below 998
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+\Z")  # RFC 5322 atext: safe unquoted in a phrase


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded-words of at most 75 characters, cut after a
    space where possible (the space stays inside the word before the cut, as
    white space between two encoded-words is not part of the text)."""
    words, rest = [], text
    while rest:
        cut = len(rest)
        while len(_ew(rest[:cut])) > 75:
            space = rest.rfind(" ", 0, cut - 1)
            cut = space + 1 if space > 0 else cut - 1
        words.append(_ew(rest[:cut]))
        rest = rest[cut:]
    return words


def _ew(text: str) -> str:
    return Header(text, "utf-8").encode(maxlinelen=10_000)


def _quoted(word: str) -> str:
    return word if _ATOM.match(word) else '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox_field(name: str, addr_spec: str, header: str = "To", linesep: str = "\r\n") -> str:
    """The folded value of an address header holding exactly one mailbox.

    The display name is written word by word: plain words (letters, digits and
    ``!#$%&'*+/=?^_`{|}~-``) as they are, other ASCII words as quoted strings,
    runs of words with non-ASCII letters as RFC 2047 encoded-words. Lines are
    folded only between those tokens, never inside one, so no comma, colon,
    quote or angle bracket of a name, at any length, is ever read as syntax.
    """
    name = " ".join(clean(name)[:MAX_DISPLAY_NAME].split())
    tokens, run = [], []
    for word in name.split(" ") if name else []:
        if word.isascii():
            if run:
                tokens += _encoded_words(" ".join(run))
                run = []
            tokens.append(_quoted(word))
        else:
            run.append(word)
    if run:
        tokens += _encoded_words(" ".join(run))
    tokens.append(f"<{addr_spec}>")
    lines = [f"{header}:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > 78 and lines[-1] != f"{header}:":
            lines.append("")
        lines[-1] += " " + token
    return linesep.join(lines)[len(header) + 2:]


class _MailboxPolicy(EmailPolicy):
    """SMTP policy whose From and To are folded by :func:`mailbox_field`."""

    def _mailbox(self, name, value) -> str | None:
        addresses = getattr(value, "addresses", None)
        if name.lower() not in ADDRESS_HEADERS or not addresses or len(addresses) != 1:
            return None
        (address,) = addresses
        return f"{name}: {mailbox_field(address.display_name, address.addr_spec, name, self.linesep)}{self.linesep}"

    def fold(self, name, value):
        return self._mailbox(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        folded = self._mailbox(name, value)
        if folded is None:
            return super().fold_binary(name, value)
        return folded.encode("utf-8" if self.utf8 or not folded.isascii() else "ascii")


def _b_words(text: str) -> list[str]:
    """`text` as base64 encoded-words (RFC 2047) of at most 75 characters,
    never cutting a character; spaces stay inside the words."""
    import base64

    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > 39:
            words.append(chunk)
            chunk = b""
        chunk += data
    if chunk:
        words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]


def subject_field(text: str, linesep: str = "\r\n") -> str:
    """The folded value of a Subject: ASCII words as they are, runs of words
    with other letters as RFC 2047 encoded-words, folded only between tokens,
    so each fold stands for exactly one space. (Python's own folding leaves a
    space before the fold as well, so a subject such as 'councillors — Visit'
    read back as 'councillors  — Visit'.)"""
    tokens, run = [], []
    for word in " ".join(clean(text).split()).split(" ") if clean(text) else []:
        if word.isascii() and "=?" not in word:
            if run:
                tokens += _b_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _b_words(" ".join(run))
    lines = ["Subject:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > 78 and lines[-1] != "Subject:":
            lines.append("")
        lines[-1] += " " + token
    return linesep.join(lines)[len("Subject: "):]


class _LetterPolicy(_MailboxPolicy):
    """The mailbox policy, with the Subject folded by :func:`subject_field`."""

    def fold(self, name, value):
        if name.lower() == "subject":
            return f"{name}: {subject_field(str(value), self.linesep)}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() == "subject":
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


# email.policy.SMTP, with From, To and Subject as above: for a message built with
# the email package (the .eml files themselves are written by build_message)
MAIL_POLICY = _LetterPolicy(linesep="\r\n")

ATTACHMENT_NAMES = {"REQUEST": "invite.ics", "PUBLISH": "calendar.ics", "CANCEL": "cancel.ics"}
BRIEFING_NAME = "briefing.html"


def _day(moment: dt.datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def _when(start: dt.datetime, end: dt.datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} ({minutes} minutes)"


def _item_lookup(plan: d.Plan) -> dict[str, d.PlanItem]:
    return {i.item_id: i for i in plan.items}


def _event_block(visit: d.Visit, plan: d.Plan, event: dict, item: d.PlanItem | None, note: str = "") -> list[str]:
    start = dt.datetime.fromisoformat(event["start"])
    end = dt.datetime.fromisoformat(event["end"])
    title = clean(item.title) if item is not None else clean(event.get("summary", ""))
    kind = kind_label(item.kind if item is not None else event.get("kind", ""))
    lines = [f"{title} ({kind.lower()})" + (f" — {note}" if note else ""),
             f"  When:  {_when(start, end)}"]
    if clean(event.get("location")):
        lines.append(f"  Where: {clean(event['location'])}")
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


def _short(event: dict) -> str:
    start = dt.datetime.fromisoformat(event["start"])
    end = dt.datetime.fromisoformat(event["end"])
    return f"- {start:%a} {start.day} {start:%b} {start:%H:%M}–{end:%H:%M}  {clean(event.get('summary'))}" + (
        f" — {clean(event['location'])}" if clean(event.get("location")) else "")


NOUNS = {"sessions": ("session", "sessions"), "debriefs": ("daily debrief", "daily debriefs"),
         "feedback": ("feedback presentation", "feedback presentations")}


def _noun(kind: str, count: int) -> str:
    one, many = NOUNS.get(kind, ("event", "events"))
    return one if count == 1 else many


def _was(event: dict) -> str:
    """What the recipient held before a change, when the time or the place moved."""
    held = event.get("held") or {}
    if not held.get("start") or not held.get("end"):
        return ""
    start, end = dt.datetime.fromisoformat(held["start"]), dt.datetime.fromisoformat(held["end"])
    moved = (held["start"], held["end"]) != (event["start"], event["end"])
    place = clean(held.get("location"))
    if not moved and place == clean(event.get("location")):
        return ""
    return f"  Was:   {_when(start, end)}" + (f", {place}" if place and place != clean(event.get("location")) else "")


def body(visit: d.Visit, plan: d.Plan, unit: dict, message: dict, briefing: bool = False,
         clock: dt.datetime | None = None) -> tuple[str, str]:
    """(subject, text) of one message; `briefing`: the briefing pack is
    attached; `clock`: the plan's issue time, named with its version."""
    s = visit.settings
    items = _item_lookup(plan)
    name = clean(s.name)
    method, kind = message["method"], message["kind"]
    uids = set(message["uids"])
    lines = [f"Dear {clean(message['name'])},", ""]
    first, feedback = s.interview_days[0], s.feedback_day
    event_name = visit_kind(visit)
    span = (f"on {_day(dt.datetime.combine(first, dt.time()))}" if first == feedback else
            f"from {_day(dt.datetime.combine(first, dt.time()))} to {_day(dt.datetime.combine(feedback, dt.time()))}")
    intro = (f"{clean(s.host)} is holding a {event_name} {span}: a team of experienced councillors and "
             f"officers from other councils {stay_wording(visit)} with us to help us improve.")
    phone = f" or on {clean(s.organiser_phone)}" if clean(s.organiser_phone) else ""
    reach = f"{clean(s.organiser_name)} at {clean_email(s.organiser_email)}{phone}"
    contact = f"If the time does not suit you or you have a question, please contact {reach}."
    if method == "CANCEL":
        events = [c for c in unit.get("cancelled", []) if c["uid"] in uids]
        withdrawn = all(c.get("withdrawn") for c in events)
        if len(events) == 1:
            subject = f"Cancelled: {clean(events[0].get('summary'))} — {name}"
        else:
            subject = f"Cancelled: {len(events)} peer challenge events — {name}"
        if withdrawn:
            lead = ("The plan for the peer challenge has changed, and the following "
                    + ("has" if len(events) == 1 else "have") + " been cancelled:")
        else:
            lead = "The plan for the peer challenge has changed, and you are no longer needed at the following:"
        lines += [lead, ""]
        lines += [_short(event) for event in events]
        lines += ["", "The attached cancellation removes it from your calendar. Thank you for making the "
                      "time; we are sorry for the change."]
        remaining = len(unit.get("events", []))
        moved = [e for e in unit.get("events", []) if e.get("change") in ("changed", "new")]
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
        lines += ["", f"If you have a question, please contact {reach}."]
    elif kind == "peer":
        events = [e for e in unit.get("events", []) if e["uid"] in uids]
        changed = any(e.get("change") == "changed" for e in events) or message.get("role") == "update"
        subject = (f"Updated: your week — {name}" if changed else f"Your week — {name}")
        lines += [("Your week on the peer challenge has changed. " if changed else
                   "Here is your week on the peer challenge. ")
                  + "The attached calendar holds every session, debrief, preparation and the feedback "
                    "presentation, with attendees, themes and notes:", ""]
        lines += [_short(e) + (" (changed)" if e.get("change") == "changed" else "") for e in events]
        lines += ["", contact]
    else:
        # one event, one invitation
        (event,) = [e for e in unit.get("events", []) if e["uid"] in uids]
        item = items.get(event["item_id"])
        changed = event.get("change") == "changed"
        start = dt.datetime.fromisoformat(event["start"])
        title = clean(item.title) if item is not None else clean(event.get("summary")).removeprefix(
            "Peer challenge: ")
        prefix = "Updated invitation" if changed else "Invitation"
        if kind == "sessions":
            subject = f"{prefix}: {title} — {name}"
            lead = "The peer team would like to meet you:"
            opening = [intro, ""]
        elif kind == "debriefs":
            subject = f"{prefix}: daily debrief, {start:%A} {start.day} {start:%B} — {name}"
            lead = ("At the end of each interview day the peer team meets you in its office to share what it "
                    "heard and saw that day, to test its emerging thoughts and to agree what it will look at "
                    "next:")
            opening = []
        else:
            subject = f"{prefix}: feedback presentation — {name}"
            lead = (f"At the end of the {event_name} the peer team presents what it found: its findings and "
                    "recommendations, on the day, before its written report. You are invited:")
            opening = []
        if changed:
            lead = f"The plan for the {event_name} has changed. Here are the new details:"
        lines += opening + [lead, ""]
        lines += _event_block(visit, plan, event, item, "changed" if changed else "")
        if item is not None and kind == "sessions" and over_lunch(visit, item):
            lines.append("  Lunch: this focus group is held over lunchtime.")
        if item is not None:
            lines += _arrival_lines(visit, plan, item)
        was = _was(event) if changed else ""
        lines += ([was] if was else []) + [""]
        count = len(unit.get("events", []))
        if count > 1:
            lines += [f"You have {count} {_noun(kind, count)} with the peer team; each has its own invitation.",
                      ""]
        if kind == "sessions":
            lines += [NOT_ATTRIBUTED, ""]
        lines += ["The calendar invitation is attached; please accept it so that we know you can come.", ""]
        if briefing:
            lines += [f"Your briefing pack is attached: {BRIEFING_NAME}, to open in a web browser or print. "
                      + ("It covers all your sessions: " if count > 1 else "It tells you ")
                      + "where to go and how to find the room, whom you will meet from the peer team, and the "
                        "questions they would like to talk about.", ""]
        lines += [contact]
    lines += ["", "Kind regards,", clean(s.organiser_name), clean(s.host), ""]
    if clock is not None:
        version = version_of(plan)
        lines += [("Plan version " + str(version) + ", issued " if version else "Plan issued ")
                  + issued_wording(visit, clock) + ".", ""]
    return clean(subject), "\n".join(lines)


def build_message(visit: d.Visit, plan: d.Plan, unit: dict, message: dict, ics: bytes,
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
    method = message["method"]
    # MIME boundaries are random by default: derive them from the message key.
    boundary = f"=_peer-challenge_{message['key'][:20]}_"
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
        ("To", mailbox_field(clean(message["name"]), clean_email(message["email"]), "To")),
        ("Subject", subject_field(subject)),
        ("Date", format_datetime(clock.astimezone(dt.timezone.utc))),
        ("Message-ID", mime.token_field("Message-ID", message["message_id"])),
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
            pack = interviewee_pack(visit, plan, person) if person is not None else None
            cache[person_id] = interviewee_html(visit, pack, base) if pack is not None else None
        return cache[person_id]

    return pack_of


def write_emails(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime, manifest: dict,
                 calendars: dict[str, bytes] | None = None) -> None:
    """An .eml for every message of `manifest` (what invites.write_invites
    returned, its .ics files written) that has a recipient address; session
    invitations carry the person's briefing pack. `calendars` (.ics name ->
    bytes, as write_invites wrote them) spares reading the .ics files back."""
    folder = Path(folder)
    units = {u["key"]: u for u in manifest["units"]}
    briefing_of = _briefings(visit, plan, clock)
    made: set[Path] = set()
    for message in manifest["messages"]:
        if not clean_email(message.get("email")) or not message.get("eml"):
            continue
        ics = (calendars or {}).get(message["file"])
        if ics is None:
            ics = inside(folder, message["file"]).read_bytes()
        briefing = (briefing_of(message["recipient"])
                    if message["kind"] == "sessions" and message["method"] == "REQUEST" else None)
        eml = build_message(visit, plan, units[message["unit"]], message, ics, clock, briefing=briefing)
        target = inside(folder, message["eml"])
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(eml)


def export_invites(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                   previous_folder: Path | None = None) -> dict:
    """Exporter: the invites of `plan` (re-issuing against `previous_folder`
    if given) and the e-mails of the messages they call for; returns the
    invites manifest."""
    previous = load_manifest(previous_folder) if previous_folder is not None else None
    calendars: dict[str, bytes] = {}
    manifest = write_invites(folder, visit, plan, clock, previous_manifest=previous, written=calendars)
    write_emails(folder, visit, plan, clock, manifest, calendars)
    return manifest


export_invites.takes_previous = True
