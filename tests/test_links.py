"""Customers known by the shop's id: events waiting for a deep link, the link opened in Telegram,
refused links, later events, names captured from the customer's own updates, and placeholders.

The real intake API over HTTP, the real dispatcher and delivery worker, the test's database on
each backend, a recording session for what Telegram would show, and a clock the test moves.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import User
from aiohttp.test_utils import TestClient, TestServer

from bot.config import parse_config
from bot.intake.api import IntakeApi
from bot.workers.alerts import AlertWorker
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from survey_flows.alerts import AlertRules

from . import backends, updates
from .clocks import MovableClock
from .test_manager import NOW, RecordingSession
from .wiring import wire

TOKEN = "intake-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOT_USERNAME = "shop_feedback_bot"
STAFF = -100555
ANN, MALLORY = 7101, 7102
LINK_RE = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)")
_ids = itertools.count(90_000)

pytestmark = backends.BOTH


@dataclass
class Shop:
    """The shop's systems (HTTP) and its customers' Telegram chats (updates into the bot)."""

    client: TestClient
    repo: SurveyRepo
    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    delivery: DeliveryWorker
    alerts: AlertWorker
    clock: MovableClock

    async def post(self, body: Any) -> tuple[int, dict[str, Any]]:
        resp = await self.client.post("/api/v1/events", data=json.dumps(body), headers=AUTH)
        return resp.status, await resp.json()

    async def get_link(self, external_id: str, headers: dict[str, str] | None = None):
        resp = await self.client.get(
            f"/api/v1/customers/{external_id}/link", headers=AUTH if headers is None else headers
        )
        return resp.status, await resp.json()

    async def work(self) -> None:
        await self.delivery.run_once()
        await self.delivery.drain()
        await self.alerts.run_once()

    async def say(self, user: User, text: str) -> list[dict[str, Any]]:
        """`user` writes `text` in their private chat; returns the bot's messages to them."""
        before = len(self.session.calls)
        await self.dp.feed_update(self.bot, updates.message(user, text, self.clock()))
        await self.work()
        return self.to(user.id, self.session.calls[before:])

    async def press(self, user: User, data: str) -> None:
        await self.dp.feed_update(self.bot, updates.press(user, data, self.clock()))
        await self.work()

    def to(self, chat_id: int, calls: list | None = None) -> list[dict[str, Any]]:
        return [
            p
            for name, p, _ in (self.session.calls if calls is None else calls)
            if name == "sendMessage" and p["chat_id"] == chat_id
        ]

    async def scalar(self, sql: str, params: tuple = ()) -> Any:
        return await backends.scalar(self.repo, sql, params)


def ann(**kw: Any) -> User:
    fields = {"id": ANN, "is_bot": False, "first_name": "Ann", "language_code": "en", **kw}
    return User(**fields)


MALLORY_USER = User(id=MALLORY, is_bot=False, first_name="Mallory", language_code="en")


def event(event_id: str, customer: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "purchase",
        "customer": customer,
        "context": context or {"product": "Kettle", "order_id": "A-17"},
        "delay_seconds": 0,
    }


def token_of(body: dict[str, Any]) -> str:
    match = LINK_RE.fullmatch(body.get("deep_link") or "")
    assert match, f"the shop got no usable deep link: {body}"
    return match.group(1)


@pytest.fixture
async def shop(tmp_path: Path, dispatcher: Dispatcher, open_backend) -> AsyncIterator[Shop]:
    raw = {
        "telegram": {"token": "123:abc", "staff_chat_id": STAFF},
        "api": {"token": TOKEN},
        "storage": {"path": "bot.sqlite3"},
        "surveys": {
            "csat": {
                "questions": [
                    {
                        "metric": "csat",
                        "text": "How do you like your {product} (order {order_id})?",
                        "followup": {"detractor": "What went wrong with {product} {colour}?"},
                    }
                ]
            }
        },
        "links": {"ttl": "30d"},
    }
    config = parse_config(raw, {}, tmp_path)
    repo = await open_backend()
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = MovableClock(NOW)
    delivery = DeliveryWorker(bot, repo, config.surveys, clock, expire_after=timedelta(days=3))
    alerts = AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, delivery=delivery, alerts=alerts)
    api = IntakeApi(config, repo, clock, delivery.wake, bot_username=BOT_USERNAME)
    async with TestClient(TestServer(api.app())) as client:
        yield Shop(client, repo, dispatcher, bot, session, delivery, alerts, clock)
    await repo.close()


