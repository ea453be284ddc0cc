"""Telegram's flood limits: the emulator enforces them as Telegram does (rolling windows, 429),
and the bot's rate limiter stays under them without being refused, free or paid."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.telegram.ratelimit import RateLimiter
from telegram_emulator import BotAPIEmulator, FloodLimits

from .conftest import LocalSession


@pytest.fixture
async def limited() -> AsyncIterator[BotAPIEmulator]:
    emulator = BotAPIEmulator(limits=FloodLimits(group_per_minute=3, group_window=2.0))
    await emulator.start()
    emulator.add_group(-100500)
    yield emulator
    await emulator.stop()


async def raw_send(http: aiohttp.ClientSession, emulator: BotAPIEmulator, chat_id: int, **extra):
    url = f"{emulator.base_url}/bot{emulator.token}/sendMessage"
    async with http.post(url, json={"chat_id": chat_id, "text": "hi", **extra}) as response:
        return response.status, await response.json()


async def test_the_emulator_refuses_the_31st_message_within_a_second(limited) -> None:
    async with aiohttp.ClientSession() as http:
        answers = [await raw_send(http, limited, 1000 + i) for i in range(31)]
    assert [status for status, _ in answers[:30]] == [200] * 30
    status, body = answers[30]
    assert status == 429 and body["parameters"]["retry_after"] == 1, body
    assert not limited.messages(1030), "a refused message was delivered anyway"


async def test_paid_broadcast_sends_go_past_the_free_limit(limited) -> None:
    async with aiohttp.ClientSession() as http:
        answers = [
            await raw_send(http, limited, 2000 + i, allow_paid_broadcast=True) for i in range(80)
        ]
    assert {status for status, _ in answers} == {200}


async def test_a_group_gets_only_its_share_in_a_rolling_window(limited) -> None:
    async with aiohttp.ClientSession() as http:
        answers = [await raw_send(http, limited, -100500) for _ in range(4)]
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert 1 <= answers[3][1]["parameters"]["retry_after"] <= 2


def limited_bot(emulator: BotAPIEmulator, **limits: float) -> Bot:
    session = LocalSession(api=TelegramAPIServer.from_base(emulator.base_url))
    session.middleware(RateLimiter(**limits))  # type: ignore[arg-type]
    assert emulator.token is not None
    return Bot(emulator.token, session=session)


async def test_the_bot_sends_a_burst_at_the_limit_without_a_429(limited) -> None:
    bot = limited_bot(limited)
    try:
        await asyncio.gather(*(bot.send_message(3000 + i, "Q") for i in range(75)))
    finally:
        await bot.session.close()
    calls = limited.calls_of("sendMessage")
    assert len(calls) == 75
    assert not [c for c in calls if c.params.get("allow_paid_broadcast")], "paid without asking"
    assert limited.flood is not None and limited.flood.refused == 0, "Telegram answered 429"


async def test_paid_broadcast_pays_only_for_messages_above_the_free_rate(limited) -> None:
    bot = limited_bot(limited, paid_per_second=1000)
    try:
        await asyncio.gather(*(bot.send_message(4000 + i, "Q") for i in range(300)))
    finally:
        await bot.session.close()
    calls = limited.calls_of("sendMessage")
    assert len(calls) == 300 and all(c.response["ok"] for c in calls)
    assert limited.flood is not None and limited.flood.refused == 0
    paid = [c for c in calls if c.params.get("allow_paid_broadcast")]
    # The free pool kept sending its one message every 34 ms during the burst, unpaid; the shop
    # pays only for the rest.
    free = len(calls) - len(paid)
    assert 5 <= free <= 30, f"{free} of 300 went free"
    assert paid, "nothing was sent as a paid broadcast"


async def test_a_busy_group_is_paced_by_a_rolling_window_not_refused(limited) -> None:
    bot = limited_bot(limited, group_per_minute=3, group_window=2.0)
    try:
        for i in range(7):
            await bot.send_message(-100500, f"alert {i}")
    finally:
        await bot.session.close()
    assert [m["text"] for m in limited.messages(-100500)] == [f"alert {i}" for i in range(7)]
    assert limited.flood is not None and limited.flood.refused == 0
