"""Benchmark: resident memory of the survey bot against a bare aiogram bot. Run by hand:

    python bench/memory.py               # 1,000 answers, then a manager's charts
    python bench/memory.py --presses 300

Both bots run as subprocesses against the project's Bot API emulator (bench/answers.py sets them
up). RSS (from /proc) is read when the bot is idle after start-up, after the answers, and, for the
survey bot, after a manager asked for /csat 30d, /csat 30d by product and /stats 30d (three charts
drawn) and the bot went idle again.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.answers import bare_bot, rss_mb, settle, survey_bot
from bench.common import machine, print_table, run_sized
from tests.e2e.harness import MANAGER, BotProcess

CHART_COMMANDS = ("/csat 30d", "/csat 30d by product", "/stats 30d")


async def charts_drawn(bot: BotProcess) -> float:
    """A manager asks for three charts; the RSS once the bot is idle again."""
    emulator = bot.emulator
    assert bot.proc is not None
    for command in CHART_COMMANDS:
        mark = len(emulator.calls)
        emulator.user_message(MANAGER, command)
        await emulator.wait_for_call("sendPhoto", chat_id=MANAGER, after=mark, timeout=60)
    await settle(bot.proc.pid, quiet=1.0)
    return rss_mb(bot.proc.pid)


async def main_async(presses: int) -> None:
    print(machine(), flush=True)
    bare = await bare_bot(presses)
    after_charts: list[float] = []

    async def after(bot: BotProcess) -> None:
        after_charts.append(await charts_drawn(bot))

    ours = await survey_bot(presses, after)
    print_table(
        ["bot", "after the answers", "after three charts"],
        [
            ["bare aiogram bot", f"{bare.rss:.0f} MB", "–"],
            ["survey-bot", f"{ours.rss:.0f} MB", f"{after_charts[0]:.0f} MB"],
        ],
    )
    print(
        f"memory: survey-bot {ours.rss:.0f} MB, {after_charts[0]:.0f} MB after charts;"
        f" bare {bare.rss:.0f} MB (+{after_charts[0] - bare.rss:.0f} MB)"
    )


if __name__ == "__main__":
    run_sized(main_async, __doc__, "--presses", 1000)