async def test_event_by_shop_id_waits_for_the_link_then_the_survey_arrives(shop: Shop):
    status, body = await shop.post(event("order-1", {"external_id": "crm-42", "name": "Ann L."}))
    assert status == 202, body
    assert body["status"] == "awaiting_link" and body["event_id"] == "order-1"
    token = token_of(body)
    assert len(token) <= 64 and len(token) * 6 >= 128, "the token must be short and unguessable"
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert await shop.scalar("SELECT count(*) FROM link_tokens WHERE token_hash = ?", (digest,))
    dump = "\n".join(
        str(tuple(r.values())) for r in await backends.fetch(shop.repo, "SELECT * FROM link_tokens")
    )
    assert token not in dump, "the token itself was stored"
    await shop.work()
    assert shop.session.calls == [], "something was sent before the customer opened the link"

    replies = await shop.say(ann(), f"/start {token}")
    assert "linked" in replies[0]["text"], replies
    question = replies[1]
    assert question["text"].startswith("How do you like your Kettle (order A-17)?"), question
    assert question["reply_markup"]["inline_keyboard"], "the question came without buttons"
    # Linked for good: the shop's name was copied, nothing waits any more.
    assert await shop.scalar("SELECT telegram_id FROM external_customers") == ANN
    assert await shop.scalar("SELECT name FROM customers WHERE telegram_id = ?", (ANN,)) == "Ann L."
    assert await shop.scalar("SELECT count(*) FROM awaiting_link") == 0

    # A replay of the first event now tells where its invitation stands, and sends nothing.
    status, again = await shop.post(event("order-1", {"external_id": "crm-42", "name": "Ann L."}))
    assert status == 200 and again["status"] == "active", again
    # Later events for that id go straight to the chat.
    status, later = await shop.post(event("order-2", {"external_id": "crm-42"}, product="Mug"))
    assert status == 202 and later["status"] == "scheduled", later
    before = len(shop.session.calls)
    await shop.work()
    sent = shop.to(ANN, shop.session.calls[before:])
    assert sent and "Mug" in sent[0]["text"], "the later event's survey did not reach the chat"


async def test_replays_and_conflicts_hold_while_waiting(shop: Shop):
    body = event("order-9", {"external_id": "crm-9"})
    status, first = await shop.post(body)
    assert status == 202
    status, replay = await shop.post(body)
    assert status == 200 and replay["status"] == "awaiting_link", replay
    assert token_of(replay) != token_of(first), "a replay should carry a fresh link"
    assert await shop.scalar("SELECT count(*) FROM awaiting_link") == 1
    # The same event_id with another body: 409, in either form.
    status, conflict = await shop.post(event("order-9", {"external_id": "crm-10"}))
    assert status == 409 and conflict["event_id"] == "order-9", conflict
    status, conflict = await shop.post(event("order-9", {"telegram_id": ANN}))
    assert status == 409, conflict
    status, conflict = await shop.post(event("order-9", {"external_id": "crm-9"}, product="Tea"))
    assert status == 409, conflict
    assert await shop.scalar("SELECT count(*) FROM invitations") == 0
    # And an event_id used for a Telegram customer cannot be reused for a shop's id.
    status, _ = await shop.post(event("order-t", {"telegram_id": ANN}))
    assert status == 202
    status, conflict = await shop.post(event("order-t", {"external_id": "crm-9"}))
    assert status == 409 and conflict["invitation_id"] is not None, conflict


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({}, "customer.telegram_id"),
        ({"name": "Ann"}, "customer.telegram_id"),
        ({"external_id": ""}, "customer.external_id"),
        ({"external_id": "x" * 129}, "customer.external_id"),
        ({"external_id": "line\nbreak"}, "customer.external_id"),
        ({"external_id": 42}, "customer.external_id"),
    ],
)
async def test_bad_customer_ids_are_400_and_store_nothing(shop: Shop, customer, field):
    status, body = await shop.post(event("bad", customer))
    assert status == 400 and field in body["error"], body
    assert await shop.scalar("SELECT count(*) FROM external_customers") == 0


