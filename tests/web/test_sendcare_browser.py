"""Publishing and sending with care in Debian's Chromium (issue 18, part 6): the
progress page follows a slow publish through its server-sent events and opens
the invites when it is done; the progress page, the send preview and the mail
settings pass axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

import time

from test_web_browser import axe_clean, browser, page, planned_visit, server  # noqa: F401  (fixtures)


def test_a_slow_publish_shows_its_progress_then_the_invites_and_the_new_pages_pass_axe(server, page,  # noqa: F811
                                                                                        monkeypatch, tmp_path):
    from planner.orchestrate import documents

    board, base = server
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    planned_visit(board, "mailcare")
    real = documents.write_documents

    def slow(folder, *args, **kwargs):
        real(folder, *args, **kwargs)
        time.sleep(4)

    monkeypatch.setattr(documents, "write_documents", slow)
    monkeypatch.setattr(board, "progress_after", 0.2)
    page.goto(f"{base}/v/mailcare/changes/v001")
    page.click("button:has-text('Publish v001')")
    page.wait_for_url("**/v/mailcare/jobs/*")
    page.wait_for_function("document.getElementById('j-progress') && "
                           "/Writing papers/.test(document.getElementById('j-progress').textContent)")
    axe_clean(page)
    # the page's script follows the job to the invites of the release made (issue 18)
    page.wait_for_url("**/v/mailcare/invites/release-1", timeout=60000)
    assert board.ws.visit("mailcare").published() == "release-1"
    page.click("a:has-text('Preview and send')")
    page.wait_for_url("**/v/mailcare/send/release-1")
    assert "As they will arrive" in page.inner_text("main")
    assert page.locator("article.message").count() >= 1
    axe_clean(page)
    page.goto(f"{base}/settings/mail")
    assert "Send me a test message" in page.inner_text("main")
    axe_clean(page)
