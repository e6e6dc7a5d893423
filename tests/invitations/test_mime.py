"""The .eml files are written by planner.invitations.mime, not by the email
package: every one must still read back with the email package as the
message it stands for (structure, headers, and parts that decode to the very
.ics and briefing bytes), and the writer's own rules must hold."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from planner.invitations import mime
from planner.invitations.emails import ATTACHMENT_NAMES, BRIEFING_NAME, _briefings, body
from planner.invitations.manifest import Message, UnitRecord
from test_invites import CLOCK, at, delivered_copy, hand_plan, item, render, small_visit

ODD = {"ceo": "Zoë «Ann» Ölçer, Leader: x@evil.example", "leader": "漢字 漢字漢字 " * 6,
       "dir": "Ann Smith: attacker@evil.example, Cabinet Member for Resources and the Voluntary Sector"}


def written(tmp_path: Path):
    """(visit, plan, folder, manifest) of a first issue and of a re-plan
    after it was sent (updates, cancellations, a peer's changed week), with
    hostile and non-ASCII names and titles."""
    visit = small_visit(tmp_path / "visit")
    people = tuple(dataclasses.replace(p, name=ODD.get(p.id, p.name)) for p in visit.people)
    sessions = tuple(dataclasses.replace(s, title="Chief =?utf-8?q?Executive?= — «x»") if s.id == "s1" else s
                     for s in visit.sessions)
    visit = dataclasses.replace(visit, people=people, sessions=sessions,
                                settings=dataclasses.replace(visit.settings, organiser_name="Équipe: strategy, «x»"))
    for cached in ("person_by_id", "session_by_id"):
        visit.__dict__.pop(cached, None)
    first, second = tmp_path / "first", tmp_path / "second"
    plan = hand_plan(visit)
    out = [(visit, plan, first, render(first, visit, plan))]
    moved = hand_plan(visit, s2=item(visit, "s2", at(19, 11, 30), "r1", ("p1", "p2")), s3=None)
    out.append((visit, moved, second, render(second, visit, moved, previous=delivered_copy(first, tmp_path))))
    return out


def test_every_written_eml_reads_back_as_its_message(tmp_path):
    methods = set()
    for visit, plan, folder, manifest in written(tmp_path):
        units = {u["key"]: u for u in manifest["units"]}
        pack_of = _briefings(visit, plan, CLOCK)
        for message in manifest["messages"]:
            if not message.get("eml"):
                continue
            raw = (folder / message["eml"]).read_bytes()
            assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
            assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
            head = raw[:raw.index(b"\r\n\r\n")]
            assert all(len(line) <= 78 for line in head.split(b"\r\n"))  # Message-ID too (issue 20)
            back = message_from_bytes(raw, policy=policy.default)
            assert not back.defects
            for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
                assert len(back.get_all(name)) == 1 and not back[name].defects, name
            (sender,) = back["From"].addresses
            assert (sender.display_name, sender.addr_spec) == ("Équipe: strategy, «x»", "strategy@example.org")
            (to,) = back["To"].addresses
            assert to.addr_spec == message["email"]
            assert " ".join(to.display_name.split()) == " ".join(message["name"].split())
            subject, text = body(visit, plan, UnitRecord.from_json(units[message["unit"]]), Message.from_json(message),
                                 briefing=message["kind"] == "sessions" and message["method"] == "REQUEST",
                                 clock=CLOCK)
            assert back["Subject"] == subject
            assert parsedate_to_datetime(back["Date"]) == CLOCK
            assert back["Message-ID"].strip() == message["message_id"]

            method = message["method"]
            methods.add(method)
            ics = (folder / message["file"]).read_bytes()
            assert back.get_content_type() == "multipart/mixed"
            alternative, attachment, *rest = back.iter_parts()
            assert alternative.get_content_type() == "multipart/alternative"
            letter, calendar = alternative.iter_parts()
            assert letter.get_content_type() == "text/plain" and letter.get_content_charset() == "utf-8"
            assert letter.get_content().replace("\r\n", "\n") == text.rstrip("\n") + "\n"
            assert calendar.get_content_type() == "text/calendar"
            assert calendar.get_param("method") == method and calendar.get_content_charset() == "utf-8"
            assert calendar.get_payload(decode=True).replace(b"\r\n", b"\n") == ics.replace(b"\r\n", b"\n")
            assert attachment.get_content_type() == "application/ics"
            assert attachment["Content-Transfer-Encoding"] == "base64"
            assert attachment.get_filename() == ATTACHMENT_NAMES[method]
            assert attachment.get_content() == ics
            if message["kind"] == "sessions" and method == "REQUEST":
                (briefing,) = rest
                assert briefing.get_content_type() == "text/html"
                assert briefing["Content-Transfer-Encoding"] == "quoted-printable"
                assert briefing.get_filename() == BRIEFING_NAME and briefing.is_attachment()
                # a text part travels with CRLF line ends (RFC 2046 §4.1.1)
                pack = pack_of(message["recipient"]).encode("utf-8")
                assert briefing.get_payload(decode=True) == pack.replace(b"\n", b"\r\n")
            else:
                assert rest == []
            # boundaries from the message key, never random
            key = message["key"][:20]
            assert back.get_boundary() == f"=_peer-challenge_{key}_0"
            assert alternative.get_boundary() == f"=_peer-challenge_{key}_1"
    assert methods == {"REQUEST", "PUBLISH", "CANCEL"}


def test_a_title_with_a_literal_encoded_word_reads_back_as_written(tmp_path):
    """The email package's header registry decoded such a word before folding,
    so the subject read back as something the title did not say."""
    (visit, plan, folder, manifest), _ = written(tmp_path)
    (message,) = [m for m in manifest["messages"] if m["item_id"] == "s1" and m["recipient"] == "ceo"]
    back = message_from_bytes((folder / message["eml"]).read_bytes(), policy=policy.default)
    assert "Chief =?utf-8?q?Executive?= — «x»" in back["Subject"]


# --- the writer's own rules ---------------------------------------------------------

@pytest.mark.parametrize("text, cte", [
    ("Short lines\nin ASCII\n", "7bit"),
    ("Short lines, «not» ASCII\n", "8bit"),
    ("A line longer than seventy-eight characters, in ASCII, as every letter's opening is.\n",
     "quoted-printable"),
    ("A line longer than seventy-eight characters — with a dash, «quotes» and é.\n" * 3, "quoted-printable"),
    ("漢字" * 27 + "\n", "base64"),
])
def test_text_bodies_take_the_encoding_the_email_package_takes_and_decode_back(text, cte):
    chosen, data = mime.text_body(text)
    assert chosen == cte
    assert all(len(line) <= 78 for line in data.split(b"\r\n")) or cte in ("7bit", "8bit")
    raw = mime.part([("MIME-Version", "1.0"), ("Content-Type", mime.content_field("text/plain", {"charset": "utf-8"})),
                     ("Content-Transfer-Encoding", chosen)], data)
    assert message_from_bytes(raw, policy=policy.default).get_content().replace("\r\n", "\n") == text


def test_base64_lines_are_76_characters():
    data = bytes(range(256)) * 3
    encoded = mime.base64_body(data)
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) == 76 for line in lines[:-2]) and 0 < len(lines[-2]) <= 76
    raw = mime.part([("MIME-Version", "1.0"), ("Content-Type", "application/octet-stream"),
                     ("Content-Transfer-Encoding", "base64")], encoded)
    assert message_from_bytes(raw, policy=policy.default).get_content() == data


@pytest.mark.parametrize("value", ["x\r\nBcc: evil@example.com", "x\nBcc: evil@example.com", "x\rBcc: y",
                                   "x\r\n", "Zoë"])
def test_a_header_value_cannot_add_a_header(value):
    with pytest.raises(ValueError):
        mime.header("Subject", value)


def test_a_fold_is_kept():
    assert mime.header("Subject", "a\r\n b") == b"Subject: a\r\n b\r\n"
    assert mime.header("Message-ID", "\r\n <x@example.org>") == b"Message-ID:\r\n <x@example.org>\r\n"


@pytest.mark.parametrize("params", [{"filename": 'a"b'}, {"filename": "a\r\nb"}, {"file name": "x"},
                                    {"boundary": "b" * 66}, {"filename": "é"}])
def test_parameters_that_cannot_be_written_plainly_are_refused(params):
    with pytest.raises(ValueError):
        mime.content_field("attachment", params, "Content-Disposition")


def test_a_parameter_goes_on_its_own_line_when_the_line_is_full():
    assert mime.content_field("text/calendar", {"charset": "utf-8", "method": "REQUEST"}) == \
        'text/calendar; charset="utf-8"; method="REQUEST"'
    boundary = "=_peer-challenge_0123456789abcdef0123_0"
    assert mime.content_field("multipart/mixed", {"boundary": boundary}) == \
        f'multipart/mixed;\r\n boundary="{boundary}"'


def test_a_message_id_moves_to_its_own_line_only_when_that_helps():
    short, longer, longest = "<" + "a" * 50 + "@x.org>", "<" + "a" * 66 + "@x.org>", "<" + "a" * 80 + "@x.org>"
    assert mime.token_field("Message-ID", short) == short
    assert mime.token_field("Message-ID", longer) == "\r\n " + longer
    assert mime.token_field("Message-ID", longest) == longest
    for token in (short, longer, longest):
        raw = mime.header("Message-ID", mime.token_field("Message-ID", token)) + b"\r\nx"
        assert message_from_bytes(raw, policy=policy.default)["Message-ID"].strip() == token


def test_a_part_line_that_begins_with_the_boundary_is_refused():
    with pytest.raises(ValueError):
        mime.multipart_body("b", [b"Content-Type: text/plain\r\n\r\nok\r\n--b\r\n"])
    assert mime.multipart_body("b", [b"\r\nx--b\r\n", b"\r\ny\r\n"]) == \
        b"--b\r\n\r\nx--b\r\n\r\n--b\r\n\r\ny\r\n\r\n--b--\r\n"
    assert re.fullmatch(rb"--b\r\n.*\r\n--b--\r\n", mime.multipart_body("b", [b"\r\n"]), re.S)
