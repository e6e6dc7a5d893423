"""Microsoft 365 and Google Workspace from the browser: connecting (the
authorisation code flow with PKCE, redirected back to the workspace on its
loopback address), who is connected, and the work the buttons start — send
through the connected service, read the replies, fetch free/busy.

Tokens are kept exactly where `planner login` keeps them
(planner.invitations.services.tokens: the user's configuration folder, 0600,
the Microsoft cache encrypted where the system offers it), so the command
line and the workspace share one sign-in. A flow waiting for its answer is
held in the server's memory only, by its unguessable `state`, for ten
minutes; its code_verifier never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from planner.invitations.services.http import ServiceError, trust
from planner.invitations.services.tokens import (
    GOOGLE_SCOPES,
    GOOGLE_TOKEN,
    MS_CACHE,
    MS_SCOPES,
    MS_SETTINGS,
    MicrosoftSettings,
    MicrosoftToken,
    config_dir,
    write_private,
)

FLOW_SECONDS = 600
PROVIDERS = {"microsoft": "Microsoft 365", "google": "Google Workspace"}
VIA = {"microsoft": "graph", "google": "google"}  # the provider -> `--via` of the command line
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


def _google_url(real: str, path: str) -> str:
    stand_in = os.environ.get("PLANNER_TEST_GOOGLE_URL")  # the tests' stand-in, never set otherwise
    return f"{stand_in}{path}" if stand_in else real


def _claims(id_token: str) -> dict[str, Any]:
    """An id_token's claims, for showing who signed in (not trusted for anything else)."""
    try:
        payload = id_token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (IndexError, ValueError):
        return {}


def connected() -> dict[str, str]:
    """provider -> who is connected ("" if connected as someone unnamed); absent when not connected."""
    folder, out = config_dir(), {}
    if (folder / MS_SETTINGS).is_file() and (folder / MS_CACHE).exists():
        try:
            data = json.loads((folder / MS_SETTINGS).read_text(encoding="utf-8"))
            out["microsoft"] = str(data.get("username") or "")
        except ValueError:
            pass
    if (folder / GOOGLE_TOKEN).is_file():
        try:
            data = json.loads((folder / GOOGLE_TOKEN).read_text(encoding="utf-8"))
            out["google"] = str(data.get("account") or "")
        except ValueError:
            pass
    return out


@dataclass
class Pending:
    provider: str
    data: dict[str, Any] = field(repr=False)
    expires: float = field(default_factory=lambda: time.monotonic() + FLOW_SECONDS)


class Flows:
    """Sign-ins waiting for the provider's answer, by state."""

    def __init__(self) -> None:
        self.pending: dict[str, Pending] = {}
        self.lock = threading.Lock()

    def keep(self, state: str, pending: Pending) -> None:
        with self.lock:
            now = time.monotonic()
            for key in [k for k, p in self.pending.items() if p.expires < now]:
                del self.pending[key]
            self.pending[state] = pending

    def take(self, provider: str, state: str) -> Pending | None:
        with self.lock:
            pending = self.pending.pop(state or "", None)
        if pending is None or pending.provider != provider or pending.expires < time.monotonic():
            return None
        return pending


def start_microsoft(flows: Flows, client_id: str, tenant: str, mailbox: str, redirect_uri: str) -> str:
    """MSAL's authorisation code flow with PKCE: the address to send the browser to."""
    settings = MicrosoftSettings(client_id=client_id, tenant=tenant or "organizations", mailbox=mailbox)
    token = MicrosoftToken(settings)
    try:
        flow = token.app.initiate_auth_code_flow(MS_SCOPES, redirect_uri=redirect_uri)
    except ValueError as exc:
        raise ServiceError(f"Microsoft sign-in could not start: {str(exc).splitlines()[0][:200]}") from None
    flows.keep(flow["state"], Pending("microsoft", {"flow": flow, "settings": settings}))
    return str(flow["auth_uri"])


def finish_microsoft(pending: Pending, answer: dict[str, str]) -> str:
    """The code exchanged (with the flow's code_verifier) for tokens, kept as the CLI keeps them; who signed in."""
    settings: MicrosoftSettings = pending.data["settings"]
    token = MicrosoftToken(settings)
    if answer.get("error"):
        raise ServiceError(f"Microsoft did not sign you in: {answer.get('error_description') or answer['error']}"[:300])
    try:
        result = token.app.acquire_token_by_auth_code_flow(pending.data["flow"], answer)
    except ValueError as exc:  # state or nonce mismatch
        raise ServiceError(f"Microsoft sign-in refused: {str(exc).splitlines()[0][:200]}") from None
    token._take(result, "authorisation code")
    claims = result.get("id_token_claims") or {}
    settings.username = str(claims.get("preferred_username") or claims.get("upn") or "")
    settings.save()
    return settings.username


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def start_google(flows: Flows, client_id: str, client_secret: str, redirect_uri: str) -> str:
    """Google's authorisation code flow for installed apps, with PKCE (S256), built by hand."""
    verifier, state = secrets.token_urlsafe(64), secrets.token_urlsafe(24)
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
             "scope": " ".join([*GOOGLE_SCOPES, "openid", "email"]), "state": state,
             "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
             "access_type": "offline", "prompt": "consent"}
    flows.keep(state, Pending("google", {"verifier": verifier, "client_id": client_id,
                                         "client_secret": client_secret, "redirect_uri": redirect_uri}))
    return _google_url(GOOGLE_AUTHORIZE, "/authorize") + "?" + urllib.parse.urlencode(query)


def finish_google(pending: Pending, answer: dict[str, str]) -> str:
    import httpx

    if answer.get("error") or not answer.get("code"):
        raise ServiceError(f"Google did not sign you in: {answer.get('error') or 'no code in the answer'}"[:300])
    data = pending.data
    form = {"grant_type": "authorization_code", "code": answer["code"], "code_verifier": data["verifier"],
            "client_id": data["client_id"], "client_secret": data["client_secret"],
            "redirect_uri": data["redirect_uri"]}
    try:
        response = httpx.post(_google_url(GOOGLE_TOKEN_URL, "/token"), data=form, verify=trust(), timeout=30)
    except httpx.HTTPError as exc:
        raise ServiceError(f"cannot reach Google sign-in: {type(exc).__name__}") from None
    result = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or "access_token" not in result:
        raise ServiceError(f"Google refused the sign-in: {result.get('error_description') or result.get('error')}"
                           f" ({response.status_code})")
    account = str(_claims(result.get("id_token", "")).get("email") or "")
    write_private(config_dir() / GOOGLE_TOKEN, json.dumps({
        "token": result["access_token"], "refresh_token": result.get("refresh_token", ""),
        "token_uri": GOOGLE_TOKEN_URL, "client_id": data["client_id"], "client_secret": data["client_secret"],
        "scopes": GOOGLE_SCOPES, "account": account}))
    return account


def disconnect(provider: str) -> None:
    """Forget one provider's sign-in (the CLI's `planner logout` forgets both)."""
    names = (MS_CACHE, MS_SETTINGS) if provider == "microsoft" else (GOOGLE_TOKEN,)
    for name in names:
        (config_dir() / name).unlink(missing_ok=True)
