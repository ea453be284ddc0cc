"""Runs the real bot process against the project's Bot API emulator, for end-to-end tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from telegram_emulator import BotAPIEmulator

BOT_TOKEN = "123456:TEST-token"
API_TOKEN = "test-api-token-0123456789"
STAFF_CHAT = -100777
MANAGER = 900001
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Wait for a condition to hold, checking it every 20 ms; fail with `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.02)


@dataclass
class BotProcess:
    """One `python -m bot run` process with its own config, database and intake port."""

    emulator: BotAPIEmulator
    workdir: Path
    extra_config: str = ""
    api_port: int = field(default_factory=free_port)
    mode: str = "polling"  # "webhook": Telegram (the emulator) POSTs updates to the bot
    telegram_keys: str = ""  # more [telegram] keys, e.g. paid_broadcast = true
    log_level: str = "DEBUG"  # benchmarks use the production default, INFO
    webhook_secret: str = "test_webhook-Secret_0123"
    # A PostgreSQL database's url ([storage] url), or None for the SQLite file in workdir.
    storage_url: str | None = None
    # The webhook address given to Telegram, when it is not this process's own (a proxy's).
    public_url: str | None = None
    proc: asyncio.subprocess.Process | None = None

    @property
    def db_path(self) -> Path:
        return self.workdir / "data" / "bot.sqlite3"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def webhook_url(self) -> str:
        return self.public_url or f"{self.api_url}/telegram/webhook"

    def _storage(self) -> str:
        if self.storage_url is not None:
            return f'url = "{self.storage_url}"'
        return 'path = "data/bot.sqlite3"'

    def _webhook_keys(self) -> str:
        if self.mode == "polling":
            return ""
        return (
            f'mode = "{self.mode}"\nwebhook_url = "{self.webhook_url}"\n'
            f'webhook_secret = "{self.webhook_secret}"'
        )

    def write_config(self) -> Path:
        path = self.workdir / "config.toml"
        path.write_text(
            f"""
[telegram]
token = "{BOT_TOKEN}"
api_base = "{self.emulator.base_url}"
staff_chat_id = {STAFF_CHAT}
manager_ids = [{MANAGER}]
{self._webhook_keys()}
{self.telegram_keys}

[storage]
{self._storage()}

[api]
host = "127.0.0.1"
port = {self.api_port}
token = "{API_TOKEN}"
{self.extra_config}
""",
            encoding="utf-8",
        )
        return path

    async def start(self) -> None:
        config = self.write_config()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
        env["PYTHONPATH"] = str(ROOT)
        self.log = open(self.workdir / "bot.log", "ab")  # noqa: SIM115
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            "--log-level",
            self.log_level,
            cwd=self.workdir,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        mark = len(self.emulator.calls)
        await wait_until(self._healthy, 20, "the bot's intake API to answer /api/v1/health")
        if self.mode == "webhook":
            await self.emulator.wait_for_call("setWebhook", after=mark, timeout=20)
        else:
            await self._listening(mark)

    async def _listening(self, mark: int) -> None:
        """The bot asks for updates: a long poll waits here, or (with a backlog of unconfirmed
        updates, which the bot confirms only once handled) a getUpdates call came back."""
        waiting = asyncio.ensure_future(self.emulator.wait_for_poll(timeout=20))
        called = asyncio.ensure_future(
            self.emulator.wait_for_call("getUpdates", after=mark, timeout=20)
        )
        done, pending = await asyncio.wait({waiting, called}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a timeout of the first to finish means neither came

    async def _healthy(self) -> bool:
        if self.proc is not None and self.proc.returncode is not None:
            raise AssertionError(f"bot exited with {self.proc.returncode}:\n{self.output()}")
        try:
            async with (
                aiohttp.ClientSession() as s,
                s.get(f"{self.api_url}/api/v1/health") as r,
            ):
                return r.status == 200
        except aiohttp.ClientError:
            return False

    def output(self) -> str:
        path = self.workdir / "bot.log"
        return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        self.log.close()

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if not self.log.closed:
            self.log.close()

    async def post_event(self, body: Any, token: str = API_TOKEN) -> tuple[int, dict]:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                f"{self.api_url}/api/v1/events",
                data=data,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ) as r,
        ):
            return r.status, await r.json()

    def query(self, sql: str, params: tuple = ()) -> list[Any]:
        """Rows of a raw query (SQLite's `?` placeholders) on the bot's database, either
        backend; rows are read by column name or position."""
        if self.storage_url is not None:
            return postgres_query(self.storage_url, sql, params)
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


def postgres_query(url: str, sql: str, params: tuple = ()) -> list[Any]:
    """A query on PostgreSQL from synchronous test code: asyncpg on a thread of its own (the
    test's event loop is busy running the test)."""
    import asyncpg

    numbers = itertools.count(1)
    statement = re.sub(r"\?", lambda _: f"${next(numbers)}", sql)

    async def run() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(statement, *params))
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
