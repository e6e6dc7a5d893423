"""Issue 22, item 5: a reply counts only when its From is one of the attendee's
addresses (email or aliases), or a delegate the attendee named in a DELEGATED
reply; SENT-BY only from a listed address; Authentication-Results failures
make a reply suspicious, shown in the summary and never applied silently."""

from __future__ import annotations

from planner.invitations.replies import accepted_delegates, read_records, read_replies
from replies_helpers import reply_ics, reply_mail
from test_replies import issued, listing, plan, statuses, uid, write_emls  # noqa: F401 (fixtures)


def test_an_unlisted_colleague_with_sent_by_does_not_answer_for_the_chief_executive(issued, plan, tmp_path):
    _, _, manifest = issued
    intern = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s1"), "ceo@example.org", "DECLINED",
                                             params=';SENT-BY="mailto:intern@example.org"'),
                        "intern@example.org", partstat="DECLINED")
    report = read_replies(plan, [write_emls(tmp_path / "mail", [intern])])
    assert report.count("suspicious") == 1 and report.count("recorded") == 0, [f.text for f in report.findings]
    assert "does not list" in report.findings[0].text
    (record,) = read_records(plan)
    assert record["verdict"] == "suspicious" and statuses(plan)[("ceo", "s1")] == "none"


def test_a_listed_address_answers_with_sent_by(issued, tmp_path):
    visit, _, manifest = issued
    plan = listing(visit, tmp_path, ceo=("intern@example.org",))
    intern = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s1"), "ceo@example.org", "DECLINED",
                                             params=';SENT-BY="mailto:intern@example.org"'),
                        "intern@example.org", partstat="DECLINED")
    report = read_replies(plan, [write_emls(tmp_path / "mail", [intern])])
    assert report.count("recorded") == 1, [f.text for f in report.findings]
    assert statuses(plan)[("ceo", "s1")] == "declined"


def test_an_unsolicited_delegated_from_is_not_a_delegation(issued, plan, tmp_path):
    _, _, manifest = issued
    claim = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "dir@example.org", "ACCEPTED",
                                           params=';DELEGATED-FROM="mailto:leader@example.org"'), "dir@example.org")
    report = read_replies(plan, [write_emls(tmp_path / "mail", [claim])])
    assert [f.kind for f in report.findings] == ["suspicious"], [f.text for f in report.findings]
    assert "named no such delegate" in report.findings[0].text
    assert read_records(plan) == [] and accepted_delegates(plan) == []
    # the leader delegates to ann: dir's claim is still not theirs to make, ann's is (read in a later run)
    delegated = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "leader@example.org", "DELEGATED",
                                                params=';DELEGATED-TO="mailto:ann@example.org"'),
                           "leader@example.org", partstat="DELEGATED")
    assert read_replies(plan, [write_emls(tmp_path / "mail2", [delegated])]).count("recorded") == 1
    ann = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "ann@example.org", "ACCEPTED",
                                         params=';DELEGATED-FROM="mailto:leader@example.org"',
                                         dtstamp="20260405T120000Z"), "ann@example.org")
    again = read_replies(plan, [write_emls(tmp_path / "mail3", [claim, ann])])
    assert sorted(f.kind for f in again.findings) == ["recorded", "suspicious"], [f.text for f in again.findings]
    assert accepted_delegates(plan) == [{"item_id": "s2", "person_id": "leader", "delegate": "ann"}]


