"""The reason staff pick when they resolve: one tap on the card, shown there, stored with the
alert and its log, counted in /stats by reason and in the report (with the change)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Dispatcher

from . import backends
from .test_alert_digest import low_answer
from .test_alerts import ANNA, NOW, STAFF, press
from .test_alerts import env as env  # the fixture, shared
from .test_manager import MANAGER, Harness, RecordingSession, make_config

pytestmark = backends.BOTH


@pytest.fixture
async def harness(tmp_path: Path, caplog, dispatcher: Dispatcher, open_backend):
    """tests/test_manager.py's harness on the test's backend."""
    repo = await open_backend()
    yield Harness(dispatcher, repo, make_config(tmp_path), RecordingSession())
    await repo.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"a handler failed: {errors[0].getMessage()}"


async def test_resolved_asks_why_with_one_row_of_buttons_and_the_card_shows_it(env):
    dp, repo, bot, session, worker, clock = env
    await low_answer(repo, clock, 1, "Olga", {"order_id": "A-17"})
    await worker.run_once()
    (alert,) = await repo.alerts.open_alerts()
    mark = len(session.calls)
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{alert.id}"))
    assert (await repo.alerts.get_alert(alert.id)).is_open, "resolved before a reason was picked"
    (edit,) = [p for n, p, _ in session.calls[mark:] if n == "editMessageReplyMarkup"]
    labels = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Delivery", "Quality", "Price", "Support", "Other", "↩ Back"]
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:1"))
    await worker.run_once()
    resolved = await repo.alerts.get_alert(alert.id)
    assert resolved.status == "resolved" and resolved.reason == "quality"
    card = [p for n, p, _ in session.calls if n == "editMessageText" and p["chat_id"] == STAFF]
    assert "🏷 Reason: Quality" in card[-1]["text"]
    logged = await backends.fetch(
        repo,
        "SELECT action, detail FROM alert_actions WHERE alert_id = ? AND action = 'resolved'",
        (alert.id,),
    )
    assert [tuple(r.values()) for r in logged] == [("resolved", "quality")]


async def test_a_forged_reason_changes_nothing(env):
    dp, repo, bot, _session, _worker, clock = env
    await low_answer(repo, clock, 1, "Olga", {})
    (alert,) = await repo.alerts.open_alerts()
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:99"))
    assert (await repo.alerts.get_alert(alert.id)).is_open


async def resolve_with(repo, customer: int, reason: str, at) -> None:
    from .clocks import MovableClock
    from .test_alerts import raise_alert

    clock = MovableClock(at)
    await raise_alert(repo, customer, 1, clock)
    alert = (await repo.alerts.open_alerts())[-1]
    assert await repo.alerts.resolve_alert(alert.id, 1, "Anna", at, at + timedelta(days=1), reason)


async def test_stats_by_reason_counts_shares_and_the_change(harness: Harness) -> None:
    repo = harness.repo
    for i, reason in enumerate(["delivery"] * 3 + ["quality"] * 2 + ["price"]):
        await resolve_with(repo, 100 + i, reason, NOW - timedelta(days=2, hours=i))
    await resolve_with(repo, 200, "delivery", NOW - timedelta(days=40))  # the period before
    (reply,) = await harness.say(MANAGER, "/stats 30d by reason")
    text = reply[1]["caption"] if reply[0] == "sendPhoto" else reply[1]["text"]
    assert "Alerts by reason" in text
    assert "Delivery: <b>3</b> (50%) · ▲ +2 vs the previous period (1)" in text
    assert "Quality: <b>2</b> (33%)" in text and "Price: <b>1</b> (17%)" in text
    assert reply[0] == "sendPhoto" and reply[2]["photo"].startswith(b"\x89PNG"), "no chart"
    (refused,) = await harness.say(MANAGER, "/stats 30d by agent")
    assert "by reason only" in refused[1]["text"]


async def test_the_report_names_the_top_three_reasons(harness: Harness) -> None:
    from survey_flows.models import Metric

    from .test_analytics import add_answers

    repo = harness.repo
    await add_answers(repo, NOW - timedelta(days=1), Metric.NPS, [10, 9, 3])
    for i, reason in enumerate(["delivery"] * 3 + ["quality"] * 2 + ["price", "other"]):
        await resolve_with(repo, 300 + i, reason, NOW - timedelta(days=1, hours=i))
    (reply,) = await harness.say(MANAGER, "/report 7d")
    text = reply[1].get("caption") or reply[1].get("text")
    line = next(x for x in text.splitlines() if x.startswith("Top reasons for resolved alerts"))
    assert line.startswith("Top reasons for resolved alerts: Delivery 3 (▲ +3) · Quality 2 (▲ +2)")
    assert line.count("·") == 2, "not the top three"
