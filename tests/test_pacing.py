"""Not pestering, as customers and shops see it: recontact, the one reminder, quiet hours.

The intake API over HTTP, the real dispatcher, delivery and alert workers, a recording session
and a clock moved by hand (never slept).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiohttp.test_utils import TestClient, TestServer

from bot.config import parse_config
from bot.config.throttle import recontact_rule
from bot.intake.api import IntakeApi
from bot.views.texts import t
from bot.workers.alerts import AlertWorker
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.records import NewEvent
from survey_flows.alerts import AlertRules
from survey_flows.models import InvitationStatus
from survey_flows.pacing import parse_quiet_hours

from . import backends
from .clocks import MovableClock as Clock
from .e2e.harness import wait_until
from .test_customer_messages import ANN, STAFF, Chats
from .test_manager import RecordingSession, make_config
from .wiring import wire

TOKEN = "intake-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A Wednesday noon in Berlin (CET, UTC+1).
T0 = datetime(2026, 1, 14, 11, 0, tzinfo=UTC)
CUSTOMER = 515151
REMINDER = t("en", "reminder")

pytestmark = backends.BOTH


# --- recontact through the intake API ---------------------------------------------------------


@dataclass
class Shop:
    client: TestClient
    repo: SurveyRepo
    worker: DeliveryWorker
    session: RecordingSession
    clock: Clock

    async def post(self, event_id: str, kind: str = "purchase", **customer: Any) -> tuple[int, Any]:
        body = {
            "event_id": event_id,
            "type": kind,
            "customer": {"telegram_id": CUSTOMER, "language": "en", **customer},
        }
        resp = await self.client.post("/api/v1/events", data=json.dumps(body), headers=AUTH)
        return resp.status, await resp.json()

    async def deliver(self) -> list[dict]:
        before = len(self.session.calls)
        await self.worker.run_once()
        await self.worker.drain()
        return [p for name, p, _ in self.session.calls[before:] if name == "sendMessage"]

    async def count(self, status: str) -> int:
        sql = "SELECT count(*) FROM invitations WHERE status = ?"
        return int(await backends.scalar(self.repo, sql, (status,)))


async def open_shop(
    open_backend: Any, tmp_path: Path, throttle: dict[str, Any]
) -> AsyncIterator[Shop]:
    raw = {
        "telegram": {"token": "1:abc"},
        "api": {"token": TOKEN},
        "storage": {"path": "bot.sqlite3"},
        "triggers": {
            "purchase": {"survey": "csat", "delay": "0s"},
            "delivered": {"survey": "csat", "delay": "0s"},
            "signup": {"survey": "nps", "delay": "0s"},
        },
        "alerts": {"enabled": False},
        "throttle": throttle,
    }
    config = parse_config(raw, {}, tmp_path)
    repo = await open_backend(recontact=recontact_rule(config.throttle, config.surveys))
    session = RecordingSession()
    clock = Clock(T0)
    worker = DeliveryWorker(
        Bot("123:abc", session=session), repo, config.surveys, clock, expire_after=timedelta(days=3)
    )
    app = IntakeApi(config, repo, clock, worker.wake).app()
    async with TestClient(TestServer(app)) as client:
        yield Shop(client, repo, worker, session, clock)
    await repo.close()


@pytest.fixture
async def shop(open_backend, tmp_path: Path) -> AsyncIterator[Shop]:
    async for s in open_shop(open_backend, tmp_path, {"recontact": "30d"}):
        yield s


async def test_a_second_survey_within_recontact_is_suppressed_kept_and_never_sent(shop: Shop):
    status, first = await shop.post("order-1")
    assert (status, first["status"]) == (202, "scheduled")
    assert len(await shop.deliver()) == 1

    shop.clock.now = T0 + timedelta(days=10)
    status, second = await shop.post("order-2")
    assert status == 202, "a suppressed event is still accepted"
    assert second["status"] == "suppressed" and second["reason"] == "recontact", second
    assert await shop.deliver() == [], "the customer was asked twice within 30 days"

    # The shop's retry and the status endpoint tell the same; the row is kept for statistics.
    assert await shop.post("order-2") == (200, second)
    resp = await shop.client.get(f"/api/v1/invitations/{second['invitation_id']}", headers=AUTH)
    shown = await resp.json()
    assert (shown["status"], shown["reason"]) == ("suppressed", "recontact")
    assert await shop.count("suppressed") == 1
    activity = await shop.repo.analytics.activity(T0 - timedelta(days=1), T0 + timedelta(days=60))
    assert activity.invitations_sent == 1, "a suppressed survey counted as sent: rates too low"

    shop.clock.now = T0 + timedelta(days=31)
    status, third = await shop.post("order-3")
    assert third["status"] == "scheduled", "a customer not asked for a month was suppressed"
    assert len(await shop.deliver()) == 1


async def test_a_scheduled_survey_counts_before_it_is_sent(shop: Shop):
    """Two events at once (a double webhook from the shop): one survey, not two."""
    _, first = await shop.post("order-1")
    _, second = await shop.post("delivery-1", kind="delivered")
    assert (first["status"], second["status"]) == ("scheduled", "suppressed")
    assert len(await shop.deliver()) == 1


async def test_recontact_0s_lets_every_survey_through(open_backend, tmp_path: Path):
    async for shop in open_shop(open_backend, tmp_path, {"recontact": "0s"}):
        _, first = await shop.post("order-1")
        _, second = await shop.post("order-2")
        assert (first["status"], second["status"]) == ("scheduled", "scheduled")
        assert len(await shop.deliver()) == 1  # one message per customer at a time
        assert len(await shop.deliver()) == 1, "the second survey never reached the customer"
        assert await shop.count("suppressed") == 0


async def test_recontact_per_metric_counts_only_surveys_sharing_a_metric(
    open_backend, tmp_path: Path
):
    async for shop in open_shop(
        open_backend, tmp_path, {"recontact": "30d", "recontact_per_metric": True}
    ):
        _, csat = await shop.post("order-1")
        _, nps = await shop.post("signup-1", kind="signup")
        _, csat_again = await shop.post("order-2")
        assert (csat["status"], nps["status"]) == ("scheduled", "scheduled"), "NPS was blocked"
        assert csat_again["status"] == "suppressed", "a second CSAT within 30 days got through"


async def test_customer_timezone_is_validated_and_stored(shop: Shop):
    status, body = await shop.post("order-1", timezone="Mars/Olympus_Mons")
    assert status == 400
    assert body["error"].startswith("customer.timezone: unknown time zone 'Mars/Olympus_Mons'")
    assert await shop.count("scheduled") == 0, "a rejected event was stored"
    status, _ = await shop.post("order-1", timezone="Asia/Tokyo")
    assert status == 202
    customer = await shop.repo.customers.get_customer(CUSTOMER)
    assert customer is not None and customer.timezone == "Asia/Tokyo"


# --- the one reminder, and quiet hours, in the customer's chat ---------------------------------


@pytest.fixture
async def chats(tmp_path: Path, dispatcher, open_backend) -> AsyncIterator[Chats]:
    config = make_config(tmp_path)
    config = replace(
        config, telegram=replace(config.telegram, staff_chat_id=STAFF), alerts_enabled=True
    )
    repo = await open_backend()
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = Clock(T0)
    delivery = DeliveryWorker(
        bot,
        repo,
        config.surveys,
        clock,
        expire_after=timedelta(days=3),
        remind_after=timedelta(hours=24),
        quiet_hours=parse_quiet_hours("21:00-09:00"),
        timezone="Europe/Berlin",
    )
    alerts = AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, delivery=delivery, alerts=alerts)
    yield Chats(dispatcher, repo, bot, session, delivery, alerts, clock)
    await repo.close()


def reminders(chats: Chats) -> list[dict]:
    return [m for m in chats.to(ANN) if m["text"] == REMINDER]


async def at(chats: Chats, when: datetime) -> None:
    chats.clock.now = when
    await chats.work()


async def test_exactly_one_reminder_points_at_the_unanswered_question(chats: Chats):
    inv_id = await chats.survey()
    assert len(chats.to(ANN)) == 1
    shown = await chats.repo.invitations.get_invitation(inv_id)
    assert shown is not None and shown.message_id is not None
    await at(chats, T0 + timedelta(hours=23, minutes=59))
    assert reminders(chats) == [], "reminded before remind_after"

    await at(chats, T0 + timedelta(hours=24))
    (reminder,) = reminders(chats)
    assert reminder["reply_parameters"]["message_id"] == shown.message_id, "does not point at it"
    assert "reply_markup" not in reminder, "the reminder copied the question's buttons"

    for hours in (25, 30, 47):
        await at(chats, T0 + timedelta(hours=hours))
    # A restart (a new worker over the same database) does not send it again either.
    restarted = DeliveryWorker(
        chats.bot, chats.repo, {}, chats.clock, expire_after=timedelta(days=3),
        remind_after=timedelta(hours=24),
    )  # fmt: skip
    assert await chats.repo.outbox.settle_uncertain_prompts() == []
    await restarted.run_once()
    await restarted.drain()
    assert len(reminders(chats)) == 1, "the customer was reminded more than once"


async def test_a_reminder_claimed_at_a_crash_is_sent_on_restart(chats: Chats, open_backend):
    inv_id = await chats.survey()
    chats.clock.now = T0 + timedelta(hours=24)
    # Another process on the same database claims the reminder, then dies mid-send (on
    # PostgreSQL only a claim whose process is gone is settled, never a live one's).
    crashed = await open_backend()
    assert await crashed.outbox.claim_reminder(inv_id), "the reminder was not due"
    await chats.work()
    assert reminders(chats) == [], "a reminder being sent was sent twice at once"
    await crashed.close()

    async def alone() -> bool:
        return await chats.repo.cluster.processes() == 1

    await wait_until(alone, what="the crashed process's session to end")
    assert await chats.repo.outbox.settle_uncertain_prompts() == [inv_id]  # the restart
    await chats.work()
    assert len(reminders(chats)) == 1, "the reminder in flight at the crash was lost"


async def test_no_reminder_after_an_answer(chats: Chats):
    inv_id = await chats.survey()
    chats.clock.now = T0 + timedelta(hours=1)
    await chats.press(f"s:{inv_id}:0:5")
    await at(chats, T0 + timedelta(hours=30))
    assert reminders(chats) == [], "reminded after answering"


async def test_no_reminder_after_the_customer_wrote(chats: Chats):
    await chats.survey()
    chats.clock.now = T0 + timedelta(hours=2)
    await chats.say("What is this about?")
    await at(chats, T0 + timedelta(hours=30))
    assert reminders(chats) == [], "reminded a customer who had just written to us"


async def test_no_reminder_after_opting_out_or_expiry(chats: Chats):
    await chats.survey()
    await chats.say("/stop")
    await at(chats, T0 + timedelta(hours=30))
    assert reminders(chats) == [], "an opted-out customer was reminded"


async def test_no_reminder_once_the_survey_expired(chats: Chats):
    inv_id = await chats.survey()
    await at(chats, T0 + timedelta(days=3, hours=1))  # the bot was down past expiry
    assert reminders(chats) == [], "reminded about a survey that no longer takes answers"
    inv = await chats.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.status is InvitationStatus.EXPIRED


async def test_a_question_due_at_night_waits_for_the_morning(chats: Chats):
    night = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    morning = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    chats.clock.now = night
    await chats.survey()
    assert chats.to(ANN) == [], "a survey woke the customer at 23:30"
    assert await chats.repo.outbox.next_due_at() == morning, "the worker would spin all night"
    await at(chats, morning - timedelta(minutes=1))
    assert chats.to(ANN) == []
    await at(chats, morning)
    assert len(chats.to(ANN)) == 1, "the survey was not sent in the morning"


async def test_quiet_hours_follow_the_customer_own_time_zone(chats: Chats):
    # 12:00 UTC: 13:00 in Berlin (the default) but 21:00 in Tokyo, where this customer lives.
    chats.clock.now = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
    event = NewEvent("tokyo-1", "purchase", "csat", ANN, "Ann", "en", {}, chats.clock())
    await chats.repo.invitations.create_invitation(
        replace(event, customer_timezone="Asia/Tokyo"), chats.clock()
    )
    await chats.work()
    assert chats.to(ANN) == [], "asked at 21:00 the customer's time"
    assert await chats.repo.outbox.next_due_at() == datetime(2026, 1, 15, 0, 0, tzinfo=UTC)


async def test_an_alert_at_night_is_posted_at_once(chats: Chats):
    chats.clock.now = datetime(2026, 1, 14, 19, 0, tzinfo=UTC)  # 20:00 in Berlin: asked
    inv_id = await chats.survey()
    chats.clock.now = datetime(2026, 1, 14, 22, 0, tzinfo=UTC)  # 23:00: quiet hours
    await chats.press(f"s:{inv_id}:0:1")
    await chats.work()
    (card,) = chats.to(STAFF)
    assert "Alert #" in card["text"], "a detractor's alert waited for the morning"
    assert len(chats.to(ANN)) == 2, "the follow-up to her own press waited for the morning"


async def test_a_reminder_falling_in_quiet_hours_moves_to_the_morning(chats: Chats):
    chats.delivery = DeliveryWorker(
        chats.bot, chats.repo, make_config(Path(".")).surveys, chats.clock,
        expire_after=timedelta(days=3), remind_after=timedelta(hours=2),
        quiet_hours=parse_quiet_hours("21:00-09:00"), timezone="Europe/Berlin",
    )  # fmt: skip
    wire(
        chats.dp,
        chats.bot,
        chats.repo,
        chats.dp["config"],
        chats.clock,
        delivery=chats.delivery,
        alerts=chats.alerts,
    )
    chats.clock.now = datetime(2026, 1, 14, 19, 0, tzinfo=UTC)  # 20:00 in Berlin: asked
    await chats.survey()
    morning = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    await at(chats, datetime(2026, 1, 14, 21, 0, tzinfo=UTC))  # 22:00: due, but quiet
    assert reminders(chats) == [], "reminded at 22:00"
    assert await chats.repo.outbox.next_due_at() == morning, "the worker would spin all night"
    await at(chats, morning)
    assert len(reminders(chats)) == 1, "the reminder was lost instead of moved to 09:00"