async def test_event_with_both_ids_links_them_and_releases_what_waited(shop: Shop):
    status, _ = await shop.post(event("o-1", {"external_id": "crm-7"}))
    assert status == 202
    status, body = await shop.post(event("o-2", {"external_id": "crm-7", "telegram_id": ANN}))
    assert status == 202 and body["status"] == "scheduled", body
    await shop.work()
    await shop.work()
    assert len(shop.to(ANN)) == 2, "both the waiting and the new survey should reach the chat"
    status, body = await shop.post(event("o-3", {"external_id": "crm-7"}))
    assert body["status"] == "scheduled", "a later event by the shop's id must go to the chat"


async def test_forged_expired_and_foreign_links_are_refused(shop: Shop):
    status, body = await shop.post(event("o-1", {"external_id": "crm-1"}))
    token = token_of(body)

    for forged in ("A" * 32, "not-a-token-at-all", token[:-1] + ("A" if token[-1] != "A" else "B")):
        replies = await shop.say(MALLORY_USER, f"/start {forged}")
        assert "not valid" in replies[-1]["text"], replies
    assert await shop.scalar("SELECT telegram_id FROM external_customers") is None

    # Ann opens it; Mallory, who got hold of the same link, cannot take it over.
    await shop.say(ann(), f"/start {token}")
    replies = await shop.say(MALLORY_USER, f"/start {token}")
    assert "not valid" in replies[-1]["text"] and len(replies) == 1, replies
    assert await shop.scalar("SELECT telegram_id FROM external_customers") == ANN
    # Ann opening it again is fine and changes nothing.
    replies = await shop.say(ann(), f"/start {token}")
    assert "already linked" in replies[-1]["text"], replies
    assert await shop.scalar("SELECT count(*) FROM invitations") == 1

    # A link not opened within [links] ttl has expired.
    status, body = await shop.post(event("o-2", {"external_id": "crm-2"}))
    assert status == 202, "the event was not accepted"
    late = token_of(body)
    shop.clock.now += timedelta(days=30, seconds=1)
    replies = await shop.say(MALLORY_USER, f"/start {late}")
    assert "not valid" in replies[-1]["text"], replies
    linked = await shop.scalar(
        "SELECT telegram_id FROM external_customers WHERE external_id = ?", ("crm-2",)
    )
    assert linked is None, "an expired link linked a chat"
    assert await shop.scalar("SELECT count(*) FROM awaiting_link") == 1


async def test_the_link_endpoint_mints_fresh_links(shop: Shop):
    status, body = await shop.get_link("crm-unknown")
    assert status == 404 and "unknown" in body["error"], body
    await shop.post(event("o-1", {"external_id": "shop/id 1"}))
    status, body = await shop.get_link("shop%2Fid%201")
    assert status == 200, body
    assert body["linked"] is False and body["awaiting_link"] == 1
    assert body["expires_at"] == (NOW + timedelta(days=30)).isoformat()
    status, again = await shop.get_link("shop%2Fid%201")
    assert token_of(again) != token_of(body)
    status, _ = await shop.get_link("crm-1", headers={})
    assert status == 401
    # Either link works; then the endpoint says the customer is linked.
    replies = await shop.say(ann(), f"/start {token_of(body)}")
    assert "Kettle" in replies[-1]["text"], replies
    status, body = await shop.get_link("shop%2Fid%201")
    assert body["linked"] is True and body["awaiting_link"] == 0


