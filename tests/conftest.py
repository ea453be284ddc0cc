"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import build_dispatcher
from bot.charts.worker import ChartWorker
from bot.conversation import Conversation, Signals
from storage.sqlite import SqliteRepo, open_sqlite
from telegram_emulator import BotAPIEmulator

from .test_manager import NOW, make_config


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteRepo]:
    """A fresh SQLite file with every migration (modules that need more define their own)."""
    repo = await open_sqlite(tmp_path / "repo.sqlite3")
    yield repo
    await repo.close()


@pytest.fixture(scope="session")
def charts() -> Iterator[ChartWorker]:
    """The chart worker of the test process, as the app owns one (its process starts with the
    first chart)."""
    worker = ChartWorker()
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def dispatcher(tmp_path_factory, charts: ChartWorker) -> Dispatcher:
    """The one dispatcher of the test process: aiogram attaches a module-level router to a
    single dispatcher, so handler tests share it and swap in their own dependencies."""
    config = make_config(tmp_path_factory.mktemp("dp"))
    # Each test wires its own (tests/wiring.py); these placeholders are never called.
    conversation = Conversation(Bot("1:placeholder"), None, config, lambda: NOW, Signals())  # type: ignore[arg-type]
    return build_dispatcher(config, None, lambda: NOW, conversation, charts=charts)  # type: ignore[arg-type]


class LocalSession(AiohttpSession):
    """aiogram's session without the 250 ms pause on close, which only TLS connections need."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """A fresh Bot API emulator on a free port (tests/e2e has its own, with the bot's token)."""
    emulator = BotAPIEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking HTTP to the emulator."""
    assert emulator.token is not None
    session = LocalSession(api=TelegramAPIServer.from_base(emulator.base_url))
    bot = Bot(emulator.token, session=session)
    yield bot
    await bot.session.close()
