"""Benchmark: how fast the real bot sends first questions to many customers due at once, against
the project's Bot API emulator enforcing Telegram's flood limits. Run by hand:

    python bench/dispatch.py                  # 600 customers free, 3,000 with paid broadcast
    python bench/dispatch.py --free 300 --paid 0

The bot runs as a subprocess (`python -m bot run`, the end-to-end tests' BotProcess) with a
temporary SQLite file; the emulator runs in this process with `FloodLimits()` (30 a second in
any rolling second, 1,000 for sends with allow_paid_broadcast, ~1 a second per chat). The events
are posted in batches of 1,000, all due at the same moment a few seconds later.

Figures, from the emulator's record of calls: invitations a second between the first and the last
first question (and that over the ceiling), the 429s the emulator answered (and their share of all
sends), customers who got no question (lost) and customers who got it twice (duplicated).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, post_events, print_table, survey_bot_running
from telegram_emulator import FloodLimits
from tests.e2e.harness import wait_until

FIRST_USER = 8_000_001


@dataclass(frozen=True)
class Figures:
    name: str
    customers: int
    seconds: float
    per_second: float
    ceiling: float
    refused: int
    sends: int
    lost: int
    duplicated: int

    def cells(self) -> list[str]:
        share = 100 * self.refused / max(1, self.sends)
        return [
            self.name,
            f"{self.customers}",
            f"{self.seconds:.1f} s",
            f"{self.per_second:.1f}/s ({self.per_second / self.ceiling:.2f} of {self.ceiling:.0f})",
            f"{self.refused} ({share:.1f}%)",
            f"{self.lost}",
            f"{self.duplicated}",
        ]


def due_together(customers: int, tag: str) -> list[dict]:
    """Purchases due at one moment once all are posted: sending is measured apart from intake."""
    delay = 2 + customers // 400
    return [
        {
            "event_id": f"{tag}-{i}",
            "type": "purchase",
            "customer": {"telegram_id": FIRST_USER + i, "language": "en"},
            "delay_seconds": delay,
        }
        for i in range(customers)
    ]


async def scenario(name: str, customers: int, telegram_keys: str, ceiling: float) -> Figures:
    users = range(FIRST_USER, FIRST_USER + customers)
    async with survey_bot_running("dispatch-", telegram_keys, FloodLimits()) as bot:
        emulator = bot.emulator
        await post_events(bot, due_together(customers, name))

        def firsts() -> list:
            return [
                c
                for c in emulator.calls_of("sendMessage")
                if c.response.get("ok") and c.params.get("chat_id") in users
            ]

        await wait_until(lambda: len(firsts()) >= customers, 600, f"{customers} first questions")
        sent = firsts()
    times = sorted(c.at for c in sent)
    seconds = times[-1] - times[0]
    per_chat = Counter(c.params["chat_id"] for c in sent)
    assert emulator.flood is not None
    refused = emulator.flood.refused
    return Figures(
        name=name,
        customers=customers,
        seconds=seconds,
        per_second=(len(times) - 1) / seconds if seconds else float("inf"),
        ceiling=ceiling,
        refused=refused,
        sends=len(sent) + refused,
        lost=sum(1 for u in users if per_chat[u] == 0),
        duplicated=sum(1 for n in per_chat.values() if n > 1),
    )


async def main_async(args: argparse.Namespace) -> None:
    print(machine(), flush=True)
    results = []
    if args.free:
        results.append(await scenario("free", args.free, "", 30))
    if args.paid:
        results.append(await scenario("paid", args.paid, "paid_broadcast = true", 1000))
    columns = ["limit", "customers", "first to last", "invitations/s", "429s", "lost", "duplicated"]
    print_table(columns, [figures.cells() for figures in results])
    last = "; ".join(
        f"{f.name}: {f.per_second:.1f}/s, {f.refused} x 429, {f.lost} lost, {f.duplicated} dup"
        for f in results
    )
    print(f"dispatch: {last}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--free", type=int, default=600, help="customers at the free 30/s")
    parser.add_argument("--paid", type=int, default=3000, help="customers with paid broadcast")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
