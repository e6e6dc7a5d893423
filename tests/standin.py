"""A STAND-IN for Microsoft's and Google's services, for the tests only.

Microsoft Graph, Microsoft's sign-in and Google's APIs cannot be reached from
here; this HTTPS server on 127.0.0.1 (a certificate made for the run with
openssl, trusted through PLANNER_TEST_CAFILE) answers exactly the requests
the planner makes, in the shapes Microsoft's and Google's reference pages
document them:

- sign-in (under /{tenant}: MSAL takes the first path segment as the tenant): the OpenID configuration, the device
  code endpoint (/oauth2/v2.0/devicecode: device_code, user_code,
  verification_uri, expires_in, interval, message) and the token endpoint
  (/oauth2/v2.0/token: device code, with one ``authorization_pending`` first;
  refresh token; client credentials), answering access_token, refresh_token,
  id_token and client_info;
- Graph (under /graph/v1.0): POST {me|users/x}/sendMail (base64 MIME, text/plain,
  202), GET mailFolders/inbox/messages (paged with @odata.nextLink), GET
  messages/{id}/$value, POST calendar/getSchedule (scheduleItems, or an error
  for an unknown address);
- the authorisation code flow with PKCE (RFC 7636), as a browser meets it: GET
  /{tenant}/oauth2/v2.0/authorize and /google/authorize remember the code_challenge
  (S256), the nonce and the redirect_uri, and answer 302 to the redirect_uri with a
  one-time code and the state; the token endpoints exchange that code only with the
  code_verifier whose SHA-256 is the challenge and the same redirect_uri (Microsoft's
  id_token then carries the nonce, as MSAL checks);
- Google (under /google): POST /token (the authorisation code with PKCE, and refresh), gmail/v1/users/me/messages/send,
  messages (list, nextPageToken) and messages/{id}?format=raw,
  calendar/v3/freeBusy (at most 50 items; errors for an unknown address).

Faults are queued with `fail(method, path_part, kind)`: "429" (Retry-After: 1),
"500", "503", "expire" (every token issued so far stops working: 401 as the
service says it), "400" (this message refused).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import datetime as dt
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from replies_helpers import self_signed

CLIENT_SECRET = "standin-client-secret-7f3a9c"


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counter = 0
        self.valid: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.issued: list[str] = []          # every token and secret handed out (for the leak test)
        self.faults: list[tuple[str, str, str]] = []
        self.sent: list[bytes] = []           # MIME messages received (Graph or Gmail)
        self.sent_by: list[str] = []          # the mailbox path each came through
        self.inbox: list[bytes] = []
        self.busy: dict[str, list[dict]] = {}  # address -> Graph scheduleItems / Google busy
        self.calls: list[tuple[str, str]] = []
        self.pending_once = True
        self.page = 2
        self.device_scope = ""
        self.google_scope = ""
        self.codes: dict[str, dict] = {}      # authorisation code -> what /authorize was asked (PKCE)
        self.pkce: list[str] = []             # "checked" / "refused" for each code exchanged with PKCE
        self.nonce = ""

    def token(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            value = f"{prefix}-{self.counter:04d}-standin-token-xyz"
            self.issued.append(value)
            return value

    def fault(self, method: str, path: str) -> str | None:
        with self.lock:
            for index, (m, part, kind) in enumerate(self.faults):
                if m == method and part in path:
                    del self.faults[index]
                    return kind
        return None


def _handler(state: State, base: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, body=None, headers=None, raw: bytes | None = None, ctype="application/json"):
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if data:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> bytes:
            if not hasattr(self, "_body"):
                self._body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self._body

        def authorised(self, google: bool) -> bool:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token in state.valid:
                return True
            if google:
                self.reply(401, {"error": {"code": 401, "message": "Request had invalid authentication "
                                           "credentials.", "status": "UNAUTHENTICATED"}})
            else:
                self.reply(401, {"error": {"code": "InvalidAuthenticationToken",
                                           "message": "Lifetime validation failed, the token is expired."}},
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return False

        def injected(self, method: str) -> bool:
            kind = state.fault(method, self.path)
            if kind is None:
                return False
            if kind == "expire":
                state.valid.clear()
                return False
            if kind == "429":
                self.reply(429, {"error": {"code": "TooManyRequests", "message": "Please retry later."}},
                           {"Retry-After": "1"})
            elif kind in ("500", "503"):
                self.reply(int(kind), {"error": {"code": "ServiceUnavailable", "message": "Try again."}})
            elif kind == "400":
                self.body()
                self.reply(400, {"error": {"code": "ErrorInvalidRecipients", "message": "At least one recipient "
                                           "is not valid."}})
            return True

        def do_GET(self):
            state.calls.append(("GET", self.path))
            url = urlparse(self.path)
            if url.path.endswith("/.well-known/openid-configuration"):
                root = base + url.path.removesuffix("/v2.0/.well-known/openid-configuration")
                return self.reply(200, {"authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                                        "token_endpoint": f"{root}/oauth2/v2.0/token",
                                        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                                        "issuer": f"{root}/v2.0", "response_types_supported": ["code"]})
            if url.path.endswith("/oauth2/v2.0/authorize") or url.path == "/google/authorize":
                return self.authorize(parse_qs(url.query))
            if self.injected("GET"):
                return
            google = url.path.startswith("/google/")
            if not self.authorised(google):
                return
            query = parse_qs(url.query)
            if url.path.endswith("/mailFolders/inbox/messages"):
                skip = int(query.get("$skip", ["0"])[0])
                ids = list(range(skip, min(skip + state.page, len(state.inbox))))
                page = {"value": [{"id": f"AAMk{i}=", "receivedDateTime": "2026-04-02T10:00:00Z"} for i in ids]}
                if skip + state.page < len(state.inbox):
                    page["@odata.nextLink"] = (f"{base}{url.path}?%24top=50&%24skip={skip + state.page}")
                return self.reply(200, page)
            if url.path.endswith("/$value"):
                number = int(unquote(url.path.split("/messages/")[1].split("/")[0]).removeprefix("AAMk").rstrip("="))
                return self.reply(200, raw=state.inbox[number], ctype="text/plain")
            if url.path == "/google/gmail/v1/users/me/messages":
                start = int(query.get("pageToken", ["0"])[0])
                ids = list(range(start, min(start + state.page, len(state.inbox))))
                page = {"messages": [{"id": f"18c{i}", "threadId": f"18c{i}"} for i in ids],
                        "resultSizeEstimate": len(ids)}
                if start + state.page < len(state.inbox):
                    page["nextPageToken"] = str(start + state.page)
                return self.reply(200, page)
            if url.path.startswith("/google/gmail/v1/users/me/messages/"):
                assert query.get("format") == ["raw"]
                number = int(url.path.rsplit("/", 1)[1].removeprefix("18c"))
                raw = base64.urlsafe_b64encode(state.inbox[number]).decode().rstrip("=")
                return self.reply(200, {"id": f"18c{number}", "raw": raw})
            self.reply(404, {"error": {"code": "ResourceNotFound", "message": "no such path"}})

        def do_POST(self):
            self.body()  # read whole before any answer, as a real server does
            url = urlparse(self.path)
            grant = parse_qs(self.body().decode(errors="replace")).get("grant_type", [""])[0]
            state.calls.append(("POST", self.path + (f"#{grant}" if grant else "")))
            if url.path.endswith("/oauth2/v2.0/devicecode"):
                form = parse_qs(self.body().decode())
                state.device_scope = form.get("scope", [""])[0]
                return self.reply(200, {"device_code": "standin-device-code", "user_code": "ABCD-1234",
                                        "verification_uri": "https://microsoft.com/devicelogin",
                                        "expires_in": 900, "interval": 1,
                                        "message": "To sign in, use a web browser to open the page "
                                                   "https://microsoft.com/devicelogin and enter the code "
                                                   f"ABCD-1234 to authenticate. ({form.get('scope', [''])[0]})"})
            if url.path.endswith("/oauth2/v2.0/token"):
                return self.microsoft_token(parse_qs(self.body().decode()))
            if url.path == "/google/token":
                form = parse_qs(self.body().decode())
                if form.get("grant_type") == ["authorization_code"]:
                    return self.google_code(form)
                if form.get("refresh_token", [""])[0] not in state.refresh_tokens:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
                token = state.token("ya29")
                state.valid.add(token)
                return self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                                        "scope": " ".join(form.get("scope", [""]))})
            if self.injected("POST"):
                return
            google = url.path.startswith("/google/")
            if not self.authorised(google):
                return
            data = self.body()
            if url.path.endswith("/sendMail"):
                assert self.headers.get("Content-Type") == "text/plain"
                state.sent.append(base64.b64decode(data, validate=True))
                state.sent_by.append(url.path.removesuffix("/sendMail"))
                return self.reply(202)
            if url.path.endswith("/calendar/getSchedule"):
                return self.get_schedule(json.loads(data))
            if url.path == "/google/gmail/v1/users/me/messages/send":
                raw = json.loads(data)["raw"]
                state.sent.append(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
                state.sent_by.append("gmail")
                return self.reply(200, {"id": f"18d{len(state.sent)}", "threadId": "t", "labelIds": ["SENT"]})
            if url.path == "/google/calendar/v3/freeBusy":
                return self.free_busy(json.loads(data))
            self.reply(404, {"error": {"code": "ResourceNotFound", "message": "no such path"}})

        def authorize(self, query):
            """The sign-in page, already answered: a code for the challenge, back to the redirect_uri."""
            one = {k: v[0] for k, v in query.items()}
            if one.get("code_challenge_method") != "S256" or len(one.get("code_challenge", "")) < 43:
                return self.reply(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
            code = state.token("code")
            state.codes[code] = one
            target = one["redirect_uri"] + "?" + urlencode({"code": code, "state": one.get("state", "")})
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def pkce_refusal(self, form) -> str | None:
            """Why the code exchange is refused (None: the verifier matches the challenge)."""
            asked = state.codes.pop(form.get("code", [""])[0], None)
            if asked is None:
                return "unknown or used code"
            verifier = form.get("code_verifier", [""])[0]
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if digest != asked["code_challenge"] or form.get("redirect_uri", [""])[0] != asked["redirect_uri"]:
                state.pkce.append("refused")
                return "code_verifier or redirect_uri does not match"
            state.pkce.append("checked")
            state.nonce = asked.get("nonce", "")
            return None

        def microsoft_token(self, form):
            grant = form.get("grant_type", [""])[0]
            client = form.get("client_id", [""])[0]
            state.nonce = ""
            if grant == "authorization_code":
                why = self.pkce_refusal(form)
                if why:
                    return self.reply(400, {"error": "invalid_grant", "error_description": f"AADSTS501481: {why}"})
            elif grant == "urn:ietf:params:oauth:grant-type:device_code":
                if state.pending_once:
                    state.pending_once = False
                    return self.reply(400, {"error": "authorization_pending",
                                            "error_description": "AADSTS70016: pending"})
            elif grant == "refresh_token":
                if form.get("refresh_token", [""])[0] not in state.refresh_tokens:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "AADSTS70000"})
            elif grant == "client_credentials":
                if form.get("client_secret", [""])[0] != CLIENT_SECRET:
                    return self.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215"})
                token = state.token("app")
                state.valid.add(token)
                return self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
            else:
                return self.reply(400, {"error": "unsupported_grant_type"})
            token, refresh = state.token("eyJ0"), state.token("rt")
            state.valid.add(token)
            state.refresh_tokens.add(refresh)
            now = int(dt.datetime.now(dt.timezone.utc).timestamp())
            claims = {"iss": f"{base}/tenant-1/v2.0", "sub": "sub-1", "aud": client, "iat": now,
                      "exp": now + 3600, "oid": "oid-1", "tid": "tenant-1", "name": "Organiser",
                      "preferred_username": "strategy@example.org"}
            if state.nonce:
                claims["nonce"] = state.nonce
            id_token = f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}."
            scope = form.get("scope", [""])[0] or state.device_scope  # the device code's own scope
            return self.reply(200, {"token_type": "Bearer", "scope": scope,
                                    "expires_in": 3599, "access_token": token, "refresh_token": refresh,
                                    "id_token": id_token,
                                    "client_info": _b64url({"uid": "oid-1", "utid": "tenant-1"})})

        def google_code(self, form):
            """The installed-app flow's code exchange (with PKCE's code_verifier): the fixed code of the
            command line's test, or one /google/authorize gave, whose challenge the verifier must match."""
            if form.get("code") != ["standin-code"] and self.pkce_refusal(form):
                return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            if not form.get("code_verifier"):
                return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            token, refresh = state.token("ya29"), state.token("1//rt")
            state.valid.add(token)
            state.refresh_tokens.add(refresh)
            claims = {"iss": "https://accounts.google.com", "email": "strategy@example.com", "sub": "g-1"}
            return self.reply(200, {"access_token": token, "refresh_token": refresh, "expires_in": 3599,
                                    "token_type": "Bearer", "scope": state.google_scope,
                                    "id_token": f"{_b64url({'alg': 'none'})}.{_b64url(claims)}."})

        def get_schedule(self, body):
            assert body["startTime"]["timeZone"] == "UTC" and body["endTime"]["timeZone"] == "UTC"
            value = []
            for address in body["schedules"]:
                if address not in state.busy:
                    value.append({"scheduleId": address, "error": {
                        "message": "The user or resource could not be found.", "responseCode": "ErrorMailRecipientNotFound"}})
                    continue
                value.append({"scheduleId": address, "availabilityView": "0220", "scheduleItems": [
                    {"isPrivate": False, "status": i["status"], "subject": "Busy", "location": "",
                     "start": {"dateTime": i["start"] + ".0000000", "timeZone": "UTC"},
                     "end": {"dateTime": i["end"] + ".0000000", "timeZone": "UTC"}} for i in state.busy[address]],
                    "workingHours": {"daysOfWeek": ["monday"], "startTime": "08:00:00.0000000",
                                     "endTime": "17:00:00.0000000", "timeZone": {"name": "UTC"}}})
            self.reply(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection("
                                               "microsoft.graph.scheduleInformation)", "value": value})

        def free_busy(self, body):
            if len(body["items"]) > 50:
                return self.reply(400, {"error": {"code": 400, "message": "Too many calendars requested.",
                                                  "status": "INVALID_ARGUMENT"}})
            calendars = {}
            for entry in body["items"]:
                address = entry["id"]
                if address in state.busy:
                    calendars[address] = {"busy": [{"start": i["start"] + "Z", "end": i["end"] + "Z"}
                                                   for i in state.busy[address]]}
                else:
                    calendars[address] = {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}
            self.reply(200, {"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"],
                             "calendars": calendars})

    return Handler


@contextlib.contextmanager
def standin(folder):
    """The stand-in on 127.0.0.1: yields (state, base URL, cafile)."""
    cert, key = self_signed(folder)
    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    base = f"https://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = _handler(state, base)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, base, str(cert)
    finally:
        server.shutdown()
        server.server_close()
