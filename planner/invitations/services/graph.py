"""Microsoft Graph: send a MIME message, read the mailbox's messages as MIME,
and ask for free/busy time (calendar/getSchedule).

The requests, as Microsoft documents them (v1.0):
- ``POST /me/sendMail`` (or ``/users/{mailbox}/sendMail``) with the base64 MIME
  message as the body, ``Content-Type: text/plain``; answer 202 Accepted.
- ``GET /me/mailFolders/{folder}/messages?$select=id,receivedDateTime&$top=50``
  (with ``$filter=receivedDateTime ge ...``), then ``@odata.nextLink`` page by
  page; ``GET /me/messages/{id}/$value`` gives each message's MIME.
- ``POST /me/calendar/getSchedule`` with ``schedules``, ``startTime``,
  ``endTime`` (UTC) and ``availabilityViewInterval``; times come back in UTC
  (no ``Prefer: outlook.timezone``); each schedule has ``scheduleItems`` with a
  ``status`` (free, tentative, busy, oof, workingElsewhere, unknown) or an
  ``error`` of its own (a partial failure).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote

from planner.invitations.services.http import ApiClient, ServiceError, error_text, test_setting
from planner.invitations.services.tokens import MicrosoftSettings, MicrosoftToken

SCHEDULES_PER_CALL = 20  # getSchedule answers for a few addresses at a time; smaller calls throttle less
MAX_DAYS = 62            # getSchedule's longest window


class Refused(Exception):
    """The service refused this one message (not the connection): the next may go."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code


class Graph:
    def __init__(self, client: ApiClient, mailbox: str = ""):
        self.client = client
        self.root = f"/users/{quote(mailbox, safe='@')}" if mailbox else "/me"

    @classmethod
    def signed_in(cls, settings: MicrosoftSettings | None = None) -> Graph:
        settings = settings or MicrosoftSettings.load()
        token = MicrosoftToken(settings)
        if token.app_only and not settings.mailbox:
            raise ServiceError("client credentials act for no one: set PLANNER_MS_MAILBOX to the organiser's "
                               "mailbox (scoped to it by Exchange's RBAC for Applications)")
        base = test_setting("GRAPH_URL", "https://graph.microsoft.com") + "/v1.0"
        return cls(ApiClient(base, token, name="Microsoft Graph"), settings.mailbox)

    def send_mime(self, raw: bytes) -> None:
        response = self.client.request("POST", f"{self.root}/sendMail", idempotent=False,
                                       content=base64.b64encode(raw), headers={"Content-Type": "text/plain"})
        if response.status_code == 202 or response.status_code == 200:
            return
        if response.status_code in (401, 403):
            raise ServiceError(f"Microsoft Graph refused to send: {error_text(response)} "
                               "(the Mail.Send permission, or Send As on a shared mailbox)")
        raise Refused(response.status_code, error_text(response))

    def messages(self, since: dt.date | None = None, folder: str = "inbox") -> Iterator[tuple[str, bytes]]:
        """(label, MIME bytes) of each message in the folder, oldest first; nothing is changed."""
        params = {"$select": "id,receivedDateTime", "$top": "50", "$orderby": "receivedDateTime"}
        if since:
            params["$filter"] = f"receivedDateTime ge {since.isoformat()}T00:00:00Z"
        url: str | None = f"{self.root}/mailFolders/{quote(folder, safe='')}/messages"
        query: dict[str, str] | None = params
        while url:
            response = self.client.request("GET", url, params=query)
            if response.status_code != 200:
                raise ServiceError(f"Microsoft Graph would not list the messages: {error_text(response)}")
            page = response.json()
            for item in page.get("value", []):
                ident = str(item.get("id", ""))
                if not ident:
                    continue
                raw = self.client.request("GET", f"{self.root}/messages/{quote(ident, safe='')}/$value")
                if raw.status_code != 200:
                    raise ServiceError(f"Microsoft Graph would not give message {ident[:20]}…: {error_text(raw)}")
                yield f"graph:{self.root}/messages/{ident}", raw.content
            url, query = page.get("@odata.nextLink"), None  # the next link holds the query

    def schedule(self, addresses: list[str], start: dt.datetime, end: dt.datetime
                 ) -> dict[str, list[tuple[dt.datetime, dt.datetime, str]] | str]:
        """For each address: its busy periods (UTC start, end, status) in [start, end), or the error
        the service gave for it."""
        found: dict[str, list[tuple[dt.datetime, dt.datetime, str]] | str] = {}
        for first in range(0, len(addresses), SCHEDULES_PER_CALL):
            batch = addresses[first:first + SCHEDULES_PER_CALL]
            body = {"schedules": batch, "availabilityViewInterval": 15,
                    "startTime": {"dateTime": _naive(start), "timeZone": "UTC"},
                    "endTime": {"dateTime": _naive(end), "timeZone": "UTC"}}
            response = self.client.request("POST", f"{self.root}/calendar/getSchedule", json=body)
            if response.status_code != 200:
                raise ServiceError(f"Microsoft Graph would not give free/busy time: {error_text(response)}")
            answered = {}
            for info in response.json().get("value", []):
                answered[str(info.get("scheduleId", "")).lower()] = info
            for address in batch:
                info = answered.get(address.lower())
                if info is None:
                    found[address] = "no answer for this address"
                elif info.get("error"):
                    err = info["error"]
                    found[address] = f"{err.get('responseCode', '')}: {err.get('message', '')}".strip(": ")
                else:
                    found[address] = [(_when(i["start"]), _when(i["end"]), str(i.get("status", "busy")))
                                      for i in info.get("scheduleItems", []) if "start" in i and "end" in i]
        return found


def _naive(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _when(value: dict) -> dt.datetime:
    """A dateTimeTimeZone in UTC (as asked) read as an aware datetime."""
    text = str(value.get("dateTime", ""))
    zone = str(value.get("timeZone", "UTC"))
    if zone.upper() not in ("UTC", "ETC/UTC", "Z"):
        raise ServiceError(f"Microsoft Graph answered in time zone {zone!r}, not UTC as asked")
    head, _, fraction = text.partition(".")
    return dt.datetime.fromisoformat(head).replace(tzinfo=dt.UTC)
