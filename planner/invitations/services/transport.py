"""The seam between `planner send` / `planner replies` and an HTTPS mail service.

`send.deliver` talks to something shaped like ``smtplib.SMTP`` (``sendmail``,
``rset``, ``quit``); `ApiTransport` is that shape over Graph's ``sendMail`` or
Gmail's ``messages.send``, so the ledger, the lock and the exactly-once
guarantee are the very same code as for SMTP. A message the service refuses
becomes an ``SMTPDataError`` (counted as refused, the run goes on); a service
that cannot go on (sign-in refused, throttled too long, gone) becomes an
``SMTPException`` (the run stops; the rest is sent by running again).

Pacing keeps under the providers' stated rates: Exchange Online takes 30
messages a minute from one mailbox (one every 2 s) and 10,000 recipients a
day; Gmail's API send costs 100 of a user's 15,000 quota units a minute and a
Workspace user sends at most 2,000 messages a day.
"""

from __future__ import annotations

import os
import smtplib
import time
from collections.abc import Callable
from typing import Protocol

from planner.invitations.limits import limits_for
from planner.invitations.services.graph import Refused
from planner.invitations.services.http import ServiceError

PACING = {"graph": 2.0, "google": 0.5}  # seconds between two messages
DAILY = {"graph": 10000, "google": 2000}


class MessageRefused(smtplib.SMTPDataError):
    pass


class ServiceStopped(smtplib.SMTPException):
    pass


class Sender(Protocol):
    def send_mime(self, raw: bytes) -> None: ...


class ApiTransport:
    def __init__(self, service: Sender, via: str, close: Callable[[], None] = lambda: None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.service, self.close = service, close
        test = os.environ.get("PLANNER_TEST_PACING")
        self.pacing = float(test) if test else PACING[via]
        self.sleep, self.clock = sleep, clock
        self.last: float | None = None
        self.limits = limits_for(via)  # what send.deliver keeps to (rate and daily limit)

    def sendmail(self, sender: str, recipients: list[str], raw: bytes) -> dict:
        if self.last is not None:
            wait = self.pacing - (self.clock() - self.last)
            if wait > 0:
                self.sleep(wait)
        self.last = self.clock()
        try:
            self.service.send_mime(raw)
        except Refused as exc:
            raise MessageRefused(exc.code, str(exc).encode("utf-8")) from None
        except ServiceError as exc:
            raise ServiceStopped(str(exc)) from None
        return {}

    def rset(self) -> None:
        pass

    def quit(self) -> None:
        self.close()


def mail_service(via: str):
    """(service, close) for --via graph|google, signed in."""
    if via == "graph":
        from planner.invitations.services.graph import Graph

        graph = Graph.signed_in()
        return graph, graph.client.close
    from planner.invitations.services.googleapi import Google

    google = Google.signed_in()

    def close() -> None:
        google.gmail.close()
        google.calendar.close()
    return google, close


def transport(via: str) -> ApiTransport:
    service, close = mail_service(via)
    return ApiTransport(service, via, close)


def mime_messages(via: str, since=None):
    """(label, MIME bytes, "eml") of the organiser mailbox's messages, for `replies.read_replies`."""
    service, close = mail_service(via)
    try:
        for label, raw in service.messages(since):
            yield label, raw, "eml"
    finally:
        close()
