"""End to end in headless Chromium (Debian's, via Playwright): start, watch live, chat, stop, reload.

Screenshots of each step are saved under test-artifacts/browser/. Needs /usr/bin/chromium (``.ci/run``
installs it); elsewhere the test is skipped, except under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from agent.study.session import Session
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run must apt-get install chromium")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    root = tmp_path / "studies"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUNESMITH_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "serve", "--root", str(root), "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    link = None
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"open: (http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        if m:
            link = m.group(1)
            break
    assert link, "tunesmith serve printed no link"
    try:
        yield link, root
    finally:
        proc.terminate()  # like Ctrl-C: studies it runs stop resumably
        proc.wait(60)


def test_start_watch_chat_stop_reload(server: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    link, root = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    host = urlparse(link).netloc
    foreign: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).netloc != host else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(30_000)

        page.goto(link)
        expect(page.locator("#spec option[value='sklearn-digits']")).to_have_count(1)
        assert "token" not in page.url  # dropped from the address bar and history, kept for the page's requests
        expect(page.locator("#chat-log .msg").first).to_contain_text("--model NAME")  # the complete recipe
        page.select_option("#spec", "sklearn-digits")
        page.select_option("#strategy", "tpe")
        page.fill("#start-trials", "8")
        page.click("#start")
        expect(page.locator("#state")).to_have_text("running")
        page.screenshot(path=str(ARTIFACTS / "01-started.png"))

        # trials appear live (server-sent events), without reloading
        complete = page.locator("#trials tbody tr td.state-complete")
        expect(complete.first).to_be_visible(timeout=120_000)
        for _ in range(240):  # (the page's CSP forbids eval, so no wait_for_function)
            if complete.count() >= 2:
                break
            page.wait_for_timeout(500)
        assert complete.count() >= 2
        expect(page.locator("#activity-log div[data-kind='trial_finished']").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "02-live-trials.png"))

        page.fill("#chat-input", "/best")
        page.click("#chat-send")
        expect(page.locator("#chat-log .msg.bot").last).to_contain_text("best: trial #")
        page.screenshot(path=str(ARTIFACTS / "03-chat-best.png"))

        page.locator("#trials tbody tr[data-trial='0']").click()
        expect(page.locator("#detail")).to_contain_text("trial #0")
        expect(page.locator("#detail")).to_contain_text("default")
        page.screenshot(path=str(ARTIFACTS / "04-trial-view.png"))
        page.click("#detail button")

        page.click("#btn-stop")
        expect(page.locator("#state")).to_have_text("stopped", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "05-stopped.png"))
        rows = page.locator("#trials tbody tr").count()
        done = page.locator("#trials td.state-complete").count()

        page.reload()
        expect(page.locator("#state")).to_have_text("stopped")
        expect(page.locator("#trials tbody tr")).to_have_count(rows)
        expect(page.locator("#trials td.state-complete")).to_have_count(done)
        for kind in ("parallel", "importance", "curves"):
            page.click(f"#tabs button[data-kind='{kind}']")
            expect(page.locator("#plot svg")).to_have_attribute(  # importance fits a model: allow a loaded machine
                "aria-label", re.compile(kind.split("s")[0][:6]), timeout=30_000
            )
        page.screenshot(path=str(ARTIFACTS / "06-reloaded.png"))

        (sid,) = (p.name for p in root.iterdir())
        page.fill("#chat-input", f"/open {sid}")  # the chat stays with its study and answers with a link
        page.click("#chat-send")
        expect(page.locator(f"#chat-log a[href='#study={sid}']")).to_have_count(1)
        browser.close()

    assert foreign == [], f"the page loaded something from elsewhere: {foreign}"
    assert errors == [], errors
    (study,) = root.iterdir()
    session = Session.open(study, readonly=True)
    assert session.status()["status"] == "stopped" and session.spec.strategy == "tpe"
    assert all(t.state.value != "running" for t in session.trials())
