"""Several bot processes on one database: the Protocol both backends give the app."""

from __future__ import annotations

from typing import Protocol


class ClusterRepo(Protocol):
    """Several processes on one database (PostgreSQL): who leads, who polls. On SQLite there is
    one process, which always leads and polls (`shared` is false)."""

    shared: bool

    async def try_lead(self) -> bool:
        """Become, or stay, the one process that runs the scheduler, campaigns and sweepers;
        held until this process ends, then the next caller gets it."""
        ...

    async def try_poll(self, bot_id: int) -> bool:
        """Become the one process polling Telegram for `bot_id`: false if another does."""
        ...

    async def processes(self) -> int:
        """How many bot processes share this database (at least this one)."""
        ...
