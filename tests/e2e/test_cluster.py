"""Several bot processes on one PostgreSQL database, as a shop that outgrew one machine runs.

Two processes in webhook mode behind a round-robin balancer share the updates and the outbox;
one leads (the scheduler, sweepers, alerts) and another takes over when it is killed; a second
poller of one bot is told so in one line and exits, on PostgreSQL by the advisory lock, and
with two SQLite files by Telegram's own 409.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from .harness import ROOT, STAFF_CHAT, BotProcess, free_port, wait_until
from .test_survey_loop import CUSTOMER, answer_question, button_for, event, next_message

pytestmark = pytest.mark.backends("postgres")


class Balancer:
    """A load balancer in front of the bots' webhooks: each POST goes to the next bot."""

    def __init__(self) -> None:
        self.port = free_port()
        self.targets: list[str] = []
        self.served: dict[str, int] = {}
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        headers["Content-Type"] = "application/json"
        alive = list(self.targets)
        for _ in range(len(alive)):
            target = alive[next(self._next) % len(alive)]
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(target, data=body, headers=headers) as response,
                ):
                    self.served[target] = self.served.get(target, 0) + 1
                    return web.Response(status=response.status, body=await response.read())
            except aiohttp.ClientError:
                continue  # that bot is down: the next one takes it, as a balancer does
        return web.Response(status=502)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/telegram/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def balancer() -> AsyncIterator[Balancer]:
    lb = Balancer()
    await lb.start()
    yield lb
    await lb.stop()


def pair(emulator, tmp_path, url: str, balancer: Balancer) -> list[BotProcess]:
    bots = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        bot = BotProcess(emulator, folder, mode="webhook", storage_url=url, public_url=balancer.url)
        balancer.targets.append(f"{bot.api_url}/telegram/webhook")
        bots.append(bot)
    return bots


async def test_two_processes_behind_a_balancer_survey_each_customer_once(
    emulator, start_bot, bot_storage, balancer, tmp_path
):
    one, two = pair(emulator, tmp_path, bot_storage, balancer)
    await start_bot(reuse=one)
    await start_bot(reuse=two)
    customers = [CUSTOMER + i for i in range(12)]
    for i, customer in enumerate(customers):
        body = event(f"order-C-{i}")
        body["customer"] = {"telegram_id": customer, "name": f"C{i}", "language": "en"}
        status, reply = await (one if i % 2 else two).post_event(body)  # either API takes it
        assert status == 202, reply
    await wait_until(
        lambda: all(emulator.calls_of("sendMessage", chat_id=c) for c in customers),
        20,
        "every customer's first question",
    )
    for customer in customers:  # each presses 5; their presses reach either process
        (sent,) = emulator.calls_of("sendMessage", chat_id=customer)
        question = sent.response["result"]
        emulator.press_button(customer, question, button_for(question, 5)["callback_data"])
    await wait_until(lambda: len(bot_answers(one)) == len(customers), 20, "every press stored")
    await wait_until(
        lambda: all(len(emulator.calls_of("sendMessage", chat_id=c)) >= 2 for c in customers),
        20,
        "every customer's follow-up",
    )
    for customer in customers:
        sent = emulator.calls_of("sendMessage", chat_id=customer)
        assert len(sent) == 2, f"customer {customer} got {len(sent)} messages, not 2"
    assert sorted(r["customer_id"] for r in bot_answers(one)) == customers, "an answer twice"
    assert len(balancer.served) == 2, f"the balancer used only {balancer.served}"


def bot_answers(bot: BotProcess) -> list:
    return bot.query("SELECT customer_id, score FROM answers")


async def test_when_the_leader_is_killed_another_process_takes_over_its_alerts(
    emulator, start_bot, bot_storage, balancer, tmp_path
):
    one, two = pair(emulator, tmp_path, bot_storage, balancer)
    await start_bot(reuse=one)  # first up: it leads
    await start_bot(reuse=two)
    assert "this process leads" in one.output()
    assert "this process leads" not in two.output()
    await one.kill()
    balancer.targets.remove(f"{one.api_url}/telegram/webhook")
    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    await wait_until(lambda: "this process leads" in two.output(), 15, "the survivor to lead")
    taken_over = loop.time() - killed_at
    assert taken_over < 15, f"leadership taken over after {taken_over:.1f}s"
    # What only the leader does goes on: a detractor's alert reaches the staff chat.
    status, _ = await two.post_event(event("order-L-1"))
    assert status == 202
    question = await next_message(emulator, CUSTOMER, 0, timeout=15)
    mark = len(emulator.calls)
    await answer_question(emulator, CUSTOMER, question, 1)
    alert = await next_message(emulator, STAFF_CHAT, mark, timeout=15)
    assert "CSAT 1 of 5" in alert["text"], alert


async def test_a_second_poller_on_one_database_says_so_and_exits(
    emulator, start_bot, bot_storage, tmp_path
):
    first = await start_bot()
    second = BotProcess(emulator, tmp_path / "second", storage_url=bot_storage)
    (tmp_path / "second").mkdir()
    second.write_config()
    code, output = await exits(second)
    assert code == 2, output
    lines = [line for line in output.splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "already polls" in lines[0], output
    assert "Traceback" not in output, output
    assert first.proc is not None and first.proc.returncode is None, "the first poller died"


@pytest.mark.backends("sqlite")
async def test_a_second_poller_with_the_same_token_exits_on_telegram_409(
    emulator, start_bot, tmp_path
):
    first = await start_bot()  # a SQLite file of its own: only Telegram sees the two
    # The first has polled: a getUpdates of its came back (with a customer's /start).
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/start")
    await next_message(emulator, CUSTOMER, mark)
    await emulator.wait_for_call("getUpdates", after=mark, timeout=10)
    (tmp_path / "second").mkdir()
    second = BotProcess(emulator, tmp_path / "second")
    code, output = await exits(second)
    assert code == 2, output
    lines = [line for line in output.splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "409" in lines[0], output
    assert "Traceback" not in output, output
    assert first.proc is not None and first.proc.returncode is None, "the first poller died"
    # The first one goes on polling: a survey still reaches the customer.
    status, _ = await first.post_event(event("order-P-1"))
    assert status == 202
    await next_message(emulator, CUSTOMER, 0, timeout=15)


async def exits(bot: BotProcess, timeout: float = 30.0) -> tuple[int, str]:
    """Start `bot` without waiting for it to serve; its exit code and what it printed."""
    config = bot.write_config()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
    env["PYTHONPATH"] = str(ROOT)
    log = bot.workdir / "bot.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "--config", str(config)),
            *("--log-level", "WARNING"),
            cwd=bot.workdir,
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            text = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the second poller did not exit:\n{text}") from None
    return code, log.read_text(errors="replace")
