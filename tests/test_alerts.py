"""Alerts in-process: the real dispatcher and worker with a recording session and a moved clock."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.types import Chat, Message, Update

from bot.views.alert_card import span
from bot.workers.alerts import AlertWorker
from storage.base import SurveyRepo
from storage.records import AlertView, NewAlert, NewEvent
from survey_flows.alerts import AlertRules
from survey_flows.models import Answer, Metric, Phase, Position
from survey_flows.scoring import category

from . import backends, updates
from .clocks import MovableClock as Clock
from .test_manager import NOW, RecordingSession, make_config
from .updates import person
from .wiring import wire

# The repository runs on both backends; the dispatcher and the worker are the app's own.
pytestmark = backends.BOTH

STAFF = -100555
ANNA, BORIS = 801, 802
_ids = itertools.count(50_000)


@pytest.fixture
async def env(tmp_path: Path, dispatcher, open_backend):
    config = make_config(tmp_path)
    config = config.__class__(
        **{
            **{f: getattr(config, f) for f in config.__dataclass_fields__},
            "telegram": config.telegram.__class__(
                config.telegram.token, config.telegram.api_base, STAFF, config.telegram.manager_ids
            ),
            "alerts_enabled": True,
        }
    )
    repo = await open_backend()
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = Clock(NOW)
    rules = AlertRules(dict(config.alerts.max_score))
    worker = AlertWorker(bot, repo, rules, STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, alerts=worker)
    yield dispatcher, repo, bot, session, worker, clock
    await repo.close()


async def raise_alert(repo: SurveyRepo, customer: int, score: int, clock: Clock) -> None:
    inv, _ = await repo.invitations.create_invitation(
        NewEvent(f"e{customer}", "purchase", "csat", customer, f"C{customer}", "en", {}, clock()),
        clock(),
    )
    assert await repo.outbox.claim_prompt(inv, clock())
    await repo.outbox.mark_prompt_sent(inv, 1)
    inv = await repo.invitations.get_invitation(inv.id)
    answer = Answer(inv.id, 0, Metric.CSAT, score, category(Metric.CSAT, score), clock())
    alert = NewAlert(STAFF, clock() + timedelta(minutes=30))
    assert await repo.conversation.record_score(
        inv, Position(0, Phase.FOLLOWUP), answer, alert=alert
    )


def press(user_id: int, name: str, data: str, chat_id: int = STAFF) -> Update:
    return updates.press(person(user_id, name), data, NOW, chat_id=chat_id)


async def posted_alert(
    repo: SurveyRepo, worker: AlertWorker, customer: int, clock: Clock
) -> AlertView:
    """`customer` scored CSAT 1 and the worker posted the alert's card: the open alert."""
    await raise_alert(repo, customer, 1, clock)
    await worker.run_once()
    (alert,) = await repo.alerts.open_alerts()
    return alert


def staff_texts(session: RecordingSession) -> list[str]:
    return [
        p["text"] for name, p, _ in session.calls if name == "sendMessage" and p["chat_id"] == STAFF
    ]


async def test_take_on_an_alert_someone_else_owns_says_who(env):
    dp, repo, bot, session, worker, clock = env
    alert = await posted_alert(repo, worker, 1, clock)
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:t:{alert.id}"))
    await dp.feed_update(bot, press(BORIS, "Boris", f"a:t:{alert.id}"))
    answers = [p for name, p, _ in session.calls if name == "answerCallbackQuery"]
    assert "yours" in answers[0]["text"]
    assert answers[1]["text"] == "Already taken by Anna.", answers[1]
    assert (await repo.alerts.get_alert(alert.id)).owner_id == ANNA


async def test_a_burst_of_alerts_becomes_one_digest(env):
    dp, repo, bot, session, worker, clock = env
    for customer in range(1, 7):
        await raise_alert(repo, customer, 1, clock)
    await worker.run_once()
    texts = staff_texts(session)
    assert len(texts) == 1, "a burst was posted one message per alert"
    assert "6 new alerts" in texts[0]
    digest = next(p for name, p, _ in session.calls if name == "sendMessage")
    buttons = [b for row in digest["reply_markup"]["inline_keyboard"] for b in row]
    assert len(buttons) == 6
    # Opening one from the digest posts its card as a reply to the digest.
    await dp.feed_update(bot, press(ANNA, "Anna", buttons[2]["callback_data"]))
    await worker.run_once()
    cards = [p for name, p, _ in session.calls if name == "sendMessage"][1:]
    assert len(cards) == 1 and "Alert #3" in cards[0]["text"]