def test_a_failed_dmarc_spf_or_dkim_makes_a_reply_suspicious(issued, plan, tmp_path):
    _, _, manifest = issued
    mails = []
    for number, (item, results) in enumerate([
            ("s1", "mx.example.org; dmarc=fail (p=reject) header.from=example.org"),
            ("s2", "mx.example.org; spf=fail smtp.mailfrom=example.org; dkim=pass"),
            ("s3", "mx.example.org; dkim=fail header.d=example.org")]):
        who = {"s1": "ceo", "s2": "leader", "s3": "dir"}[item]
        msg = reply_mail("google", reply_ics("google", uid(manifest, item), f"{who}@example.org", "DECLINED",
                                             dtstamp=f"2026040{number + 1}T120000Z"),
                         f"{who}@example.org", partstat="DECLINED")
        msg["Authentication-Results"] = results
        mails.append(msg)
    honest = reply_mail("apple", reply_ics("apple", uid(manifest, "fg"), "ann@example.org", "ACCEPTED"),
                        "ann@example.org")
    honest["Authentication-Results"] = "mx.example.org; dmarc=pass; spf=softfail; dkim=pass"
    report = read_replies(plan, [write_emls(tmp_path / "mail", [*mails, honest])])
    kinds = sorted(f.kind for f in report.findings)
    assert kinds == ["recorded", "suspicious", "suspicious", "suspicious"], [f.text for f in report.findings]
    texts = " ".join(f.text for f in report.findings if f.kind == "suspicious")
    assert "dmarc=fail" in texts and "spf=fail" in texts and "dkim=fail" in texts
    got = statuses(plan)
    assert got[("ceo", "s1")] == got[("leader", "s2")] == got[("dir", "s3")] == "none"
    assert got[("ann", "fg")] == "accepted"


# --- limits (issue 22, item 3): size and calendar parts of a message ---------------------

def test_one_message_with_2000_calendar_parts_gives_a_few_records_and_a_line(issued, plan, tmp_path):
    from planner.invitations.answers import MAX_CALENDAR_PARTS

    _, _, manifest = issued
    parts = [("text/calendar", f"r{n}.ics",
              reply_ics("google", uid(manifest, "s1"), "ceo@example.org", "ACCEPTED",
                        dtstamp=f"2026040{1 + n % 5}T{n % 24:02d}{n // 24 % 60:02d}00Z"))
             for n in range(2000)]
    flood = reply_mail("apple", reply_ics("apple", uid(manifest, "s3"), "dir@example.org", "ACCEPTED"),
                       "dir@example.org", extra=parts)
    report = read_replies(plan, [write_emls(tmp_path / "mail", [flood])])
    assert len(read_records(plan)) <= MAX_CALENDAR_PARTS < 20
    assert any(f.kind == "garbage" and f"only the first {MAX_CALENDAR_PARTS}" in f.text for f in report.findings)