async def test_the_customers_telegram_name_is_captured_for_the_staff_card(shop: Shop):
    # The shop gave no name: the alert card must still say who it is.
    status, body = await shop.post(event("o-1", {"external_id": "crm-5"}))
    assert status == 202, "the event was not accepted"
    user = ann(first_name="Ann", last_name="Lee", username="annlee")
    await shop.say(user, f"/start {token_of(body)}")
    (row,) = await backends.fetch(
        shop.repo, "SELECT name, username FROM customers WHERE telegram_id = ?", (ANN,)
    )
    assert tuple(row.values()) == ("Ann Lee", "annlee")
    inv_id = await shop.scalar("SELECT id FROM invitations")
    await shop.press(user, f"s:{inv_id}:0:1")
    card = shop.to(STAFF)
    assert card and "Ann Lee" in card[0]["text"] and "@annlee" in card[0]["text"], card


async def test_name_is_captured_from_any_update_of_a_known_customer(shop: Shop):
    status, _ = await shop.post(event("o-1", {"telegram_id": ANN}))
    await shop.work()
    assert await shop.scalar("SELECT name FROM customers") is None
    inv_id = await shop.scalar("SELECT id FROM invitations")
    user = ann(first_name="Annie", username="annie_t")
    await shop.press(user, f"s:{inv_id}:0:2")
    (row,) = await backends.fetch(shop.repo, "SELECT name, username FROM customers")
    assert tuple(row.values()) == ("Annie", "annie_t"), "the press did not tell who the customer is"
    card = shop.to(STAFF)
    assert card and "Annie" in card[0]["text"], card
    # A name the shop gave wins over Telegram's; a stranger's message stores nobody.
    status, _ = await shop.post(event("o-2", {"telegram_id": ANN, "name": "Ann Lee"}))
    assert status == 202, "the event was not accepted"
    await shop.say(user, "hello")
    assert (
        await shop.scalar("SELECT name FROM customers WHERE telegram_id = ?", (ANN,)) == "Ann Lee"
    )
    await shop.say(MALLORY_USER, "hi")
    assert (
        await shop.scalar("SELECT count(*) FROM customers WHERE telegram_id = ?", (MALLORY,)) == 0
    )


async def test_placeholders_are_escaped_and_missing_ones_left_out(shop: Shop):
    status, _ = await shop.post(event("o-1", {"telegram_id": ANN}, product="<b>Kettle</b> & co"))
    assert status == 202, "the event was not accepted"
    await shop.work()
    question = shop.to(ANN)[-1]["text"]
    assert question.startswith("How do you like your &lt;b&gt;Kettle&lt;/b&gt; &amp; co (order)?")
    assert "{" not in question and "  " not in question, question
    inv_id = await shop.scalar("SELECT id FROM invitations")
    await shop.press(ann(), f"s:{inv_id}:0:1")
    followup = shop.to(ANN)[-1]["text"]
    assert followup.startswith("What went wrong with &lt;b&gt;Kettle&lt;/b&gt; &amp; co?"), followup


async def test_a_link_opened_after_opting_out_links_but_sends_nothing(shop: Shop):
    await shop.say(ann(), "/stop")
    status, body = await shop.post(event("o-1", {"external_id": "crm-3"}))
    assert status == 202, "the event was not accepted"
    replies = await shop.say(ann(), f"/start {token_of(body)}")
    assert all("Kettle" not in r["text"] for r in replies), "an opted-out customer got a survey"
    assert await shop.scalar("SELECT status FROM invitations") == "cancelled"


async def test_a_survey_that_waited_past_expiry_is_not_sent_when_the_link_is_opened(shop: Shop):
    """A link opened months after the order brings no survey about a forgotten purchase."""
    status, old = await shop.post(event("o-old", {"external_id": "crm-5"}))
    assert status == 202, old
    shop.clock.now += timedelta(days=20)  # past [delivery] expire_after (3 days), within the ttl
    status, fresh = await shop.post(event("o-new", {"external_id": "crm-5"}, product="Mug"))
    assert status == 202, fresh
    replies = await shop.say(ann(), f"/start {token_of(old)}")
    await shop.work()
    texts = [m["text"] for m in shop.to(ANN, shop.session.calls)]
    assert any("Mug" in text for text in texts), f"the fresh survey did not come: {replies}"
    assert not any("Kettle" in text for text in texts), "the 20-day-old survey was sent"
