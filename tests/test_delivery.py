"""The delivery worker against the emulator: an error send() does not interpret loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot

from bot.workers.delivery import DeliveryWorker
from storage.base import NewEvent
from storage.sqlite import SqliteRepo
from survey_flows.models import InvitationStatus
from telegram_emulator import BotAPIEmulator

from .test_manager import NOW, make_config

CUSTOMER = 5101


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteRepo]:
    repo = await SqliteRepo.open(tmp_path / "r.sqlite3")
    yield repo
    await repo.close()


@pytest.mark.parametrize(
    ("error_code", "raised"),
    [(401, "TelegramUnauthorizedError"), (404, "TelegramNotFound")],
)
async def test_an_unexpected_send_error_reschedules_the_prompt(
    tmp_path: Path,
    emulator: BotAPIEmulator,
    bot: Bot,
    repo: SqliteRepo,
    error_code: int,
    raised: str,
) -> None:
    clock = Clock(NOW)
    config = make_config(tmp_path)
    worker = DeliveryWorker(
        bot, repo, config.surveys, clock, expire_after=timedelta(days=3), min_gap=timedelta(0)
    )
    inv, _ = await repo.create_invitation(
        NewEvent("e1", "purchase", "csat", CUSTOMER, "Ann", "en", {}, NOW), NOW
    )
    # An answer send() turns into no result: aiogram raises, the worker's guard catches it.
    emulator.fail_next("sendMessage", error_code=error_code, chat_id=CUSTOMER)
    await worker.run_once()
    await worker.drain()

    assert emulator.last_bot_message(CUSTOMER) is None
    after = await repo.get_invitation(inv.id)
    assert after is not None
    assert not after.prompt_sent, "the prompt stayed claimed: the customer would never be asked"
    assert after.status is InvitationStatus.SCHEDULED
    assert after.note == f"internal error: {raised}"
    assert await repo.next_due_at() == NOW + timedelta(minutes=1)
    assert await repo.due_prompts(NOW + timedelta(seconds=59), 10) == []

    clock.now = NOW + timedelta(minutes=1)
    assert await worker.run_once() == 1
    await worker.drain()
    shown = emulator.last_bot_message(CUSTOMER)
    assert shown is not None, "the failure is gone but the customer never got the question"
    assert "reply_markup" in shown, "the question came without its score buttons"
    after = await repo.get_invitation(inv.id)
    assert after is not None and after.prompt_sent and after.status is InvitationStatus.ACTIVE
    assert after.message_id == shown["message_id"]
