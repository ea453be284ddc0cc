"""Opting out: "Don't ask me again" under a first question, /start asking before opting back in,
and nothing sent to opted-out customers but replies to their own messages.

The real dispatcher, delivery worker and alert worker, a recording session and a moved clock,
on both storage backends.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.workers.alerts import AlertWorker
from bot.workers.delivery import DeliveryWorker
from survey_flows.alerts import AlertRules
from survey_flows.models import InvitationStatus

from . import backends, updates
from .clocks import MovableClock
from .conftest import OpenBackend
from .test_customer_messages import ANN, NOW, STAFF, Chats
from .test_manager import RecordingSession, make_config
from .updates import person
from .wiring import wire

pytestmark = backends.BOTH

FORGER = 6666
_ids = itertools.count(90_000)


@pytest.fixture
async def room(
    tmp_path: Path, dispatcher: Dispatcher, open_backend: OpenBackend
) -> AsyncIterator[Chats]:
    """test_customer_messages' customers' chats, on the test's backend."""
    config = make_config(tmp_path)
    config = replace(
        config,
        telegram=replace(config.telegram, staff_chat_id=STAFF),
        alerts_enabled=True,
    )
    repo = await open_backend()
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = MovableClock(NOW)
    delivery = DeliveryWorker(bot, repo, config.surveys, clock, expire_after=timedelta(days=3))
    alerts = AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, delivery=delivery, alerts=alerts)
    yield Chats(dispatcher, repo, bot, session, delivery, alerts, clock)
    await repo.close()


def keyboard_data(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


async def press_as(chats: Chats, user_id: int, data: str, message_id: int = 1) -> list:
    """A button press by `user_id` in their own private chat; returns the calls it caused."""
    before = len(chats.session.calls)
    user = person(user_id, "U", language_code="en")
    await chats.dp.feed_update(
        chats.bot, updates.press(user, data, chats.clock(), message_id=message_id)
    )
    return chats.session.calls[before:]


def notices(calls: list) -> list[str]:
    return [p.get("text", "") for name, p, _ in calls if name == "answerCallbackQuery"]


async def test_only_the_first_question_offers_dont_ask_me_again(room: Chats):
    inv_id = await room.survey("support")  # CES, then CSAT
    (first,) = room.to(ANN)
    assert f"x:{inv_id}" in keyboard_data(first), "no 'Don't ask me again' under the 1st question"
    rows = first["reply_markup"]["inline_keyboard"]
    assert rows[-1][0]["text"] == "Don't ask me again" and len(rows[-1]) == 1

    await room.press(f"s:{inv_id}:0:6")
    await room.work()
    followup = room.to(ANN)[-1]
    assert keyboard_data(followup) == [f"k:{inv_id}:0"], "the follow-up offers more than Skip"
    await room.press(f"k:{inv_id}:0")
    await room.work()
    second = room.to(ANN)[-1]
    assert [d for d in keyboard_data(second) if not d.startswith("s:")] == [], (
        "the second question must not offer opting out"
    )


async def test_dont_ask_me_again_opts_out_closes_the_survey_and_says_how_to_come_back(
    room: Chats,
):
    inv_id = await room.survey()
    inv = await room.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.message_id is not None
    calls = await press_as(room, ANN, f"x:{inv_id}", inv.message_id)

    customer = await room.repo.customers.get_customer(ANN)
    assert customer is not None and customer.opted_out_at is not None, "Ann was not opted out"
    inv = await room.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.status is InvitationStatus.CANCELLED
    cleared = [p for name, p, _ in calls if name == "editMessageReplyMarkup"]
    assert [p["message_id"] for p in cleared] == [inv.message_id], "the buttons stayed"
    (said,) = room.to(ANN, calls)
    assert "not ask you for feedback again" in said["text"] and "/start" in said["text"]

    # The shop's next event is never sent.
    before = len(room.session.calls)
    later = await room.survey()
    assert room.to(ANN, room.session.calls[before:]) == [], "an opted-out customer was asked"
    stopped = await room.repo.invitations.get_invitation(later)
    assert stopped is not None and stopped.status is InvitationStatus.CANCELLED


async def test_a_forged_opt_out_press_changes_nothing(room: Chats):
    inv_id = await room.survey()
    calls = await press_as(room, FORGER, f"x:{inv_id}")
    assert "not meant for you" in notices(calls)[-1]
    customer = await room.repo.customers.get_customer(ANN)
    assert customer is not None and customer.opted_out_at is None, "the forger opted Ann out"
    assert await room.repo.customers.get_customer(FORGER) is None, "the forger was recorded"
    inv = await room.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.status is InvitationStatus.ACTIVE, "Ann's survey was closed"
    assert not [c for c in calls if c[0].startswith("edit")], "Ann's message was edited"

    # Nonexistent invitations are refused the same way.
    calls = await press_as(room, FORGER, "x:999999")
    assert "no longer works" in notices(calls)[-1]


async def test_start_after_opting_out_asks_and_only_the_button_opts_back_in(room: Chats):
    await room.say("/stop")
    calls = await room.say("/start")
    (asked,) = room.to(ANN, calls)
    assert "Shall I ask you for feedback again?" in asked["text"]
    assert keyboard_data(asked) == ["y"]
    assert asked["reply_markup"]["inline_keyboard"][0][0]["text"] == "Yes, you may ask me again"
    customer = await room.repo.customers.get_customer(ANN)
    assert customer is not None and customer.opted_out_at is not None, "/start alone opted in"
    await room.survey()
    assert len(room.to(ANN)) == 2, "a survey reached Ann before she agreed"

    calls = await press_as(room, ANN, "y")
    (welcome,) = room.to(ANN, calls)
    assert "Welcome back" in welcome["text"]
    customer = await room.repo.customers.get_customer(ANN)
    assert customer is not None and customer.opted_out_at is None
    before = len(room.session.calls)
    await room.survey()
    (question,) = room.to(ANN, room.session.calls[before:])
    assert "satisfied" in question["text"], "no survey after opting back in"


async def test_opted_out_customers_get_no_recheck_and_no_unprompted_staff_message(room: Chats):
    inv_id = await room.survey()
    await room.press(f"s:{inv_id}:0:1")  # a detractor: an alert
    await room.work()
    (alert,) = await room.repo.alerts.open_alerts()
    assert alert.message_id is not None
    assert await room.repo.alerts.resolve_alert(
        alert.id, 901, "Staff", NOW, NOW + timedelta(hours=1)
    )
    await room.say("/stop")

    room.clock.now = NOW + timedelta(days=2)
    before = len(room.session.calls)
    await room.work()
    await room.work()  # the card, dirty from the skipped question, is re-rendered
    calls = room.session.calls[before:]
    assert room.to(ANN, calls) == [], "the 'did it help?' question reached an opted-out customer"
    edits = [p["text"] for name, p, _ in calls if name == "editMessageText"]
    assert edits and "not asked whether it helped" in edits[-1]

    before = len(room.session.calls)
    await room.staff_reply(alert.message_id, "Hello again!")
    await room.work()
    calls = room.session.calls[before:]
    assert room.to(ANN, calls) == [], "staff reached an opted-out customer unprompted"
    assert room.to(STAFF, calls) == [], "a refusal was posted into the group"
    assert [p["reaction"][0]["emoji"] for n, p, _ in calls if n == "setMessageReaction"] == ["👎"]
    card = [p["text"] for n, p, _ in calls if n == "editMessageText"][-1]
    assert "Not sent: the customer opted out" in card
