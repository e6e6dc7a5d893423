"""Microsoft 365 and Google Workspace (issue 19) against the local stand-in
(tests/standin.py: HTTPS on 127.0.0.1, the documented requests and answers):
device-code sign-in, send --via graph|google with the ledger's exactly-once,
429 with Retry-After, 5xx, an expired token refreshed, a refused message;
replies --via graph|google; availability --via graph|google|ics, written as
VFREEBUSY files the visit reads back; XOAUTH2 over SMTP; no token or secret in
logs, plan folders, visit folders or the ledger."""

from __future__ import annotations

import csv
import json
import logging
import shutil
import stat
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import cli
from planner.input.validation import load_visit
from planner.invitations.availability import ours
from planner.invitations.services.googleapi import Google
from planner.invitations.services.http import ApiClient
from planner.invitations.services.tokens import GOOGLE_TOKEN, MS_CACHE, config_dir
from planner.invitations.send import read_ledger
from planner.store.planio import write_plan_files
from standin import CLIENT_SECRET, standin
from test_invites import hand_plan, render, small_visit
from test_replies import client_replies

MIME_IDS = lambda raws: [message_from_bytes(r, policy=policy.default)["Message-ID"] for r in raws]  # noqa: E731


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    with standin(tmp_path) as (state, base, cafile):
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        monkeypatch.setenv("PLANNER_TEST_LOGIN_URL", base)
        monkeypatch.setenv("PLANNER_TEST_GRAPH_URL", f"{base}/graph")
        monkeypatch.setenv("PLANNER_TEST_GOOGLE_URL", f"{base}/google")
        monkeypatch.setenv("PLANNER_TEST_CAFILE", cafile)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", cafile)  # requests (MSAL, google-auth) lets it win
        monkeypatch.setenv("PLANNER_TEST_PACING", "0")
        monkeypatch.setenv("PLANNER_TEST_BACKOFF", "0.01")  # Retry-After is still waited in full
        monkeypatch.setenv("PLANNER_TEST_PLAIN_CACHE", "1")
        for name in ("PLANNER_MS_CLIENT_ID", "PLANNER_MS_CLIENT_SECRET", "PLANNER_MS_MAILBOX", "PLANNER_MS_TENANT",
                     "PLANNER_GOOGLE_SERVICE_ACCOUNT"):
            monkeypatch.delenv(name, raising=False)
        state.base = base
        yield state


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    base = tmp_path_factory.mktemp("services")
    visit = small_visit(base / "visit")
    folder = base / "plan"
    plan = hand_plan(visit)
    render(folder, visit, plan)
    write_plan_files(folder, plan, visit)
    manifest = json.loads((folder / "invites/manifest.json").read_text(encoding="utf-8"))
    return visit, folder, manifest, base / "visit"


@pytest.fixture
def plan(issued, tmp_path):
    target = tmp_path / "plan"
    shutil.copytree(issued[1], target)
    return target


@pytest.fixture
def visit_dir(issued, tmp_path):
    target = tmp_path / "visit"
    shutil.copytree(issued[3], target)
    return target


def microsoft_login(state) -> None:
    result = CliRunner().invoke(cli, ["login", "microsoft", "--client-id", "client-1", "--tenant", "tenant-1"])
    assert result.exit_code == 0, result.output
    assert "ABCD-1234" in result.output and "strategy@example.org" in result.output


def google_login(state) -> None:
    """As `planner login google` leaves it, with an access token the service no longer takes."""
    refresh = state.token("1//rt")
    state.refresh_tokens.add(refresh)
    info = {"token": "ya29-stale", "refresh_token": refresh, "token_uri": f"{state.base}/google/token",
            "client_id": "client-2.apps.googleusercontent.com", "client_secret": "GOCSPX-standin",
            "scopes": ["https://www.googleapis.com/auth/gmail.send"]}
    state.issued += [info["client_secret"]]
    (config_dir() / GOOGLE_TOKEN).write_text(json.dumps(info), encoding="utf-8")


def due(plan: Path) -> list[dict]:
    return [m for m in json.loads((plan / "invites/manifest.json").read_text(encoding="utf-8"))["messages"]
            if m["to_send"]]


