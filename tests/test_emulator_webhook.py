"""The emulator's webhooks behave as Telegram's: info, 409 on getUpdates, retried ordered POSTs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiohttp import web
from aiohttp.test_utils import TestServer

from telegram_emulator import BotAPIEmulator

from .e2e.harness import wait_until

SECRET = "hook_Secret-1"


class Receiver:
    """A stand-in bot: answers the first `failures` POSTs with 500, then 200; keeps what came."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[str | None, dict[str, Any], int]] = []

    async def handle(self, request: web.Request) -> web.Response:
        status = 500 if self.failures > 0 else 200
        self.failures -= 1
        body = await request.json()
        self.received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body, status))
        return web.json_response({}, status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver(failures=2)
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    server = TestServer(app)
    await server.start_server()
    yield target, str(server.make_url("/hook"))
    await server.close()


async def test_webhook_info_is_truthful_and_polling_is_refused(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    emulator.user_message(42, "queued while nobody listens")
    url = "http://127.0.0.1:9/hook"  # nothing listens: deliveries fail and are retried
    await bot.set_webhook(url, secret_token=SECRET, allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.url == url and info.allowed_updates == ["message"]
    await wait_until(lambda: emulator.webhook and emulator.webhook.attempts, what="a delivery")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1, "an undelivered update is not counted as pending"
    assert info.last_error_message, "a failed delivery is not reported in getWebhookInfo"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert [u["message"]["text"] for u in await _poll(bot)] == ["queued while nobody listens"]


async def _poll(bot: Bot) -> list[dict[str, Any]]:
    updates = await bot.get_updates(timeout=0)
    return [u.model_dump(exclude_none=True) for u in updates]


async def test_updates_are_posted_in_order_with_the_secret_until_accepted(
    emulator: BotAPIEmulator, bot: Bot, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    emulator.user_message(42, "first")
    emulator.user_message(42, "second")
    await bot.set_webhook(url, secret_token=SECRET)
    await wait_until(lambda: emulator.pending_updates == [], what="both updates accepted")
    texts = [(body["message"]["text"], status) for _secret, body, status in target.received]
    assert texts == [("first", 500), ("first", 500), ("first", 200), ("second", 200)], (
        "Telegram retries an update until it is accepted, and only then sends the next"
    )
    assert {secret for secret, _body, _status in target.received} == {SECRET}
    emulator.user_message(42, "third")
    await wait_until(lambda: len(target.received) == 5, what="a new update delivered at once")
    assert target.received[-1][1]["message"]["text"] == "third"


async def test_set_webhook_refuses_a_bad_secret(bot: Bot) -> None:
    from aiogram.exceptions import TelegramBadRequest

    with pytest.raises(TelegramBadRequest, match="secret token"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces allowed")
