"""Issue 19, Deliver 2: `planner send` keeps to the provider's rate (messages a
minute: it waits) and daily limit (recipients in 24 hours, counted from the
ledger: it stops cleanly, "N sent, M left for tomorrow", and a later run sends
the rest, nothing twice). A fake clock: `now` reads it, `sleep` moves it on."""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
from click.testing import CliRunner

from planner.cli import cli
from planner.invitations.limits import EXCHANGE, GOOGLE, NONE, SendLimits, limits_for
from planner.invitations.send import deliver, read_ledger
from test_send import folder, issued, server, settings  # noqa: F401 (fixtures)

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime = START):
        self.at = at
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += dt.timedelta(seconds=seconds)


def most_in_a_minute(moments: list[dt.datetime]) -> int:
    return max(sum(1 for m in moments if first <= m < first + dt.timedelta(minutes=1)) for first in moments)


def test_the_providers_documented_limits():
    assert (EXCHANGE.per_minute, EXCHANGE.per_day) == (30, 10_000)
    assert (GOOGLE.per_day, NONE.per_minute, NONE.per_day) == (2_000, None, None)
    assert limits_for("smtp", "smtp.office365.com") == EXCHANGE == limits_for("graph")
    assert limits_for("smtp", "contoso-org.mail.protection.outlook.com") == EXCHANGE
    assert limits_for("smtp", "smtp.gmail.com") == GOOGLE == limits_for("google")
    assert limits_for("smtp", "mail.example.org") == NONE
    assert EXCHANGE.but(per_day=500) == SendLimits(30, 500, "Exchange Online")


def test_the_rate_is_waited_for_never_exceeded(folder, server):
    clock = Clock()
    sent_at: list[dt.datetime] = []
    waits: list[float] = []
    report = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep,
                     limits=SendLimits(per_minute=5), on_sent=lambda out: sent_at.append(clock.now()),
                     on_wait=waits.append)
    assert report.ok and len(report.sent) == len(server.received) == 12
    assert most_in_a_minute(sent_at) == 5  # 5, then a wait, 5, a wait, 2
    assert waits == [60.0, 60.0] and report.waited == 120.0 and sum(clock.slept) == 120.0
    assert all(step <= 1.0 for step in clock.slept)  # a second at a time: Ctrl-C is heard while waiting


def test_the_rate_counts_what_the_ledger_says_went_a_moment_ago(folder, server):
    clock = Clock()
    first = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep,
                    limits=SendLimits(per_day=3))
    assert len(first.sent) == 3 and clock.slept == []
    clock.at += dt.timedelta(seconds=10)
    sent_at: list[dt.datetime] = []
    second = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep,
                     limits=SendLimits(per_minute=5), on_sent=lambda out: sent_at.append(clock.now()))
    assert second.ok and len(second.sent) == 9 and len(server.received) == 12
    # 3 went at START: 2 more now, then the next only after START + 61 s (the ledger keeps whole seconds)
    assert sent_at[2] == START + dt.timedelta(seconds=61)
    assert most_in_a_minute([START] * 3 + sent_at) <= 5


def test_the_daily_limit_stops_cleanly_and_the_rest_goes_tomorrow_nothing_twice(folder, server):
    clock = Clock()
    limits = SendLimits(per_day=5, name="Exchange Online")
    first = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep, limits=limits)
    assert len(first.sent) == 5 and len(first.unsent) == 7 and not first.ok
    assert first.stopped == ("Exchange Online's daily limit of 5 recipients in 24 hours is reached: 5 sent, 7 left "
                             "for tomorrow (the next can go from 2026-05-05 09:00 UTC)")
    assert first.resume_at == START + dt.timedelta(days=1)  # this run's own moments: exact
    clock.at += dt.timedelta(hours=5)  # the same day: nothing more may go
    again = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep, limits=limits)
    assert again.sent == [] and "0 sent, 7 left for tomorrow" in (again.stopped or "")
    clock.at = START + dt.timedelta(days=1, seconds=1)
    tomorrow = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep, limits=limits)
    assert len(tomorrow.sent) == 5 and "5 sent, 2 left for tomorrow" in (tomorrow.stopped or "")
    clock.at += dt.timedelta(days=1, seconds=1)
    last = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=clock.sleep, limits=limits)
    assert last.ok and len(last.sent) == 2
    ids = server.message_ids()
    assert len(ids) == len(set(ids)) == 12 and len(read_ledger(folder)) == 12
    assert clock.slept == []  # the daily limit is never waited for: the run stops


def test_ctrl_c_while_waiting_for_the_rate_stops_with_the_count(folder, server):
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the wait

    report = deliver(folder, settings(server), dry_run=False, now=clock.now, sleep=sleep,
                     limits=SendLimits(per_minute=4))
    assert report.interrupted and len(report.sent) == 4 and len(report.unsent) == 8
    assert len(clock.slept) == 1 and len(read_ledger(folder)) == len(server.received) == 4


def test_cli_per_day_says_how_many_went_and_how_many_are_left(folder, server):
    result = CliRunner().invoke(cli, ["send", str(folder), "--send", "--host", "127.0.0.1", "--port",
                                      str(server.port), "--no-starttls", "--per-day", "4"])
    assert result.exit_code == 1, result.output
    assert "daily limit of 4 recipients in 24 hours is reached: 4 sent, 8 left for tomorrow" in result.output
    assert "Traceback" not in result.output and len(server.received) == 4
    again = CliRunner().invoke(cli, ["send", str(folder), "--send", "--host", "127.0.0.1", "--port",
                                     str(server.port), "--no-starttls", "--per-day", "4"])
    assert "0 sent, 8 left for tomorrow" in again.output and len(server.received) == 4


def test_the_api_transports_carry_their_providers_limits():
    from planner.invitations.services.transport import ApiTransport

    class Nothing:
        def send_mime(self, raw: bytes) -> None:
            pass

    assert ApiTransport(Nothing(), "graph").limits == EXCHANGE
    assert ApiTransport(Nothing(), "google").limits == GOOGLE


@pytest.mark.parametrize("host,limit", [("smtp.office365.com", EXCHANGE), ("mail.example.org", NONE)])
def test_send_takes_the_hosts_limits_by_default(host, limit, folder, server, monkeypatch):
    from planner.invitations import send as sending

    seen: list[SendLimits] = []
    real = sending.Pace

    def spy(limits, ledger, now):
        seen.append(limits)
        return real(limits, ledger, now)

    monkeypatch.setattr(sending, "Pace", spy)
    import dataclasses

    chosen = dataclasses.replace(settings(server), host=host)
    deliver(folder, chosen, dry_run=False, connect_with=lambda _s: sending.connect(settings(server)))
    assert seen == [limit] and len(server.received) == 12
