"""Customer handlers through the real dispatcher: forged or foreign button presses."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.workers.delivery import DeliveryWorker
from storage.records import NewEvent
from storage.sqlite import open_sqlite

from . import updates
from .test_manager import NOW, RecordingSession, make_config
from .updates import person
from .wiring import wire

OWNER, FORGER = 5001, 5002
_ids = itertools.count(10_000)


@pytest.fixture
async def setup(tmp_path: Path, dispatcher):
    config = make_config(tmp_path)
    repo = await open_sqlite(config.storage.path)
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    worker = DeliveryWorker(bot, repo, config.surveys, lambda: NOW, expire_after=timedelta(days=3))
    wire(dispatcher, bot, repo, config, lambda: NOW, delivery=worker)
    yield dispatcher, repo, bot, session, worker
    await repo.close()


def press(user_id: int, chat_id: int, data: str) -> Update:
    return updates.press(person(user_id), data, NOW, chat_id=chat_id)


async def test_forged_callback_cannot_answer_someone_elses_survey(setup):
    dp, repo, bot, session, worker = setup
    inv, _ = await repo.invitations.create_invitation(
        NewEvent("e1", "purchase", "csat", OWNER, "Ann", "en", {}, NOW), NOW
    )
    await worker.run_once()
    await worker.drain()
    assert session.sent(OWNER), "the owner never got the question"

    # The forger crafts the owner's callback data in their own chat.
    await dp.feed_update(bot, press(FORGER, FORGER, f"s:{inv.id}:0:1"))
    answers = [p for name, p, _ in session.calls if name == "answerCallbackQuery"]
    assert answers and "not meant for you" in answers[-1]["text"]
    assert await repo.conversation.answers_for(inv.id) == [], "a forged press stored an answer"

    # Garbage and out-of-range data are refused politely, never crash.
    for data in (f"s:{inv.id}:0:99", f"s:{inv.id}:7:1", "s:999999:0:1"):
        await dp.feed_update(bot, press(OWNER, OWNER, data))
        answers = [p for name, p, _ in session.calls if name == "answerCallbackQuery"]
        assert "no longer works" in answers[-1]["text"], data
    assert await repo.conversation.answers_for(inv.id) == []

    await dp.feed_update(bot, press(OWNER, OWNER, f"s:{inv.id}:0:4"))
    stored = await repo.conversation.answers_for(inv.id)
    assert [(a.score, a.category.value) for a in stored] == [(4, "promoter")]
