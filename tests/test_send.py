"""send() against the emulator: each of Telegram's answers becomes the outcome its callers match."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot

from bot.telegram.send import (
    Blocked,
    Delivered,
    Migrated,
    Rejected,
    Transient,
    Unauthorized,
    send,
)
from telegram_emulator import BotAPIEmulator

CHAT = 5202


async def test_an_accepted_message_is_delivered(emulator: BotAPIEmulator, bot: Bot) -> None:
    sent = await send(bot, CHAT, "How was it?")
    assert isinstance(sent, Delivered), f"a message Telegram accepted came back as {sent}"
    shown = emulator.last_bot_message(CHAT)
    assert shown is not None and shown["message_id"] == sent.message.message_id


@pytest.mark.parametrize(
    ("failure", "outcome", "error"),
    [
        ({"error_code": 403}, Blocked, "Forbidden: bot was blocked by the user"),
        ({"error_code": 404}, Blocked, "Not Found"),
        ({"error_code": 400}, Blocked, "Bad Request: chat not found"),
        (
            {"error_code": 400, "description": "Bad Request: message text is empty"},
            Rejected,
            "Bad Request: message text is empty",
        ),
        ({"error_code": 401}, Unauthorized, "unauthorized: Unauthorized"),
        ({"error_code": 500}, Transient, "Internal Server Error"),
        ({"error_code": 429, "retry_after": 5}, Transient, "retry after 5"),
        ({"disconnect": True}, Transient, ""),
    ],
)
async def test_a_refusal_says_why(
    emulator: BotAPIEmulator, bot: Bot, failure: dict[str, Any], outcome: type, error: str
) -> None:
    # Without the RateLimiter on this session, a 429 or a network error reaches send() as is.
    emulator.fail_next("sendMessage", chat_id=CHAT, **failure)
    sent = await send(bot, CHAT, "How was it?")
    assert type(sent) is outcome, f"{failure} came back as {sent}"
    assert not isinstance(sent, Delivered)
    assert sent.error and error in sent.error, f"the reason logged and shown would be {sent}"


async def test_a_group_that_became_a_supergroup_names_it(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    emulator.fail_next("sendMessage", chat_id=-5202, migrate_to_chat_id=-1005202)
    sent = await send(bot, -5202, "Alert #1")
    assert isinstance(sent, Migrated), f"a migration came back as {sent}"
    assert sent.to_chat_id == -1005202, "the alert would go to the wrong chat"
    assert "upgraded to a supergroup" in sent.error, sent
