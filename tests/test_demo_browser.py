"""The demo page in a real browser (headless Chromium driven by Playwright): a newcomer asks for a
survey, answers it, and as the manager sees the NPS chart. With UPDATE_DOCS=1 it saves
docs/demo.png for the README."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium); .ci/run installs it"
)


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    """`survey-bot demo` in its own process (its aiogram routers are module-level), stopped
    with Ctrl-C as a person would."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--no-browser", "--port", "0", "--duration", "120"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("open http://"):
            break
    else:
        process.wait(10)
        pytest.fail("the demo never printed its address:\n" + "".join(seen))
    try:
        yield line.split()[1]
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, "".join(seen) + rest
        assert "demo summary" in rest, rest


def test_survey_answered_and_chart_seen_in_the_browser(demo_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            page.goto(demo_url)
            expect(page.locator("#status")).to_have_text("live", timeout=10_000)
            customer = page.locator('[data-chat="customer"]')
            page.get_by_role("button", name="Send me a survey").click()
            score = customer.locator(".kb button", has_text="4")
            expect(score).to_be_visible(timeout=20_000)
            score.click()
            expect(customer.locator(".msg", has_text="Your answer: 4")).to_be_visible(
                timeout=10_000
            )
            expect(customer.locator(".kb button", has_text="Skip")).to_be_visible(timeout=10_000)
            customer.locator("textarea").fill("Quick <b>delivery</b> & friendly staff")
            customer.locator("textarea").press("Enter")
            # The comment is shown as typed, tags and all: nothing a person writes becomes HTML.
            expect(customer.locator(".msg.mine", has_text="Quick <b>delivery</b>")).to_be_visible()
            expect(customer.locator(".msg", has_text="Thank you for your feedback")).to_be_visible(
                timeout=15_000
            )

            # A second survey, answered 1: the alert about you reaches the support team's chat,
            # where you take it, write to yourself as the customer, and resolve it.
            page.get_by_role("button", name="Send me a survey").click()
            # The new question's keyboard: five scores and "Don't ask me again".
            expect(customer.locator(".kb button")).to_have_count(6, timeout=20_000)
            customer.locator(".kb button", has_text=re.compile(r"^1\b")).click()
            staff = page.locator('[data-chat="staff"]')
            card = staff.locator(".msg", has_text=re.compile(r"id 1000\b")).first
            expect(card).to_be_visible(timeout=20_000)
            card_id = card.get_attribute("data-message-id")
            staff.locator(
                f'.msg[data-message-id="{card_id}"] + .kb button', has_text="Take"
            ).click()
            expect(staff.locator(f'.msg[data-message-id="{card_id}"]')).to_contain_text(
                "You (support)", timeout=10_000
            )
            card.hover()
            card.locator(".reply").click()
            staff.locator("textarea").fill("Sorry! A new one is on its way.")
            staff.locator("textarea").press("Enter")
            expect(customer.locator(".msg", has_text="A new one is on its way")).to_be_visible(
                timeout=15_000
            )
            staff.locator(
                f'.msg[data-message-id="{card_id}"] + .kb button', has_text="Resolved"
            ).click()
            staff.locator(
                f'.msg[data-message-id="{card_id}"] + .kb button', has_text="Quality"
            ).click(timeout=10_000)
            expect(staff.locator(f'.msg[data-message-id="{card_id}"]')).to_contain_text(
                "Reason: Quality", timeout=10_000
            )

            manager = page.locator('[data-chat="manager"]')
            manager.locator("textarea").fill("/nps")
            manager.locator("textarea").press("Enter")
            chart = manager.locator(".msg img").first
            expect(chart).to_be_visible(timeout=30_000)
            page.wait_for_function(
                "() => { const i = document.querySelector('[data-chat=manager] .msg img');"
                " return i && i.complete && i.naturalWidth > 0; }",
                timeout=15_000,
            )
            assert chart.evaluate("img => img.naturalWidth") > 100, "the NPS chart did not load"
            expect(manager.locator(".msg", has_text="NPS")).not_to_have_count(0)
            # The README's picture is refreshed on purpose only: a test writes no tracked file.
            shot = (
                ROOT / "docs" / "demo.png"
                if os.environ.get("UPDATE_DOCS")
                else tmp_path / "demo.png"
            )
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000, "the screenshot of the demo page is empty"
        finally:
            browser.close()
