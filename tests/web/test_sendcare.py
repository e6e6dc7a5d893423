"""Publishing and sending with care in the web workspace (issue 18, part 6) and
Microsoft 365 / Google connected from the browser (issue 19, the web part):
publish progress, the send preview and its confirmation sending once, the mail
settings (the secret outside the workspace, 0600, never shown), the test
message, the authorisation code flow with PKCE against the stand-in."""

from __future__ import annotations

import json
import os
import re
import ssl
import stat
import time
from collections import Counter
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from aiosmtpd.smtp import AuthResult

from markupsafe import escape

from planner.web import actions
from planner.web.app import Board
from standin import standin
from test_send import Recorder, free_port, recording_smtp
from test_web import Client, plan, small_visit

SECRET = "s3cret-Pa55-not-for-pages"


@pytest.fixture
def board(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("PLANNER_SMTP_HOST", "PLANNER_SMTP_PORT", "PLANNER_SMTP_USER", "PLANNER_SMTP_PASSWORD",
                 "PLANNER_SMTP_STARTTLS", "PLANNER_SMTP_SSL", "PLANNER_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    small_visit(tmp_path / "ws" / "small")
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5, progress_after=120)
    yield b
    b.solver.shutdown()


@pytest.fixture
def client(board):
    return Client(board)


@pytest.fixture
def smtp():
    handler = Recorder()
    handler.logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        handler.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == SECRET)

    with recording_smtp(handler, authenticator=authenticate, auth_require_tls=False):
        yield handler


def save_smtp(client, server, **extra):
    form = {"host": "127.0.0.1", "port": str(server.port), "security": "none", "user": "", "from": "", **extra}
    r = client.post("/settings/mail", form)
    assert r.status_code == 303, r.text
    return r


def published(client):
    """Plan and publish the draft: the release made (issue 18), whose invites are sent."""
    v1 = plan(client)
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    return client.board.ws.visit("small").published()


def events_of(body: str) -> list[dict]:
    return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]


# --- publishing: progress, then the result -----------------------------------------------------

def test_publishing_shows_its_progress_then_the_result(client, board, monkeypatch):
    from planner.orchestrate import documents

    v1 = published(client)  # at once (the board waits for it): straight to the invites, as before
    assert board.ws.visit("small").published() == v1
    v2 = plan(client, kind="replan")
    real = documents.write_documents

    def slow(folder, *args, **kwargs):  # a large visit's several seconds, after the files are written
        real(folder, *args, **kwargs)
        time.sleep(1.5)

    monkeypatch.setattr(documents, "write_documents", slow)
    board.progress_after = 0
    r = client.post(f"/v/small/publish/{v2}", {"rev": client.rev("small")})
    assert r.status_code == 303 and "/v/small/jobs/" in r.headers["location"]
    job_url = r.headers["location"]
    page = client.get(job_url).text
    assert 'http-equiv="refresh"' in page and "Writing papers" in page  # the page without JavaScript
    with client.http.stream("GET", f"{job_url}/events") as stream:
        body = "".join(stream.iter_text())
    events = events_of(body)
    running = [e for e in events if e["state"] == "running"]
    assert running and all(e["label"] == "Writing papers" for e in running)
    estimate = sum(len(f) for _r, _d, f in os.walk(board.ws.visit("small").version_path(v1)))
    assert running[-1]["total"] == estimate and 0 < running[-1]["done"]  # "Writing papers: 40 of about 86"
    assert re.match(rf"Writing papers: {running[-1]['done']} of about {estimate}$", running[-1]["progress"])
    release = "release-2"  # the draft (v2) published as the next release
    assert events[-1]["state"] == "done" and events[-1]["result_url"] == f"/v/small/invites/{release}"
    assert board.ws.visit("small").published() == release
    done = client.get(job_url).text
    assert "Published version 2" in done and f'href="/v/small/invites/{release}"' in done and "refresh" not in done


def test_a_stale_publish_is_refused_and_a_failed_one_says_why(client, board):
    v1 = plan(client)
    r = client.post(f"/v/small/publish/{v1}", {"rev": "0"})
    assert r.status_code == 409 and board.ws.visit("small").published() is None
    (board.ws.root / "small" / "sessions.csv").write_text("id\n", encoding="utf-8")
    r = client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")})
    assert r.status_code == 409 and board.ws.visit("small").published() is None


# --- sending with care -------------------------------------------------------------------------

