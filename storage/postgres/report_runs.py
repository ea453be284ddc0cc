"""Scheduled reports' bookkeeping on PostgreSQL, as in storage/sqlite/report_runs.py.

What differs with several processes: a run's claim for a chat names the process that holds it
(`claimed_by`, this process's holder id, see cluster.py). The claim is the primary key insert;
a run claimed before and still unsent is claimed again only by its holder (a send that failed,
tried again), or once its holder's session is gone (a crash mid-send, retried on the next
start-up) or its lease has run out. So two processes that fire the same run at once send it to
each chat once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..timestamps import from_db, to_db
from .cluster import DEAD_HOLDER, LEASE_SECONDS
from .database import Database

_TAKEN_OVER = DEAD_HOLDER.format(column="report_runs.claimed_by")


class ReportRuns:
    """`report_runs`: a run claimed per chat before it is sent, marked when it was."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def last_report_end(self, job: str, before: datetime) -> datetime | None:
        """End of the latest period a report of `job` was sent for, up to `before`."""
        async with self._db.reading() as conn:
            value: str | None = await conn.fetchval(
                "SELECT max(period_end) FROM report_runs"
                " WHERE job = $1 AND sent_at IS NOT NULL AND period_end <= $2",
                job,
                to_db(before),
            )
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
        """True when this run's report still has to go to this chat and this process now
        holds the claim: one statement, so of two processes claiming at once one wins (the
        second waits for the first's row and re-checks it)."""
        written = await self._db.write(
            "INSERT INTO report_runs (job, fire_time, chat_id, period_start, period_end,"
            " claimed_at, claimed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (job, fire_time, chat_id) DO UPDATE SET"
            " claimed_at = excluded.claimed_at, claimed_by = excluded.claimed_by"
            " WHERE report_runs.sent_at IS NULL AND (report_runs.claimed_by = excluded.claimed_by"
            f" OR {_TAKEN_OVER} OR report_runs.claimed_at <= $8)",
            job,
            to_db(fire_time),
            chat_id,
            to_db(start),
            to_db(end),
            to_db(now),
            self._db.holder,
            to_db(now - timedelta(seconds=LEASE_SECONDS)),
        )
        return written == 1

    async def mark_report_sent(
        self, job: str, fire_time: datetime, chat_id: int, now: datetime
    ) -> None:
        await self._db.write(
            "UPDATE report_runs SET sent_at = $1"
            " WHERE job = $2 AND fire_time = $3 AND chat_id = $4",
            to_db(now),
            job,
            to_db(fire_time),
            chat_id,
        )

    async def report_sent(self, job: str, fire_time: datetime) -> bool:
        """Whether the run at `fire_time` reached at least one chat."""
        async with self._db.reading() as conn:
            found = await conn.fetchval(
                "SELECT 1 FROM report_runs"
                " WHERE job = $1 AND fire_time = $2 AND sent_at IS NOT NULL LIMIT 1",
                job,
                to_db(fire_time),
            )
        return found is not None