def test_device_code_login_keeps_the_tokens_private_outside_the_visit(cloud, plan):
    microsoft_login(cloud)
    cache = config_dir() / MS_CACHE
    assert cache.is_file() and stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir().stat().st_mode) == 0o700
    assert any(t in cache.read_text() for t in cloud.issued)  # the cache holds them, nothing else does
    assert not (plan / MS_CACHE).exists()
    result = CliRunner().invoke(cli, ["logout"])
    assert result.exit_code == 0 and not cache.exists()


def test_send_via_graph_once_each_through_429_5xx_and_an_expired_token(cloud, plan, caplog):
    caplog.set_level(logging.DEBUG)
    microsoft_login(cloud)
    cloud.faults += [("POST", "/sendMail", "429"), ("POST", "/sendMail", "503"), ("POST", "/sendMail", "expire"),
                     ("POST", "/sendMail", "500")]
    result = CliRunner().invoke(cli, ["send", str(plan), "--via", "graph", "--send"])
    assert result.exit_code == 0, result.output
    expected = due(plan)
    assert len(cloud.sent) == len(expected) == len(read_ledger(plan))
    assert sorted(MIME_IDS(cloud.sent)) == sorted(m["message_id"] for m in expected)
    assert set(cloud.sent_by) == {"/graph/v1.0/me"}
    # the very bytes of the .eml, only the Date set at sending
    first = next(m for m in expected if m["message_id"] == MIME_IDS(cloud.sent[:1])[0])
    eml = (plan / first["eml"]).read_bytes()
    strip = lambda raw: b"\r\n".join(l for l in raw.split(b"\r\n") if not l.startswith(b"Date:"))  # noqa: E731
    assert strip(cloud.sent[0]) == strip(eml)
    grants = [p.split("#")[1] for m, p in cloud.calls if "/oauth2/v2.0/token#" in p]
    # the device code (pending once), the cached token used by the next run, one refresh for the expiry
    assert grants == ["urn:ietf:params:oauth:grant-type:device_code"] * 2 + ["refresh_token"], grants
    again = CliRunner().invoke(cli, ["send", str(plan), "--via", "graph", "--send"])
    assert again.exit_code == 0 and "Sent 0 of 0" in again.output
    assert len(cloud.sent) == len(expected)
    assert_no_secret(cloud, [plan], caplog.text + result.output + again.output)


def test_a_refused_message_is_retried_by_the_next_run_and_a_lost_service_resumes(cloud, plan):
    microsoft_login(cloud)
    cloud.faults += [("POST", "/sendMail", "400")]
    first = CliRunner().invoke(cli, ["send", str(plan), "--via", "graph", "--send"])
    assert first.exit_code == 1 and "ErrorInvalidRecipients" in first.output + first.stderr
    total = len(due(plan))
    assert len(cloud.sent) == total - 1 == len(read_ledger(plan))
    # the service fails six times in a row: the run stops, the rest goes on the next run
    cloud.faults += [("POST", "/sendMail", "500")] * 6
    second = CliRunner().invoke(cli, ["send", str(plan), "--via", "graph", "--send"])
    assert second.exit_code == 1 and "Stopped" in second.output + second.stderr
    third = CliRunner().invoke(cli, ["send", str(plan), "--via", "graph", "--send"])
    assert third.exit_code == 0, third.output
    assert len(cloud.sent) == total and len(set(MIME_IDS(cloud.sent))) == total


def test_send_via_gmail_refreshes_the_expired_token(cloud, plan, caplog):
    caplog.set_level(logging.DEBUG)
    google_login(cloud)
    cloud.faults += [("POST", "/messages/send", "429")]
    result = CliRunner().invoke(cli, ["send", str(plan), "--via", "google", "--send"])
    assert result.exit_code == 0, result.output
    assert len(cloud.sent) == len(due(plan)) == len(read_ledger(plan))
    assert ("POST", "/google/token#refresh_token") in cloud.calls
    saved = json.loads((config_dir() / GOOGLE_TOKEN).read_text())
    assert saved["token"] != "ya29-stale" and stat.S_IMODE((config_dir() / GOOGLE_TOKEN).stat().st_mode) == 0o600
    assert_no_secret(cloud, [plan], caplog.text + result.output)