def test_send_previews_each_message_then_sends_once_on_a_double_submit(client, board, smtp):
    v1 = published(client)
    save_smtp(client, smtp)
    folder = board.ws.visit("small").version_path(v1)
    due, _already = actions.invites(board.ws.visit("small"), v1)
    assert len(due) >= 3
    page = client.get(f"/v/small/send/{v1}").text
    assert f"{len(due)} messages to send" in page and f"Send {len(due)} messages" in page
    assert f"New invitations: {len(due)}" in page  # a first issue: every one is new
    for m in due:
        assert m.email in page
    # the recipients: each person once, with their count of messages
    recipients = page.split('<ul id="groups">')[1].split("</ul>\n</details>")[0]
    for email, n in Counter(m.email for m in due).items():
        assert recipients.count(f"({email})") == 1
        assert (f"({email}) — {n} messages" in recipients) == (n > 1), email
    assert "Kind</dt><dd>New invitations</dd>" in page and "(REQUEST)" not in page
    first = message_from_bytes((folder / due[0].eml).read_bytes(), policy=policy.default)
    assert str(escape(str(first["Subject"]))) in page
    letter = first.get_body(preferencelist=("plain",)).get_content()
    assert str(escape(letter.strip().splitlines()[0])) in page  # the letter as it will arrive
    start = next(p for p in first.walk() if p.get_content_type() == "text/calendar")
    assert b"DTSTART" in start.get_payload(decode=True)
    assert re.search(r"Event</dt><dd>[^<]+ — \w{3} \d\d \w{3} 2026, \d\d:\d\d–\d\d:\d\d", page)  # its time
    if len(due) > 5:
        assert "Next messages" in client.get(f"/v/small/send/{v1}").text
        second = client.get(f"/v/small/send/{v1}?page=2").text
        assert f"Messages 6–" in second
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    smtp.refuse = {1}  # the first message is refused once: the summary says so, with the reason
    r1 = client.post(f"/v/small/send/{v1}", {"token": token, "via": "smtp"})
    r2 = client.post(f"/v/small/send/{v1}", {"token": token, "via": "smtp"})  # the double submit
    assert r1.status_code == r2.status_code == 303 and r1.headers["location"] == r2.headers["location"]
    summary = client.get(r1.headers["location"]).text
    assert len(smtp.received) == len(due) - 1
    assert f"Sent {len(due) - 1} of {len(due)} due messages; 1 refused" in summary
    assert "Mailbox busy" in summary and due[0].email in summary
    assert len({mid for mid in smtp.message_ids()}) == len(smtp.received)
    # the refused one is due again, the rest is not: a new preview, a new confirmation, one message
    again = client.get(f"/v/small/send/{v1}").text
    assert "1 message to send" in again
    token2 = re.search(r'name="token" value="([^"]+)"', again).group(1)
    assert client.post(f"/v/small/send/{v1}", {"token": token2, "via": "smtp"}).status_code == 303
    assert len(smtp.received) == len(due)
    assert sorted(smtp.message_ids()) == sorted({m.message_id for m in due})
    # a confirmation the server never gave sends nothing
    r = client.post(f"/v/small/send/{v1}", {"token": "made-up", "via": "smtp"})
    assert r.status_code == 409 and len(smtp.received) == len(due)


def test_send_progress_is_shown_while_messages_go(client, board, smtp, monkeypatch):
    from planner.invitations import send as sending

    v1 = published(client)
    save_smtp(client, smtp)
    real = sending.with_date

    def slow(raw, moment):
        time.sleep(0.3)
        return real(raw, moment)

    monkeypatch.setattr(sending, "with_date", slow)
    board.progress_after = 0
    page = client.get(f"/v/small/send/{v1}").text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = client.post(f"/v/small/send/{v1}", {"token": token, "via": "smtp"})
    with client.http.stream("GET", f"{r.headers['location']}/events") as stream:
        events = events_of("".join(stream.iter_text()))
    running = [e for e in events if e["state"] == "running" and e["label"] == "Sending messages"]
    assert running and running[0]["total"] == len(smtp.received)
    assert events[-1]["state"] == "done" and events[-1]["message"].startswith(f"Sent {len(smtp.received)} of")


# --- mail settings -----------------------------------------------------------------------------

