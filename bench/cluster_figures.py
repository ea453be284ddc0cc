"""What bench/cluster.py counts and prints: the sends the emulator accepted, what a kill took
away, and a scenario's figures as table rows."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

PAID_CEILING = 1000.0  # Telegram's paid broadcast: first questions a second at most


@dataclass
class Sends:
    """The emulator's accepted sendMessage calls to the bench's customers, as they are answered."""

    users: range
    times: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    firsts: list[float] = field(default_factory=list)  # each customer's first, in arrival order

    refused: dict[str, int] = field(default_factory=lambda: {"free": 0, "paid": 0})  # 429s

    def hear(self, kind: str, call: Any) -> None:
        if kind != "call" or call.method != "sendMessage":
            return
        if call.error_code == 429:
            self.refused["paid" if call.params.get("allow_paid_broadcast") else "free"] += 1
        if not call.ok:
            return
        chat = call.chat_id
        if chat in self.users:
            if not self.times[chat]:
                self.firsts.append(call.at)
            self.times[chat].append(call.at)

    def first_after(self, chat: int, moment: float) -> float | None:
        return next((t for t in self.times[chat] if t >= moment), None)


@dataclass
class Kill:
    """What one SIGKILL took away, and how long the others took to take over."""

    leader: bool
    at: float = 0.0
    in_flight: int = 0  # SENDING rows of its pid just before the kill
    left_sending: int = 0  # the same just after: sends it never recorded
    held: list[int] = field(default_factory=list)  # the chats of the rows it held
    claims_after: float | None = None
    leads_after: float | None = None


@dataclass(frozen=True)
class Figures:
    name: str
    processes: int
    customers: int
    seconds: float
    per_second: float
    refused: int
    refused_by_pool: dict[str, int]  # the 429s of sends from the free pool and the paid one
    twice: int
    lost: int
    lost_in_db: int
    kill: Kill | None
    cpu: dict[str, float]  # CPU seconds per part while sending
    window: float  # wall seconds of that

    def cpu_cells(self) -> list[str]:
        per_send = [f"{1000 * self.cpu[part] / self.customers:.2f}" for part in PARTS]
        busy = sum(self.cpu.values())
        return [self.name, *per_send, f"{busy / self.window:.2f} of {os.cpu_count()}"]

    def cells(self) -> list[str]:
        kill = self.kill
        return [
            self.name,
            f"{self.processes}",
            f"{self.per_second:.0f}/s ({self.seconds:.1f} s)",
            f"{self.per_second / PAID_CEILING:.2f}",
            f"{self.refused}",
            f"{self.twice}",
            f"{self.lost}",
            f"{kill.in_flight}" if kill else "-",
            seconds_text(kill.claims_after) if kill else "-",
            seconds_text(kill.leads_after) if kill and kill.leader else "-",
        ]


def seconds_text(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


PARTS = ["bots", "postgres", "bench", "others"]
CPU_COLUMNS = [
    "scenario",
    "bots ms/send",
    "PostgreSQL ms/send",
    "emulator+bench ms/send",
    "others ms/send",
    "cores busy",
]
COLUMNS = [
    "scenario",
    "processes",
    "sent/s (first to last)",
    "vs paid ceiling",
    "429s",
    "sent twice",
    "lost",
    "in flight at kill",
    "claims taken over after (s)",
    "leadership taken over after (s)",
]