async def test_escalation_fires_once_after_the_configured_time(env):
    _dp, repo, _bot, session, worker, clock = env
    await raise_alert(repo, 1, 2, clock)
    await worker.run_once()
    clock.now = NOW + timedelta(minutes=29)
    await worker.run_once()
    assert not [t for t in staff_texts(session) if "waited" in t], "escalated too early"
    clock.now = NOW + timedelta(minutes=31)
    await worker.run_once()
    clock.now = NOW + timedelta(hours=3)
    await worker.run_once()
    escalations = [t for t in staff_texts(session) if "waited" in t]
    assert len(escalations) == 1, escalations
    assert "nobody has taken it" in escalations[0]


async def test_recheck_goes_out_once_after_resolution(env):
    dp, repo, bot, session, worker, clock = env
    alert = await posted_alert(repo, worker, 7, clock)
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{alert.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:0"))
    clock.now = NOW + timedelta(hours=23)
    await worker.run_once()
    to_customer = [p for name, p, _ in session.calls if name == "sendMessage" and p["chat_id"] == 7]
    assert to_customer == []
    clock.now = NOW + timedelta(days=1, minutes=1)
    await worker.run_once()
    await worker.run_once()
    to_customer = [p for name, p, _ in session.calls if name == "sendMessage" and p["chat_id"] == 7]
    assert len(to_customer) == 1 and "solved" in to_customer[0]["text"]

    figures = await repo.analytics.alert_figures(NOW - timedelta(days=1), NOW + timedelta(days=2))
    assert figures["raised"] == 1 and figures["open_count"] == 0
    assert figures["median_time_to_resolve"] == timedelta(0)


async def test_staff_keep_working_after_the_group_becomes_a_supergroup(env):
    """Telegram's migration notice moves the staff chat: buttons there work at once."""
    dp, repo, bot, _session, _worker, clock = env
    await raise_alert(repo, 1, 1, clock)
    (alert,) = await repo.alerts.open_alerts()
    upgraded = -1009_000_555
    elsewhere = press(ANNA, "Anna", f"a:t:{alert.id}", chat_id=upgraded)
    await dp.feed_update(bot, elsewhere)
    assert (await repo.alerts.get_alert(alert.id)).owner_id is None, "a foreign group took an alert"
    notice = Message(
        message_id=2,
        date=NOW,
        chat=Chat(id=STAFF, type="group"),
        migrate_to_chat_id=upgraded,
    )
    await dp.feed_update(bot, Update(update_id=next(_ids), message=notice))
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:t:{alert.id}", chat_id=upgraded))
    assert (await repo.alerts.get_alert(alert.id)).owner_id == ANNA, (
        "after the upgrade, Take in the new supergroup was ignored"
    )
    assert await repo.staff_chat.effective_chat(STAFF) == upgraded


@pytest.mark.parametrize(
    ("waited", "shown"),
    [
        (timedelta(seconds=15), "15s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=60), "1m"),
        (timedelta(minutes=31, seconds=40), "31m"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=26, minutes=5), "1d2h"),
        (timedelta(days=3, seconds=7), "3d"),
    ],
)
def test_a_waiting_time_reads_as_the_time_really_waited(waited: timedelta, shown: str) -> None:
    assert span(waited, minutes=True) == shown


async def test_the_escalation_says_how_long_the_alert_really_waited(env):
    _dp, repo, _bot, session, worker, clock = env
    await raise_alert(repo, 1, 2, clock)
    await worker.run_once()
    clock.now = NOW + timedelta(minutes=31, seconds=20)
    await worker.run_once()
    (escalation,) = [t for t in staff_texts(session) if "waited" in t]
    assert "waited 31m" in escalation, escalation


async def test_the_worker_claims_at_most_what_it_asked_for_oldest_first(repo):
    clock = Clock(NOW)
    for customer in (1, 2, 3):
        await raise_alert(repo, customer, 1, clock)
    first = await repo.alert_posts.claim_alerts_to_post(2)
    assert [a.customer_id for a in first] == [1, 2], "a digest of 2 would have listed more"
    assert await repo.alert_posts.count_alerts_to_post() == 1
    assert [a.customer_id for a in await repo.alert_posts.claim_alerts_to_post(2)] == [3]
    assert await repo.alert_posts.claim_alerts_to_post(2) == []
