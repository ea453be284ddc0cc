"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import build_dispatcher
from bot.charts.worker import ChartWorker
from bot.conversation import Conversation, Signals
from storage.base import SurveyRepo
from storage.open import open_storage
from telegram_emulator import BotAPIEmulator

from . import backends
from .test_manager import NOW, make_config

OpenBackend = Callable[..., Awaitable[SurveyRepo]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): the storage backends a test runs on (default: sqlite)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend", marker.args if marker else ("sqlite",))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the run (SURVEY_BOT_TEST_POSTGRES, or a throwaway cluster),
    with the migrated template each test's database is copied from."""
    for url in backends.server():
        backends.make_template(url)
        yield url


@pytest.fixture
def storage_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Where this test's fresh database is: a SQLite path, or a PostgreSQL url."""
    if backend == "sqlite":
        yield tmp_path / "repo.sqlite3"
        return
    url = backends.new_database(request.getfixturevalue("postgres_server"))
    yield url
    backends.drop_database(url)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for a test that is about PostgreSQL alone."""
    url = backends.new_database(postgres_server)
    yield url
    backends.drop_database(url)


@pytest.fixture
def open_backend(storage_target: Any) -> OpenBackend:
    """Opens (again: a restart) this test's database, with the given `recontact`."""
    return lambda **rules: open_storage(storage_target, **rules)


@pytest.fixture
async def repo(open_backend: OpenBackend) -> AsyncIterator[SurveyRepo]:
    """A fresh database with every migration, on the test's backend."""
    repo = await open_backend()
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
