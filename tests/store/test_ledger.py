"""The send ledger's format (planner.store.ledger): written by `planner send`, read
by the invites exporter, `planner replies` and `planner send` itself."""

import json

from planner.store import ledger

from planner.store import folder


def test_no_ledger_is_none_not_an_empty_ledger(tmp_path):
    # no ledger: nothing was sent from this folder (the invites then assume nothing delivered)
    assert ledger.entries(tmp_path) is None and ledger.sent_keys(tmp_path) is None
    (tmp_path / ledger.NAME).write_text("", encoding="utf-8")
    assert ledger.entries(tmp_path) == [] and ledger.sent_keys(tmp_path) == set()


def test_a_line_cut_short_by_a_crash_is_not_a_message_sent(tmp_path):
    lines = [ledger.line({"key": "a", "sent_at": "2026-12-01T10:00:00Z"}),
             ledger.line({"key": "b", "sent_at": "2026-12-01T10:00:01Z"})]
    (tmp_path / ledger.NAME).write_bytes(b"".join(lines) + b'{"key": "c", "sent_')
    assert [e["key"] for e in ledger.entries(tmp_path)] == ["a", "b"]
    assert ledger.sent_keys(tmp_path) == {"a", "b"}


def test_a_line_holds_the_fields_in_their_order_and_nothing_else():
    fields = {name: name.upper() for name in reversed(ledger.FIELDS)} | {"password": "x"}
    written = ledger.line(fields)
    assert written.endswith(b"\n") and written.count(b"\n") == 1
    assert list(json.loads(written)) == list(ledger.FIELDS)


def test_the_plan_folder_keeps_the_ledger_and_its_lock_as_its_own():
    assert {ledger.NAME, ledger.LOCK} <= folder.PLAN_FOLDER_NAMES
    assert ledger.NAME in folder.RECORD_FILES