def test_mail_settings_keep_the_password_outside_the_workspace_owner_only_never_shown(client, board, tmp_path,
                                                                                     monkeypatch):
    r = client.post("/settings/mail", {"host": "smtp.example.org", "port": "587", "security": "starttls",
                                       "user": "strategy@example.org", "password": SECRET,
                                       "from": "strategy@example.org"})
    assert r.status_code == 303
    folder = tmp_path / "config" / "peer-challenge-planner"
    secret = folder / "smtp-password"
    assert secret.read_text(encoding="utf-8") == SECRET
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "smtp.json").stat().st_mode) == 0o600
    assert SECRET not in (folder / "smtp.json").read_text(encoding="utf-8")
    page = client.get("/settings/mail").text
    assert SECRET not in page and "A password is kept; it is never shown" in page
    assert 'value="smtp.example.org"' in page
    for path in board.ws.root.rglob("*"):  # nothing of it in the workspace or a visit
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    # a blank password keeps it; "forget" removes it
    client.post("/settings/mail", {"host": "smtp.example.org", "port": "465", "security": "tls", "user": "x"})
    assert secret.read_text(encoding="utf-8") == SECRET
    client.post("/settings/mail", {"host": "smtp.example.org", "port": "465", "security": "tls", "forget": "1"})
    assert not secret.exists()
    # bad values are refused with a message, nothing saved
    r = client.post("/settings/mail", {"host": "smtp.example.org", "port": "99999", "security": "tls"})
    assert r.status_code == 400 and "port between 1 and 65535" in r.text
    # the environment wins, and the page says so
    monkeypatch.setenv("PLANNER_SMTP_HOST", "relay.example.com")
    page = client.get("/settings/mail").text
    assert "PLANNER_SMTP_HOST" in page and 'value="relay.example.com"' in page


def test_the_test_message_arrives_through_the_saved_settings_and_a_failure_is_said_plainly(client, smtp):
    save_smtp(client, smtp, user="strategy@example.org", password=SECRET, **{"from": "strategy@example.org"})
    r = client.post("/settings/mail/test", {"to": "me@example.org"})
    assert r.status_code == 200 and "Sent:" in r.text and "me@example.org" in r.text
    assert smtp.logins == [("strategy@example.org", SECRET)]  # the kept password, used, never shown
    assert SECRET not in r.text
    assert len(smtp.received) == 1 and smtp.received[0][1] == ["me@example.org"]
    assert b"Test message from the peer challenge planner" in smtp.received[0][2]
    client.post("/settings/mail", {"host": "127.0.0.1", "port": str(free_port()), "security": "none"})
    r = client.post("/settings/mail/test", {"to": "me@example.org"})
    assert r.status_code == 502 and "The test message was not sent: cannot talk to the SMTP server" in r.text
    assert len(smtp.received) == 1


def test_every_new_form_needs_its_csrf_token(client, board):
    v1 = published(client)
    for url, form in [("/settings/mail", {"host": "h", "port": "25", "security": "none"}),
                      ("/settings/mail/test", {"to": "me@example.org"}),
                      ("/settings/connect/microsoft", {"client_id": "c"}),
                      ("/settings/disconnect/google", {}),
                      (f"/v/small/send/{v1}", {"token": "x", "via": "smtp"}),
                      (f"/v/small/replies/{v1}", {"via": "graph"}),
                      ("/v/small/availability", {"via": "graph"})]:
        r = client.http.post(url, data=form)
        assert r.status_code == 403 and "CSRF" in r.text, url
    assert not (board.ws.root.parent / "config" / "peer-challenge-planner" / "smtp.json").exists()


# --- Microsoft 365 and Google, connected in the browser ---------------------------------------------

@pytest.fixture
def cloud(tmp_path, monkeypatch):
    with standin(tmp_path) as (state, base, cafile):
        monkeypatch.setenv("PLANNER_TEST_LOGIN_URL", base)
        monkeypatch.setenv("PLANNER_TEST_GRAPH_URL", f"{base}/graph")
        monkeypatch.setenv("PLANNER_TEST_GOOGLE_URL", f"{base}/google")
        monkeypatch.setenv("PLANNER_TEST_CAFILE", cafile)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", cafile)
        monkeypatch.setenv("PLANNER_TEST_PACING", "0")
        monkeypatch.setenv("PLANNER_TEST_BACKOFF", "0.01")
        monkeypatch.setenv("PLANNER_TEST_PLAIN_CACHE", "1")
        for name in ("PLANNER_MS_CLIENT_ID", "PLANNER_MS_CLIENT_SECRET", "PLANNER_MS_MAILBOX", "PLANNER_MS_TENANT",
                     "PLANNER_GOOGLE_SERVICE_ACCOUNT"):
            monkeypatch.delenv(name, raising=False)
        state.base, state.cafile = base, cafile
        yield state


def sign_in(client, cloud, provider: str, **form) -> str:
    """Connect as a browser would: to the provider's sign-in page, and back to the workspace."""
    r = client.post(f"/settings/connect/{provider}", form)
    assert r.status_code == 303, r.text
    authorize = r.headers["location"]
    asked = parse_qs(urlparse(authorize).query)
    assert authorize.startswith(cloud.base) and asked["code_challenge_method"] == ["S256"]
    assert asked["redirect_uri"] == [f"http://testserver/settings/connected/{provider}"]
    answer = httpx.get(authorize, verify=ssl.create_default_context(cafile=cloud.cafile), follow_redirects=False)
    assert answer.status_code == 302
    back = urlparse(answer.headers["location"])
    r = client.get(f"{back.path}?{back.query}")
    assert r.status_code == 303, r.text
    # the same answer again is refused: a flow is used once
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    return client.get(r.headers["location"]).text


