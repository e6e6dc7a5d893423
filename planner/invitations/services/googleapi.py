"""Gmail and Google Calendar: send a MIME message, read messages as MIME, and
ask for free/busy time.

The requests, as Google documents them:
- ``POST gmail/v1/users/me/messages/send`` with ``{"raw": base64url MIME}``;
  answer a Message resource (``id``, ``threadId``, ``labelIds``).
- ``GET gmail/v1/users/me/messages?q=...&maxResults=100&pageToken=...`` gives
  ``messages`` ({``id``, ``threadId``}) and ``nextPageToken``; ``GET
  gmail/v1/users/me/messages/{id}?format=raw`` gives ``raw`` (base64url MIME).
- ``POST calendar/v3/freeBusy`` with ``timeMin``, ``timeMax`` (RFC 3339) and
  at most 50 ``items`` ({``id``: address}); answer ``calendars`` keyed by
  address, each with ``busy`` ({``start``, ``end``}) or ``errors``
  ({``domain``, ``reason``}: a partial failure).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote

from planner.invitations.services.graph import Refused
from planner.invitations.services.http import ApiClient, ServiceError, error_text, test_setting
from planner.invitations.services.tokens import GoogleToken

CALENDARS_PER_CALL = 50  # freeBusy's limit


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class Google:
    def __init__(self, gmail: ApiClient, calendar: ApiClient):
        self.gmail, self.calendar = gmail, calendar

    @classmethod
    def signed_in(cls) -> Google:
        token = GoogleToken()
        gmail = test_setting("GOOGLE_URL", "https://gmail.googleapis.com") + "/gmail/v1/users/me"
        calendar = test_setting("GOOGLE_URL", "https://www.googleapis.com") + "/calendar/v3"
        return cls(ApiClient(gmail, token, name="Gmail"), ApiClient(calendar, token, name="Google Calendar"))

    def send_mime(self, raw: bytes) -> None:
        body = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        response = self.gmail.request("POST", "/messages/send", idempotent=False, json=body)
        if response.status_code == 200:
            return
        if response.status_code in (401, 403):
            raise ServiceError(f"Gmail refused to send: {error_text(response)} (the gmail.send scope)")
        raise Refused(response.status_code, error_text(response))

    def messages(self, since: dt.date | None = None) -> Iterator[tuple[str, bytes]]:
        params = {"maxResults": "100", "q": f"after:{since:%Y/%m/%d}" if since else ""}
        while True:
            response = self.gmail.request("GET", "/messages", params={k: v for k, v in params.items() if v})
            if response.status_code != 200:
                raise ServiceError(f"Gmail would not list the messages: {error_text(response)}")
            page = response.json()
            for item in page.get("messages", []) or []:
                ident = str(item.get("id", ""))
                if not ident:
                    continue
                got = self.gmail.request("GET", f"/messages/{quote(ident, safe='')}", params={"format": "raw"})
                if got.status_code != 200:
                    raise ServiceError(f"Gmail would not give message {ident[:20]}: {error_text(got)}")
                try:
                    raw = _b64url(str(got.json().get("raw", "")))
                except ValueError:
                    raise ServiceError(f"Gmail sent message {ident[:20]} in a form not understood") from None
                yield f"gmail:messages/{ident}", raw
            token = page.get("nextPageToken")
            if not token:
                return
            params["pageToken"] = str(token)

    def schedule(self, addresses: list[str], start: dt.datetime, end: dt.datetime
                 ) -> dict[str, list[tuple[dt.datetime, dt.datetime, str]] | str]:
        found: dict[str, list[tuple[dt.datetime, dt.datetime, str]] | str] = {}
        for first in range(0, len(addresses), CALENDARS_PER_CALL):
            batch = addresses[first:first + CALENDARS_PER_CALL]
            body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "timeZone": "UTC",
                    "items": [{"id": a} for a in batch]}
            response = self.calendar.request("POST", "/freeBusy", json=body)
            if response.status_code != 200:
                raise ServiceError(f"Google Calendar would not give free/busy time: {error_text(response)}")
            calendars = {k.lower(): v for k, v in (response.json().get("calendars") or {}).items()}
            for address in batch:
                info = calendars.get(address.lower())
                if info is None:
                    found[address] = "no answer for this address"
                elif info.get("errors"):
                    found[address] = "; ".join(f"{e.get('domain', '')}: {e.get('reason', '')}"
                                               for e in info["errors"])
                else:
                    found[address] = [(_parse(b["start"]), _parse(b["end"]), "busy")
                                      for b in info.get("busy", []) if "start" in b and "end" in b]
        return found


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ServiceError(f"Google Calendar gave a time without its offset: {text!r}")
    return moment.astimezone(dt.UTC)
