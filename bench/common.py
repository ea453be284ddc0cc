"""What the benchmarks share: the machine line, a one-number command line, the bot on a fresh
emulator and the intake's batch posting."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from telegram_emulator import BotAPIEmulator, FloodLimits
from tests.e2e.harness import API_TOKEN, BOT_TOKEN, BotProcess

# Every purchase is surveyed at once, however recently the customer was asked.
PURCHASE_AT_ONCE = """
[triggers.purchase]
survey = "csat"
delay = "0s"

[throttle]
recontact = "0s"
"""
BATCH = 1000  # events a POST /api/v1/events:batch carries


def machine(*details: str) -> str:
    """The line a benchmark prints first, so its figures say what they ran on."""
    parts = [f"{os.cpu_count()} cores", f"Python {platform.python_version()}", *details]
    return f"machine: {', '.join(parts)}, {platform.system()} {platform.machine()}"


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """The figures as a Markdown table, the way the README shows them."""
    print(f"| {' | '.join(columns)} |")
    print("|" + "---|" * len(columns))
    for cells in rows:
        print(f"| {' | '.join(cells)} |")


def run_sized(main_async: Callable[[int], Awaitable[None]], doc: str, option: str, default: int):
    """Run a benchmark whose one option is its size, e.g. `--presses 300`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(option, type=int, default=default)
    asyncio.run(main_async(getattr(parser.parse_args(), option.lstrip("-"))))


@asynccontextmanager
async def survey_bot_running(
    prefix: str, telegram_keys: str, limits: FloodLimits | None = None
) -> AsyncIterator[BotProcess]:
    """The real bot as a subprocess on a fresh emulator and temporary folder, all gone after."""
    emulator = BotAPIEmulator(BOT_TOKEN, limits=limits)
    await emulator.start()
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    bot = BotProcess(emulator, tmp, PURCHASE_AT_ONCE, telegram_keys=telegram_keys, log_level="INFO")
    try:
        await bot.start()
        yield bot
    finally:
        await bot.stop()
        await emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def post_events(bot: BotProcess, events: list[dict[str, Any]]) -> None:
    """Post the events to the bot's intake in batches; every one must be accepted."""
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with aiohttp.ClientSession() as http:
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            url = f"{bot.api_url}/api/v1/events:batch"
            async with http.post(url, json={"events": batch}, headers=headers) as response:
                answer = await response.json()
                assert response.status == 200, answer
                assert answer["accepted"] == len(batch), answer