def test_connect_microsoft_with_pkce_then_send_read_replies_and_fetch_free_busy(client, board, cloud, tmp_path):
    page = sign_in(client, cloud, "microsoft", client_id="client-1", tenant="tenant-1")
    assert cloud.pkce == ["checked"]  # the stand-in matched the code_verifier to the code_challenge
    assert "Connected to Microsoft 365 as strategy@example.org" in page
    folder = tmp_path / "config" / "peer-challenge-planner"
    for name in ("microsoft.json", "microsoft-tokens.bin"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    v1 = published(client)
    invites = client.get(f"/v/small/invites/{v1}").text
    assert "Read replies from Microsoft 365" in invites and "Fetch free/busy from Microsoft 365" in invites
    preview = client.get(f"/v/small/send/{v1}").text
    assert 'value="graph"' in preview and "Microsoft 365 (strategy@example.org)" in preview
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    due, _ = actions.invites(board.ws.visit("small"), v1)
    for _ in range(2):
        assert client.post(f"/v/small/send/{v1}", {"token": token, "via": "graph"}).status_code == 303
    assert len(cloud.sent) == len(due) and set(cloud.sent_by) == {"/graph/v1.0/me"}
    r = client.post(f"/v/small/replies/{v1}", {"via": "graph"})
    assert "Read 0 messages" in client.get(r.headers["location"]).text
    cloud.busy = {"ceo@example.org": [{"start": "2026-05-19T07:00:00", "end": "2026-05-19T08:00:00",
                                       "status": "busy"}]}
    assert 'action="/v/small/availability"' in client.get("/settings/mail").text  # also before any plan
    r = client.post("/v/small/availability", {"via": "graph"})
    done = client.get(r.headers["location"]).text
    assert "Free/busy written for 1 person, peer or room" in done
    assert (board.ws.root / "small" / "calendars" / "availability" / "ceo.ics").is_file()
    assert board.ws.visit("small").journal()[-1].action == "availability"
    # no token or secret in a page, the workspace, or the journal
    issued = list(cloud.issued)
    for path in board.ws.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(t.encode() in data for t in issued), path
    assert not any(t in done + preview + invites for t in issued)
    r = client.post("/settings/disconnect/microsoft", {})
    assert "Not connected" in client.get(r.headers["location"]).text and not (folder / "microsoft.json").exists()


def test_connect_google_with_pkce_and_a_wrong_verifier_is_refused(client, board, cloud, tmp_path):
    page = sign_in(client, cloud, "google", client_id="client-2.apps.googleusercontent.com",
                   client_secret="GOCSPX-standin")
    assert cloud.pkce == ["checked"] and "Connected to Google Workspace as strategy@example.com" in page
    token_file = tmp_path / "config" / "peer-challenge-planner" / "google-token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text(encoding="utf-8"))
    assert saved["refresh_token"] in cloud.refresh_tokens and "GOCSPX-standin" not in page
    v1 = published(client)
    preview = client.get(f"/v/small/send/{v1}").text
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    due, _ = actions.invites(board.ws.visit("small"), v1)
    assert client.post(f"/v/small/send/{v1}", {"token": token, "via": "google"}).status_code == 303
    assert len(cloud.sent) == len(due) and set(cloud.sent_by) == {"gmail"}
    # the stand-in checks PKCE: a code exchanged with another verifier is refused
    r = client.post("/settings/connect/google", {"client_id": "c", "client_secret": "s"})
    answer = httpx.get(r.headers["location"], verify=ssl.create_default_context(cafile=cloud.cafile), follow_redirects=False)
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
    refused = httpx.post(f"{cloud.base}/google/token", verify=ssl.create_default_context(cafile=cloud.cafile), data={
        "grant_type": "authorization_code", "code": code, "code_verifier": "x" * 64, "client_id": "c",
        "client_secret": "s", "redirect_uri": "http://testserver/settings/connected/google"})
    assert refused.status_code == 400 and cloud.pkce[-1] == "refused"


def test_a_sign_in_answer_with_an_unknown_state_is_refused(client, cloud):
    r = client.get("/settings/connected/microsoft?code=abc&state=never-given")
    assert r.status_code == 400 and "not started here" in r.text
    assert client.get("/settings/connected/nowhere?code=abc&state=x").status_code == 404
