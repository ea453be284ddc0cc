"""Scheduled reports' bookkeeping: which run went to which chat, so each is sent once."""

from __future__ import annotations

from datetime import datetime

from ..timestamps import from_db, to_db
from .database import Database
from .rows import one_row


class ReportRuns:
    """`report_runs`: a run claimed per chat before it is sent, marked when it was."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def last_report_end(self, job: str, before: datetime) -> datetime | None:
        """End of the latest period a report of `job` was sent for, up to `before`."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT max(period_end) FROM report_runs"
                " WHERE job = ? AND sent_at IS NOT NULL AND period_end <= ?",
                (job, to_db(before)),
            )
            value: str | None = (await one_row(cursor))[0]
        return from_db(value)

    async def claim_report(
        self,
        job: str,
        fire_time: datetime,
        chat_id: int,
        start: datetime,
        end: datetime,
        now: datetime,
    ) -> bool:
        """True when this run's report still has to go to this chat (never sent before)."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO report_runs (job, fire_time, chat_id, period_start, period_end,"
                " claimed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (job, to_db(fire_time), chat_id, to_db(start), to_db(end), to_db(now)),
            )
            cursor = await db.execute(
                "SELECT sent_at FROM report_runs WHERE job = ? AND fire_time = ? AND chat_id = ?",
                (job, to_db(fire_time), chat_id),
            )
            (sent_at,) = await one_row(cursor)
        return sent_at is None

    async def mark_report_sent(
        self, job: str, fire_time: datetime, chat_id: int, now: datetime
    ) -> None:
        await self._db.write(
            "UPDATE report_runs SET sent_at = ? WHERE job = ? AND fire_time = ? AND chat_id = ?",
            (to_db(now), job, to_db(fire_time), chat_id),
        )

    async def report_sent(self, job: str, fire_time: datetime) -> bool:
        """Whether the run at `fire_time` reached at least one chat."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT 1 FROM report_runs WHERE job = ? AND fire_time = ? AND sent_at IS NOT NULL",
                (job, to_db(fire_time)),
            )
            return await cursor.fetchone() is not None
