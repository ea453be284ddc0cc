"""Benchmark: CPU per answered score, the survey bot against a bare aiogram bot. Run by hand:

    python bench/answers.py                 # 1,000 presses each
    python bench/answers.py --presses 300

Both bots run as subprocesses against the project's Bot API emulator (in this process, limits
off: this measures CPU, not pacing). A press costs the same three Bot API calls in both:
answerCallbackQuery, editMessageText (the question shows the choice), sendMessage (the follow-up).
The survey bot also validates the press against its invitation, commits the answer to SQLite and
runs its delivery worker; the bare bot (bench/bare_bot.py) does nothing but the three calls.

The figure is the process's user + system CPU time (from /proc) between the moment every
question is on screen and the moment every follow-up was sent, divided by the presses.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, post_events, print_table, run_sized, survey_bot_running
from telegram_emulator import BotAPIEmulator
from tests.e2e.harness import BOT_TOKEN, ROOT, BotProcess, wait_until

FIRST_USER = 9_000_001
TICK = os.sysconf("SC_CLK_TCK")
PRODUCTS = ("Kettle", "Toaster", "Iron")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def settle(pid: int, quiet: float = 0.5) -> None:
    """Wait until the process has used no more than 2% CPU for `quiet` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(quiet)
        if cpu_seconds(pid) - before <= 0.02 * quiet + 1 / TICK:
            return


@dataclass(frozen=True)
class Run:
    name: str
    presses: int
    cpu: float  # seconds, over all presses
    wall: float
    rss: float  # MB after the presses

    @property
    def per_press_ms(self) -> float:
        return 1000 * self.cpu / self.presses

    def cells(self) -> list[str]:
        return [
            self.name,
            f"{self.presses}",
            f"{self.per_press_ms:.2f} ms",
            f"{self.wall:.1f} s",
            f"{self.rss:.0f} MB",
        ]


async def press_all(
    emulator: BotAPIEmulator, questions: dict[int, dict], pid: int, name: str
) -> Run:
    """Press 5 on every question, wait for every follow-up; CPU of `pid` meanwhile."""
    await settle(pid)
    mark = len(emulator.calls)
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    for user, message in questions.items():
        data = next(
            b["callback_data"]
            for row in message["reply_markup"]["inline_keyboard"]
            for b in row
            if b["text"].startswith("5") or b["text"].endswith("5")
        )
        emulator.press_button(user, message, data)

    def followups() -> int:
        return sum(1 for c in emulator.calls[mark:] if c.method == "sendMessage")

    await wait_until(lambda: followups() >= len(questions), 300, "every follow-up")
    wall = time.monotonic() - start
    cpu = cpu_seconds(pid) - start_cpu
    return Run(name, len(questions), cpu, wall, rss_mb(pid))


async def survey_bot(presses: int, after: Callable[[BotProcess], Awaitable[None]] | None = None):
    async with survey_bot_running("answers-", "rate_limit = 100000") as bot:
        emulator = bot.emulator
        users = list(range(FIRST_USER, FIRST_USER + presses))
        events = [
            {
                "event_id": f"a-{u}",
                "type": "purchase",
                "customer": {"telegram_id": u, "language": "en"},
                "context": {"product": PRODUCTS[u % len(PRODUCTS)]},
            }
            for u in users
        ]
        await post_events(bot, events)
        await wait_until(
            lambda: len(emulator.calls_of("sendMessage")) >= presses, 300, "every question"
        )
        questions = {u: emulator.messages(u)[-1] for u in users}
        assert bot.proc is not None
        run = await press_all(emulator, questions, bot.proc.pid, "survey-bot")
        if after is not None:
            await after(bot)
        return run


async def bare_bot(presses: int) -> Run:
    emulator = BotAPIEmulator(BOT_TOKEN)
    base_url = await emulator.start()
    users = list(range(FIRST_USER, FIRST_USER + presses))
    # The questions, sent as the bot would, with the survey bot's CSAT keyboard.
    async with aiohttp.ClientSession() as http:
        for user in users:
            keyboard = [[{"text": f"{v}", "callback_data": f"s:{user}:0:{v}"} for v in range(1, 6)]]
            async with http.post(
                f"{base_url}/bot{BOT_TOKEN}/sendMessage",
                json={
                    "chat_id": user,
                    "text": "How satisfied are you?",
                    "reply_markup": {"inline_keyboard": keyboard},
                },
            ) as response:
                assert response.status == 200
    questions = {u: emulator.messages(u)[-1] for u in users}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "bare_bot.py"),
        base_url,
        BOT_TOKEN,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await emulator.wait_for_poll(timeout=30)
        return await press_all(emulator, questions, proc.pid, "bare aiogram bot")
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await emulator.stop()


async def main_async(presses: int) -> None:
    print(machine(), flush=True)
    bare = await bare_bot(presses)
    ours = await survey_bot(presses)
    print_table(
        ["bot", "presses", "CPU per answer", "wall", "RSS after"],
        [run.cells() for run in (bare, ours)],
    )
    ratio = ours.per_press_ms / bare.per_press_ms
    print(
        f"answers: survey-bot {ours.per_press_ms:.2f} ms vs bare {bare.per_press_ms:.2f} ms"
        f" CPU per answer ({ratio:.1f}x)"
    )


if __name__ == "__main__":
    run_sized(main_async, __doc__, "--presses", 1000)
