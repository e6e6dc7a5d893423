"""One HTTPS client for Microsoft Graph and Google's APIs (httpx), with the
provider's throttling honoured.

- 429 (and a 503 that carries Retry-After): wait what Retry-After says (seconds
  or an HTTP date), at most `max_wait` seconds a time and `max_throttles` times;
- another 5xx, or a connection that could not be made: retried `max_retries`
  times with a growing pause;
- 401: the token is refreshed once (an expired token) and the request repeated.

A request that may have reached the server and is not safe to repeat (sending a
message) is not retried after a lost answer: the caller stops and a re-run
resumes from the ledger, as with SMTP.

The bearer token goes in the Authorization header only; no message, error or
log line of this module holds it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import ssl
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from planner.errors import PlannerError

USER_AGENT = "peer-challenge-planner (issue 19)"


class ServiceError(PlannerError):
    """The service could not be reached, refused the sign-in, or kept failing."""

    exit_code = 1


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def refresh(self) -> None: ...


def test_setting(name: str, default: str) -> str:
    """A base URL or trust anchor the tests point at their stand-in server:
    environment variables named PLANNER_TEST_*; the real endpoints otherwise."""
    return os.environ.get(f"PLANNER_TEST_{name}") or default


def trust() -> ssl.SSLContext | bool:
    """The system's certificates, plus the stand-in's when a test names one."""
    cafile = os.environ.get("PLANNER_TEST_CAFILE")
    return ssl.create_default_context(cafile=cafile) if cafile else True


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())


def error_text(response: httpx.Response) -> str:
    """The service's own words for a failed request (Graph and Google both send
    {"error": {"code"/"status", "message"}}), on one line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = err.get("code") if isinstance(err.get("code"), str) else err.get("status", "")
            detail = f"{code}: {err.get('message', '')}".strip(": ")
        elif isinstance(err, str):
            detail = f"{err}: {body.get('error_description', '')}".strip(": ")
    if not detail:
        detail = response.text[:200]
    return f"{response.status_code} {' '.join(str(detail).split())}"[:500]


class ApiClient:
    """Requests to one service with a bearer token, retries and throttling."""

    def __init__(self, base: str, token: TokenSource, *, name: str, timeout: float = 30.0,
                 max_retries: int = 4, max_throttles: int = 8, max_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None):
        self.base = base.rstrip("/")
        self.name = name
        self.token = token
        self.max_retries, self.max_throttles, self.max_wait = max_retries, max_throttles, max_wait
        self.sleep = sleep
        self.backoff = float(test_setting("BACKOFF", "0.5"))  # the first pause after a failure, doubled each time
        self.waited: list[float] = []  # every pause taken, for the tests and the summary
        self.http = httpx.Client(timeout=timeout, verify=trust(), headers={"User-Agent": USER_AGENT},
                                 transport=transport, follow_redirects=False)

    def url(self, path: str) -> str:
        """`path` under the service's base; an absolute URL (a next-page link) must stay on it."""
        if path.startswith(("https://", "http://")):
            if not path.startswith(self.base + "/"):
                raise ServiceError(f"{self.name} pointed to a page outside {self.base}; not followed")
            return path
        return self.base + path

    def request(self, method: str, path: str, *, idempotent: bool = True, **kwargs) -> httpx.Response:
        url = self.url(path)
        headers = dict(kwargs.pop("headers", None) or {})
        refreshed, failures, throttles = False, 0, 0
        while True:
            headers["Authorization"] = "Bearer " + self.token.access_token()
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                failures += 1
                if (not idempotent and not never_sent) or failures > self.max_retries:
                    raise ServiceError(f"cannot talk to {self.name}: {type(exc).__name__}") from None
                self._pause(min(self.backoff * 2 ** failures, 30.0))
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed = True
                self.token.refresh()
                continue
            if status == 429 or (status == 503 and "Retry-After" in response.headers):
                throttles += 1
                wait = retry_after(response)
                if throttles > self.max_throttles or wait > self.max_wait:
                    raise ServiceError(f"{self.name} keeps asking to slow down ({error_text(response)}, "
                                       f"retry after {wait:.0f} s); run the same command again later")
                self._pause(wait)
                continue
            if status >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise ServiceError(f"{self.name} failed {failures} times: {error_text(response)}")
                self._pause(min(self.backoff * 2 ** failures, 30.0))
                continue
            return response

    def _pause(self, seconds: float) -> None:
        self.waited.append(seconds)
        self.sleep(seconds)

    def close(self) -> None:
        self.http.close()
