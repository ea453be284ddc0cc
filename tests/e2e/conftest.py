from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from telegram_emulator import BotAPIEmulator

from .. import backends
from .harness import BOT_TOKEN, BotProcess


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    emu = BotAPIEmulator(BOT_TOKEN)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def bot_storage(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The bots' database: None for a SQLite file of their own, or a fresh PostgreSQL
    database's url (for tests marked to run on both backends)."""
    if backend == "sqlite":
        yield None
        return
    url = backends.new_database(request.getfixturevalue("postgres_server"))
    yield url
    backends.drop_database(url)


@pytest.fixture
async def start_bot(emulator, tmp_path, bot_storage) -> AsyncIterator[Callable]:
    started: list[BotProcess] = []

    async def start(extra_config: str = "", *, reuse: BotProcess | None = None) -> BotProcess:
        bot = reuse or BotProcess(emulator, tmp_path, extra_config, storage_url=bot_storage)
        if bot.storage_url is None:  # a test's own BotProcess runs on the test's backend too
            bot.storage_url = bot_storage
        await bot.start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        await bot.stop()
    # Shown by pytest only when the test failed: what the bot itself logged.
    for bot in {id(b): b for b in started}.values():
        print(f"--- bot log ({bot.workdir}) ---\n{bot.output()}")
