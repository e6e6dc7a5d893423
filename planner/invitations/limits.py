"""The sending limits `planner send` keeps to: a rate (messages in any 60 s,
waited for) and a daily limit (recipients in any 24 h, counted from the
ledger: a run that reaches it stops cleanly, "N sent, M left for tomorrow",
and the same command later sends the rest).

The providers' documented figures (docs/mail-and-calendars.md cites them):
Exchange Online, by SMTP or Graph, 30 messages a minute and 10,000
recipients a day per mailbox; Google Workspace 2,000 messages a day per
user (Gmail API: a send costs 100 of the user's 15,000 quota units a
minute, 150 a minute, kept to 120 here). Another SMTP server: no limit
unless one is given (``--per-minute``, ``--per-day``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SendLimits:
    per_minute: int | None = None   # messages in any 60 seconds
    per_day: int | None = None      # recipients in any 24 hours (one per message: each goes to one person)
    name: str = "the mail server"

    def but(self, per_minute: int | None = None, per_day: int | None = None) -> SendLimits:
        """These limits with the ones given instead (None: keep)."""
        return SendLimits(per_minute if per_minute is not None else self.per_minute,
                          per_day if per_day is not None else self.per_day, self.name)


EXCHANGE = SendLimits(30, 10_000, "Exchange Online")
GOOGLE = SendLimits(120, 2_000, "Google Workspace")
NONE = SendLimits()

_HOSTS = {"smtp.office365.com": EXCHANGE, "smtp-mail.outlook.com": EXCHANGE,
          "smtp.gmail.com": GOOGLE, "smtp-relay.gmail.com": GOOGLE}


def limits_for(via: str = "smtp", host: str = "") -> SendLimits:
    """The documented limits of the provider `send` talks to (--via, or the SMTP host)."""
    if via == "graph":
        return EXCHANGE
    if via == "google":
        return GOOGLE
    host = host.lower().rstrip(".")
    if host.endswith(".mail.protection.outlook.com"):
        return EXCHANGE
    return _HOSTS.get(host, NONE)


def _moment(value: object) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class Pace:
    """The moments messages went (the ledger's, then this run's), and what the limits allow next."""

    def __init__(self, limits: SendLimits, ledger: list[dict], now: dt.datetime):
        self.limits = limits
        since = now - DAY
        sent = (_moment(entry.get("sent_at")) for entry in ledger)
        # the ledger keeps whole seconds: a moment read back is taken as the second's end (never too early)
        self.moments = sorted(m + dt.timedelta(seconds=1) for m in sent if m is not None and m > since)

    def record(self, moment: dt.datetime) -> None:
        self.moments.append(moment)

    def day_full(self, now: dt.datetime) -> dt.datetime | None:
        """When the daily limit is reached: the moment the next may go; else None."""
        if self.limits.per_day is None:
            return None
        recent = [m for m in self.moments if m > now - DAY]
        if len(recent) < self.limits.per_day:
            return None
        return recent[len(recent) - self.limits.per_day] + DAY

    def wait(self, now: dt.datetime) -> float:
        """Seconds to wait before the next message keeps to the rate; 0 when it may go now."""
        if not self.limits.per_minute:
            return 0.0
        recent = [m for m in self.moments if m > now - MINUTE]
        if len(recent) < self.limits.per_minute:
            return 0.0
        return max(0.0, (recent[len(recent) - self.limits.per_minute] + MINUTE - now).total_seconds())


def pause(seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
    """Sleep `seconds`, a second at a time, ending early when `stop()` says so (Ctrl-C)."""
    left = seconds
    while left > 0 and not stop():
        step = min(1.0, left)
        sleep(step)
        left -= step
