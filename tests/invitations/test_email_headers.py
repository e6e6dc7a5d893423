"""Issue 9, item 0: no display name, of any length or with any punctuation,
can add an address to an .eml's From or To (Python 3.11's folding drops the
quotes of a long display name; the planner folds address headers itself)."""

from __future__ import annotations

import dataclasses
import random
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from planner.invitations.mime import MAIL_POLICY, mailbox_field
from test_invites import hand_plan, render, small  # noqa: F401  (fixture)

ORGANISER = "Corporate Strategy, Policy and Performance team, London Borough of Tower Hamlets"
ATTACK = "Ann Smith: attacker@evil.example, Cabinet Member for Resources and the Voluntary Sector"
ALPHABET = "abcdefghij KLMNOP qrstu ,:;<>\"@()[]\\.'= éü–漢"


def names():
    rnd = random.Random(9)
    yield ORGANISER
    yield ATTACK
    yield 'Smith, "Jo" <x@example.com>'
    yield "Eve <evil@example.com>, Bob"
    for length in range(1, 201):
        for _ in range(3):
            yield "".join(rnd.choice(ALPHABET) for _ in range(length))
        yield ("Policy, " * length)[:length]  # a long name of short quoted words
        yield (":" + "x" * length)[:length]    # one long word with a special in it


def parse(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def same_name(parsed: str, intended: str) -> bool:
    """Python's parser keeps the space between two encoded-words (RFC 2047 drops it),
    so a word cut across two encoded-words may come back with a space in it."""
    intended = " ".join(intended.split())
    parsed = " ".join(parsed.split())
    return parsed == intended or (not intended.isascii() and parsed.replace(" ", "") == intended.replace(" ", ""))


def test_no_name_of_any_length_or_punctuation_adds_an_address():
    checked = 0
    for name in names():
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"] = Address(display_name=name, addr_spec="org@example.org")
        msg["To"] = Address(display_name=name, addr_spec="ann@example.org")
        msg["Subject"] = "x"
        msg.set_content("x")
        raw = msg.as_bytes()
        head = raw[:raw.index(b"\r\n\r\n")]
        assert all(len(line) <= 998 for line in head.split(b"\r\n"))
        back = parse(raw)
        (sender,) = back["From"].addresses
        (to,) = back["To"].addresses
        assert sender.addr_spec == "org@example.org" and to.addr_spec == "ann@example.org", (name, head)
        assert same_name(sender.display_name, name) and same_name(to.display_name, name), (name, head)
        assert not back["From"].defects and not back["To"].defects, (name, head)
        if not name.isascii() and '"' not in name:  # an RFC 2047 decoder gives the name exactly
            raw_to = message_from_bytes(raw, policy=policy.compat32)["To"]
            value = re.sub(r"\s*<ann@example\.org>$", "", str(raw_to))
            decoded = str(make_header(decode_header(value)))
            if all(not w.isascii() for w in name.split()):
                assert decoded == " ".join(name.split()), (name, value)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("name", [ORGANISER, ATTACK])
def test_the_names_of_the_report_fold_without_adding_addresses(name):
    value = mailbox_field(name, "to@example.org", "To")
    assert all(len(line) <= 78 for line in ("To: " + value).split("\r\n"))
    back = parse(f"To: {value}\r\n\r\nx".encode())
    (to,) = back["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "to@example.org")


def test_written_emails_keep_one_sender_and_the_intended_recipient(small, tmp_path):  # noqa: F811
    visit, _, _, _ = small
    settings = dataclasses.replace(visit.settings, organiser_name=ORGANISER)
    people = tuple(dataclasses.replace(p, name=ATTACK) if p.id == "ceo" else
                   dataclasses.replace(p, name="Zoë «Ann» Ölçer, Leader: x@evil.example") if p.id == "leader" else p
                   for p in visit.people)
    odd = dataclasses.replace(visit, settings=settings, people=people)
    out = tmp_path / "odd"
    manifest = render(out, odd, hand_plan(visit))
    checked = 0
    for message in manifest["messages"]:
        if not message.get("eml"):
            continue
        back = parse((out / message["eml"]).read_bytes())
        (sender,) = back["From"].addresses
        assert (sender.display_name, sender.addr_spec) == (ORGANISER, "strategy@example.org")
        (to,) = back["To"].addresses
        assert to.addr_spec == message["email"] and "evil" not in to.addr_spec
        if message["recipient"] == "ceo":
            assert to.display_name == ATTACK
        checked += 1
    assert checked