@pytest.mark.parametrize("via", ["graph", "google"])
def test_replies_via_the_service_are_read_as_mime_and_judged_as_from_files(cloud, issued, plan, via, tmp_path):
    _, _, manifest, _ = issued
    replies = client_replies(manifest)
    cloud.inbox = [bytes(m) for m in replies] + [b"From: x@example.com\r\nSubject: hello\r\n\r\nno invite\r\n"]
    microsoft_login(cloud) if via == "graph" else google_login(cloud)
    result = CliRunner().invoke(cli, ["replies", str(plan), "--via", via, "--now", "2026-04-06T12:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "Read 5 messages (1 without an invitation reply): 4 recorded" in result.output
    # the same as reading the same messages from files
    files = tmp_path / "files"
    files.mkdir()
    for number, raw in enumerate(cloud.inbox):
        (files / f"{number}.eml").write_bytes(raw)
    other = tmp_path / "other"
    shutil.copytree(issued[1], other)
    CliRunner().invoke(cli, ["replies", str(other), str(files), "--now", "2026-04-06T12:00:00+00:00"])
    assert (plan / "replies.csv").read_text() == (other / "replies.csv").read_text()


def test_availability_via_graph_writes_freebusy_files_the_visit_reads(cloud, visit_dir, plan):
    microsoft_login(cloud)
    own = next(r for r in csv.DictReader((plan / "schedule.csv").open()) if "ceo" in r["attendee_ids"])
    # 2026-05 is BST: a session at 10:00 local is 09:00 UTC
    hh = int(own["start"][:2]) - 1
    own_start = f"{own['date']}T{hh:02d}:{own['start'][3:]}:00"
    own_end = f"{own['date']}T{int(own['end'][:2]) - 1:02d}:{own['end'][3:]}:00"
    day = own["date"]
    cloud.busy = {
        "ceo@example.org": [{"start": f"{day}T07:00:00", "end": f"{day}T08:00:00", "status": "busy"},
                            {"start": own_start, "end": own_end, "status": "busy"},  # our own invitation
                            {"start": f"{day}T15:00:00", "end": f"{day}T16:00:00", "status": "free"}],
        "dir@example.org": [{"start": f"{day}T12:00:00", "end": f"{day}T13:00:00", "status": "tentative"},
                            {"start": f"{day}T13:00:00", "end": f"{day}T14:00:00", "status": "workingElsewhere"}],
        "pat@example.com": [{"start": f"{day}T05:00:00", "end": f"{day}T06:00:00", "status": "oof"}],
    }
    # everyone else is an unknown address at the service (a partial failure), except these
    for address in ("sam@example.com", "leader@example.org", "ann@example.org", "bob@example.org"):
        cloud.busy[address] = []
    mine = visit_dir / "calendars" / "availability" / "bob.ics"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\nEND:VCALENDAR\r\n")
    cloud.faults += [("POST", "/getSchedule", "429")]
    before = {p.name: p.read_bytes() for p in visit_dir.iterdir() if p.is_file()}
    result = CliRunner().invoke(cli, ["availability", str(visit_dir), "--via", "graph", "--plan", str(plan)])
    assert result.exit_code == 0, result.output
    assert "kept    people bob" in result.output and b"someone" in mine.read_bytes()
    ceo = visit_dir / "calendars/availability/ceo.ics"
    assert ours(ceo) and periods(ceo) == [b"FREEBUSY;FBTYPE=BUSY;VALUE=PERIOD:20260519T070000Z/20260519T080000Z"]
    assert b"BUSY-TENTATIVE" in (visit_dir / "calendars/availability/dir.ics").read_bytes()
    assert b"BUSY-UNAVAILABLE" in (visit_dir / "calendars/availability/p1.ics").read_bytes()
    people = {r["id"]: r for r in csv.DictReader((visit_dir / "people.csv").open(encoding="utf-8"))}
    assert people["ceo"]["calendar"] == "calendars/availability/ceo.ics" and people["bob"]["calendar"] == ""
    assert people["noemail"]["calendar"] == ""
    changed = {p.name for p in visit_dir.iterdir() if p.is_file() and before.get(p.name) != p.read_bytes()}
    assert changed == {"people.csv", "peers.csv"}
    visit = load_visit(visit_dir)
    ceo_busy = visit.person_by_id["ceo"].unavailable
    assert any(w.start.hour == 8 and w.end.hour == 9 for w in ceo_busy)  # 07:00 UTC is 08:00 BST
    assert not any(w.start.strftime("%H:%M") == own["start"] for w in ceo_busy)  # the visit's own invitation
    # a re-run with an address the service does not know: that one fails, the rest is replaced
    del cloud.busy["ceo@example.org"]
    again = CliRunner().invoke(cli, ["availability", str(visit_dir), "--via", "graph"])
    assert again.exit_code == 1 and "ErrorMailRecipientNotFound" in again.output + again.stderr
    assert len(periods(ceo)) == 1  # kept as it was
    assert periods(visit_dir / "calendars/availability/dir.ics")  # the others written again


def periods(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\r\n") if line.startswith(b"FREEBUSY")]


def test_availability_via_google_asks_fifty_calendars_a_call(cloud):
    google_login(cloud)
    from planner.invitations.services.tokens import GoogleToken
    import datetime as dt

    token = GoogleToken()
    client = ApiClient(f"{cloud.base}/google/calendar/v3", token, name="Google Calendar")
    google = Google(client, client)
    addresses = [f"room{i}@example.org" for i in range(120)]
    cloud.busy = {a: [{"start": "2026-05-11T09:00:00", "end": "2026-05-11T10:00:00"}] for a in addresses[1:]}
    start = dt.datetime(2026, 5, 11, tzinfo=dt.timezone.utc)
    found = google.schedule(addresses, start, start + dt.timedelta(days=2))
    # 120 addresses in three calls of at most 50; the first once more, after its stale token was refreshed
    assert len([c for c in cloud.calls if c[1].endswith("/freeBusy")]) == 4
    assert found[addresses[0]] == "global: notFound"
    assert found[addresses[5]] == [(start.replace(hour=9), start.replace(hour=10), "busy")]


def test_availability_via_ics_fills_a_workbook_visit(cloud, visit_dir, tmp_path):
    book = tmp_path / "wb" / "visit.xlsx"
    book.parent.mkdir()
    assert CliRunner().invoke(cli, ["convert", str(visit_dir), str(book)]).exit_code == 0
    exports = tmp_path / "wb" / "calendars" / "exports"
    exports.mkdir(parents=True)
    (exports / "ceo@example.org.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0//EN\r\n"
        "BEGIN:VEVENT\r\nUID:x1@example.org\r\nDTSTAMP:20260401T000000Z\r\nDTSTART:20260519T120000Z\r\n"
        "DTEND:20260519T130000Z\r\nSUMMARY:Cabinet\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    result = CliRunner().invoke(cli, ["availability", str(book)])
    assert result.exit_code == 0, result.output
    assert "with no export (<address>.ics or <id>.ics)" in result.output  # the others: not an error
    assert "wrote   calendars/availability/ceo.ics" in result.output
    visit = load_visit(book)
    assert visit.person_by_id["ceo"].calendar == "calendars/availability/ceo.ics"
    assert any(w.start.hour == 13 and w.end.hour == 14 for w in visit.person_by_id["ceo"].unavailable)


def test_client_credentials_act_for_the_named_mailbox(cloud, visit_dir, monkeypatch):
    monkeypatch.setenv("PLANNER_MS_CLIENT_ID", "client-app")
    monkeypatch.setenv("PLANNER_MS_TENANT", "tenant-1")
    monkeypatch.setenv("PLANNER_MS_CLIENT_SECRET", CLIENT_SECRET)
    cloud.issued.append(CLIENT_SECRET)
    refused = CliRunner().invoke(cli, ["availability", str(visit_dir), "--via", "graph"])
    assert refused.exit_code == 1 and "PLANNER_MS_MAILBOX" in refused.output + refused.stderr
    monkeypatch.setenv("PLANNER_MS_MAILBOX", "strategy@example.org")
    cloud.busy = {"ceo@example.org": []}
    cloud.faults += [("POST", "/getSchedule", "expire")]
    result = CliRunner().invoke(cli, ["availability", str(visit_dir), "--via", "graph"])
    assert result.exit_code == 1 and "wrote   calendars/availability/ceo.ics" in result.output
    assert ("POST", "/graph/v1.0/users/strategy@example.org/calendar/getSchedule") in cloud.calls
    assert len([c for c in cloud.calls if c[1].endswith("/token#client_credentials")]) == 2  # and after the expiry
    assert_no_secret(cloud, [visit_dir], result.output + result.stderr)


def assert_no_secret(state, folders, text: str) -> None:
    """No token or secret the stand-in handed out is in the output, the logs or any file of the folders."""
    secrets = [s for s in state.issued if len(s) > 8]
    assert secrets
    for secret in secrets:
        assert secret not in text, "a token in the output or logs"
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, f"a token in {path}"


class OAuthRecorder:
    """An SMTP server's handler taking XOAUTH2 with the tokens the stand-in issued (aiosmtpd's auth hook)."""

    def __init__(self, state):
        self.state, self.logins, self.received = state, [], []

    async def auth_XOAUTH2(self, server, args):
        import base64

        from aiosmtpd.smtp import AuthResult

        blob = args[1] if len(args) > 1 else await server.challenge_auth("")
        text = base64.b64decode(blob).decode()
        user, auth = text.split("\x01")[0].removeprefix("user="), text.split("\x01")[1]
        ok = auth.removeprefix("auth=Bearer ") in self.state.valid
        self.logins.append((user, ok))
        return AuthResult(success=ok, handled=False, auth_data=user)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content or envelope.content)
        return "250 2.0.0 OK"


def test_smtp_with_xoauth2_sends_each_message_once(cloud, plan):
    from aiosmtpd.controller import Controller

    from test_send import free_port

    microsoft_login(cloud)
    handler = OAuthRecorder(cloud)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                            auth_required=True)
    controller.start()
    try:
        base = ["send", str(plan), "--host", "127.0.0.1", "--port", str(controller.port), "--no-starttls",
                "--oauth", "microsoft", "--send"]
        refused = CliRunner().invoke(cli, base)
        assert refused.exit_code == 2 and "--user" in refused.output + refused.stderr
        result = CliRunner().invoke(cli, [*base, "--user", "strategy@example.org"])
        assert result.exit_code == 0, (result.output + result.stderr, handler.logins, cloud.calls[-3:])
        assert handler.logins == [("strategy@example.org", True)], (handler.logins, cloud.calls)
        assert len(handler.received) == len(due(plan)) == len(read_ledger(plan))
        # the token for SMTP came from the refresh token, for Exchange's own resource
        assert any("#refresh_token" in p for _, p in cloud.calls)
        assert_no_secret(cloud, [plan], result.output + result.stderr)
    finally:
        controller.stop()


def test_imap_with_xoauth2_against_dovecot_checking_the_tokens(cloud, issued, plan):
    """Dovecot's oauth2 passdb asks a local introspection endpoint (RFC 7662) whether the token
    is one the stand-in issued; replies --imap --oauth microsoft reads the mailbox with it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    from replies_helpers import dovecot_server, need_dovecot

    need_dovecot()
    asked = []

    class Introspect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            token = form.get("token", [""])[0]
            asked.append(token in cloud.valid)
            body = json.dumps({"active": True, "username": "planner"} if token in cloud.valid
                              else {"active": False}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Introspect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    microsoft_login(cloud)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/introspect"
        with dovecot_server(client_replies(issued[2]), introspection=url) as imap:
            base = ["replies", str(plan), "--imap", imap["host"], "--port", str(imap["port"]), "--no-tls",
                    "--oauth", "microsoft", "--now", "2026-04-06T12:00:00+00:00"]
            result = CliRunner().invoke(cli, [*base, "--user", "planner"], env={"PLANNER_IMAP_PASSWORD": ""})
            assert result.exit_code == 0, result.output + result.stderr
            assert "Read 4 messages: 4 recorded" in result.output and asked == [True]
            cloud.valid.clear()  # the token no longer good: Dovecot says no
            refused = CliRunner().invoke(cli, [*base, "--user", "planner"])
            assert refused.exit_code == 1 and "refused the login" in refused.output + refused.stderr
            assert_no_secret(cloud, [plan], result.output + result.stderr + refused.output + refused.stderr)
    finally:
        server.shutdown()
        server.server_close()


class FixedToken:
    def __init__(self):
        self.refreshed = 0

    def access_token(self) -> str:
        return f"secret-token-{self.refreshed}"

    def refresh(self) -> None:
        self.refreshed += 1


def api(handler, **kwargs):
    import httpx

    waits = []
    client = ApiClient("https://graph.example.org/v1.0", FixedToken(), name="Graph", sleep=waits.append,
                       transport=httpx.MockTransport(handler), **kwargs)
    return client, waits


def test_the_client_honours_retry_after_and_bounds_its_retries():
    import httpx

    from planner.invitations.services.http import ServiceError

    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}),
                    httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                    httpx.Response(502), httpx.Response(200, json={"ok": 1})])
    client, waits = api(lambda request: next(answers))
    assert client.request("GET", "/me").json() == {"ok": 1}
    assert waits[0] == 7 and waits[1] == 0 and 0 < waits[2] <= 30  # a date in the past: no wait
    client, waits = api(lambda request: httpx.Response(500, json={"error": {"code": "x", "message": "down"}}),
                        max_retries=2)
    with pytest.raises(ServiceError, match="failed 3 times: 500 x: down"):
        client.request("GET", "/me")
    client, waits = api(lambda request: httpx.Response(429, headers={"Retry-After": "1"}), max_throttles=3)
    with pytest.raises(ServiceError, match="slow down") as caught:
        client.request("GET", "/me")
    assert waits == [1, 1, 1] and "secret-token" not in str(caught.value)
    client, _ = api(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(ServiceError, match="retry after 3600 s"):
        client.request("GET", "/me")


def test_a_send_whose_answer_was_lost_is_not_repeated_but_one_never_sent_is():
    import httpx

    from planner.invitations.services.http import ServiceError

    calls = []

    def lost(request):
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    client, _ = api(lost)
    with pytest.raises(ServiceError, match="ReadTimeout"):
        client.request("POST", "/me/sendMail", idempotent=False, content=b"x")
    assert len(calls) == 1
    attempts = iter([httpx.ConnectError("refused"), None])

    def flaky(request):
        problem = next(attempts)
        if problem:
            problem.request = request
            raise problem
        return httpx.Response(202)

    client, waits = api(flaky)
    assert client.request("POST", "/me/sendMail", idempotent=False, content=b"x").status_code == 202


def test_an_expired_token_is_refreshed_once_and_a_next_link_must_stay_on_the_service():
    import httpx

    from planner.invitations.services.http import ServiceError

    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(401 if len(seen) < 3 else 200)

    client, _ = api(handler)
    assert client.request("GET", "/me").status_code == 401  # refreshed once, then the answer stands
    assert seen == ["Bearer secret-token-0", "Bearer secret-token-1"] and client.token.refreshed == 1
    with pytest.raises(ServiceError, match="outside"):
        client.request("GET", "https://elsewhere.example.com/v1.0/me/messages?$skip=2")
    with pytest.raises(ServiceError, match="outside"):
        client.request("GET", "https://graph.example.org.elsewhere.example.com/v1.0/me")


def test_google_login_through_the_browser_on_a_loopback_address(cloud, tmp_path, monkeypatch):
    """The installed-app flow: the 'browser' (a stand-in for the person) comes back to the
    loopback address with a code; the code is exchanged with PKCE; the token is kept 0600."""
    import threading
    import urllib.request
    import webbrowser
    from urllib.parse import parse_qs, urlencode, urlparse

    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "client-3.apps.googleusercontent.com", "client_secret": "GOCSPX-standin-login",
        "auth_uri": f"{cloud.base}/google/auth", "token_uri": f"{cloud.base}/google/token",
        "redirect_uris": ["http://localhost"]}}))
    cloud.issued.append("GOCSPX-standin-login")
    opened = []

    class Person:
        def open(self, url, new=0, autoraise=True):
            query = parse_qs(urlparse(url).query)
            opened.append(query)
            cloud.google_scope = query["scope"][0]
            answer = {"code": "standin-code", "state": query["state"][0], "scope": query["scope"][0]}
            back = f"{query['redirect_uri'][0]}?{urlencode(answer)}"
            threading.Thread(target=lambda: urllib.request.urlopen(back, timeout=10).read(), daemon=True).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Person())
    result = CliRunner().invoke(cli, ["login", "google", "--client-secrets", str(secrets)])
    assert result.exit_code == 0, result.output
    query = opened[0]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:") and query["code_challenge_method"] == ["S256"]
    assert "https://www.googleapis.com/auth/calendar.freebusy" in query["scope"][0].split()
    saved = config_dir() / GOOGLE_TOKEN
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and json.loads(saved.read_text())["token"] in cloud.valid
    assert_no_secret(cloud, [secrets.parent / "plan"], result.output)  # printed nowhere
