"""What a throwaway PostgreSQL cluster logged about slow statements and lock waits during a
bench (`log_min_duration_statement`, `log_lock_waits`), summed up per statement: where the
database's time went when several processes share it."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

_DURATION = re.compile(r"LOG:  duration: ([\d.]+) ms  (?:statement|execute [^:]*): (.*)")
_WAIT = re.compile(r"LOG:  process \d+ still waiting for (\w+) on (.*?) after [\d.]+ ms")
_CONTEXT = re.compile(r"CONTEXT:  (.*)")
_STATEMENT = re.compile(r"STATEMENT:  (.*)")


async def log_slow(server_url: str, slow_ms: int) -> None:
    """Log every statement slower than `slow_ms` and every lock waited on for longer than that
    (deadlock_timeout is when a wait is logged)."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"ALTER SYSTEM SET log_min_duration_statement = {slow_ms}")
        await conn.execute("ALTER SYSTEM SET log_lock_waits = on")
        await conn.execute(f"ALTER SYSTEM SET deadlock_timeout = '{slow_ms}ms'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def _head(sql: str, width: int = 70) -> str:
    return re.sub(r"\s+", " ", sql).strip()[:width]


@dataclass
class Slow:
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0


@dataclass
class Summary:
    statements: dict[str, Slow] = field(default_factory=lambda: defaultdict(Slow))
    waits: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def lines(self, top: int = 6) -> list[str]:
        out = []
        ranked = sorted(self.statements.items(), key=lambda kv: -kv[1].total_ms)
        for sql, slow in ranked[:top]:
            out.append(
                f"{slow.count} slow, {slow.total_ms / 1000:.1f} s in all, max {slow.max_ms:.0f} ms:"
                f" {sql}"
            )
        for what, n in sorted(self.waits.items(), key=lambda kv: -kv[1])[:top]:
            out.append(f"{n} lock waits: {what}")
        return out


def summarize(log: Path, start: int) -> tuple[Summary, int]:
    """The slow statements and lock waits logged from byte `start` on; and where the log ends."""
    summary = Summary()
    with log.open("rb") as file:
        file.seek(start)
        text = file.read().decode("utf-8", errors="replace")
        end = file.tell()
    wait: str | None = None
    context = ""
    for line in text.splitlines():
        line = line.strip()
        if found := _DURATION.search(line):
            slow = summary.statements[_head(found.group(2))]
            ms = float(found.group(1))
            slow.count += 1
            slow.total_ms += ms
            slow.max_ms = max(slow.max_ms, ms)
        elif found := _WAIT.search(line):
            wait, context = f"{found.group(1)} on {found.group(2).split()[0]}", ""
        elif wait is not None and (found := _CONTEXT.search(line)):
            context = f" ({_head(found.group(1), 60)})"
        elif wait is not None and (found := _STATEMENT.search(line)):
            summary.waits[f"{wait}{context} in {_head(found.group(1), 60)}"] += 1
            wait = None
    return summary, end