def test_a_100_mb_message_is_refused_by_its_size_before_it_is_read(plan, tmp_path):
    import mailbox
    import tracemalloc

    mail = tmp_path / "mail"
    mail.mkdir()
    with (mail / "huge.eml").open("wb") as handle:  # sparse: 100 MB without the disk
        handle.write(b"From: ceo@example.org\r\nSubject: Accepted\r\n\r\n")
        handle.truncate(100 * 1024 * 1024)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    key = box.add(b"From: ceo@example.org\r\n\r\nsmall")
    with open(tmp_path / "Maildir" / "new" / key, "r+b") as handle:
        handle.truncate(100 * 1024 * 1024)
    tracemalloc.start()
    try:
        report = read_replies(plan, [mail, tmp_path / "Maildir"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    refused = [f.text for f in report.findings if f.kind == "garbage"]
    assert len(refused) == 2 and all("100.0 MB, larger than the 10 MB" in t for t in refused), refused
    assert read_records(plan) == []


def test_imap_asks_the_size_first_and_never_fetches_a_message_over_the_limit(issued, plan, monkeypatch):
    import imaplib

    from planner.invitations import mailboxes
    from planner.invitations.mailboxes import ImapSettings
    from replies_helpers import dovecot_server

    _, _, manifest = issued
    small = reply_mail("google", reply_ics("google", uid(manifest, "s1"), "ceo@example.org", "ACCEPTED"),
                       "ceo@example.org")
    big = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "leader@example.org", "DECLINED"),
                     "leader@example.org", partstat="DECLINED",
                     extra=[("application/octet-stream", "big.bin", b"\x01" * 300_000)])
    monkeypatch.setattr(mailboxes, "MAX_MESSAGE_BYTES", 100_000)
    fetched: list[str] = []
    real = imaplib.IMAP4.uid

    def spying(self, command, *args):
        if command == "FETCH" and "BODY.PEEK[]" in args[-1]:
            fetched.append(args[0])
        return real(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", spying)
    with dovecot_server([small, big]) as imap:
        settings = ImapSettings(host=imap["host"], port=imap["port"], user=imap["user"],
                                password=imap["password"], security="none")
        report = read_replies(plan, imap=settings)
    assert report.count("recorded") == 1, [f.text for f in report.findings]
    assert [f.kind for f in report.findings if "larger than" in f.text] == ["garbage"]
    assert fetched == ["1"]  # the big one's body was never asked for
    assert statuses(plan)[("ceo", "s1")] == "accepted" and statuses(plan)[("leader", "s2")] == "none"


# --- shown to the organiser (issue 22, item 5): replies.csv, replies.html, the summary ---------

def test_suspicious_replies_are_shown_in_the_csv_and_html_and_never_counted(issued, plan, tmp_path):
    import csv

    from click.testing import CliRunner

    from planner.cli import cli
    from test_replies import NOW

    _, _, manifest = issued
    forged = reply_mail("google", reply_ics("google", uid(manifest, "s1"), "ceo@example.org", "DECLINED",
                                            dtstamp="20260402T120000Z"), "ceo@example.org", partstat="DECLINED")
    forged["Authentication-Results"] = "mx.example.org; dmarc=fail (p=reject) header.from=example.org; spf=fail"
    other = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "leader@example.org", "DECLINED",
                                            dtstamp="20260403T120000Z"),
                       "mallory@example.com", partstat="DECLINED")
    honest = reply_mail("apple", reply_ics("apple", uid(manifest, "fg"), "ann@example.org", "ACCEPTED"),
                        "ann@example.org")
    mail = write_emls(tmp_path / "mail", [forged, other, honest])
    result = CliRunner().invoke(cli, ["replies", str(plan), str(mail), "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    assert "suspicious: declined on 2026-04-02, not counted: DMARC failed" in result.output
    with (plan / "replies.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["person_id", "item_id", "status", "answered_at"]
    table = {(r["person_id"], r["item_id"]): r for r in rows}
    ceo, leader = table[("ceo", "s1")], table[("leader", "s2")]
    assert ceo["status"] == "none" and ceo["answered_at"] == ""  # never counted as the person's answer
    assert leader["status"] == "none" and leader["answered_at"] == ""
    assert ceo["not_counted"] == ("declined on 2026-04-02, not counted: DMARC failed: the From may be forged; "
                                  "SPF failed: the From may be forged")
    assert leader["not_counted"] == ("declined on 2026-04-03, not counted: "
                                     "From is not the attendee's address (it is mallory@example.com)")
    assert table[("ann", "fg")]["status"] == "accepted" and table[("ann", "fg")]["not_counted"] == ""
    html = (plan / "replies.html").read_text(encoding="utf-8")
    assert "2 suspicious answers not counted" in html
    assert "Suspicious: declined on 2026-04-02, not counted: DMARC failed" in html
    assert "From is not the attendee&#39;s address (it is mallory@example.com)" in html


def test_a_hostile_from_in_a_suspicious_reply_is_escaped_and_neutralised(issued, plan, tmp_path):
    import csv

    from planner.invitations.reports import write_report
    from test_replies import NOW

    _, _, manifest = issued
    other = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "leader@example.org", "DECLINED"),
                       '"x" <=cmd|1@example.com>', partstat="DECLINED")
    read_replies(plan, [write_emls(tmp_path / "mail", [other])])
    write_report(plan, NOW)
    with (plan / "replies.csv").open(encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert any("=cmd|1@example.com" in cell for cell in cells), cells  # the reason names the address ...
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells), cells  # ... never as a formula
    assert "<=cmd" not in (plan / "replies.html").read_text(encoding="utf-8")
