"""Alert figures for managers (/stats and the report): a mixin of SqliteRepo."""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .rows import one_row
from .timestamps import from_db, to_db

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import aiosqlite


class AlertFigures:
    if TYPE_CHECKING:

        def reading(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def alert_figures(self, since: datetime, until: datetime) -> dict[str, Any]:
        """Alerts raised in [since, until): counts, median times, share rechecked as solved."""
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT created_at, taken_at, resolved_at, recheck_solved, reopened_at FROM alerts"
                " WHERE created_at >= ? AND created_at < ?",
                (to_db(since), to_db(until)),
            )
            rows = list(await cursor.fetchall())
            cursor = await db.execute("SELECT count(*) FROM alerts WHERE status != 'resolved'")
            open_now = (await one_row(cursor))[0]
        take = [
            (from_db(r["taken_at"]) - from_db(r["created_at"])).total_seconds()
            for r in rows
            if r["taken_at"]
        ]
        resolve = [
            (from_db(r["resolved_at"]) - from_db(r["created_at"])).total_seconds()
            for r in rows
            if r["resolved_at"]
        ]
        rechecked = [r["recheck_solved"] for r in rows if r["recheck_solved"] is not None]
        reopened = sum(1 for r in rows if r["reopened_at"])
        closed_once = sum(1 for r in rows if r["resolved_at"] or r["reopened_at"])
        return {
            "raised": len(rows),
            "open_count": open_now,
            "median_time_to_take": timedelta(seconds=statistics.median(take)) if take else None,
            "median_time_to_resolve": (
                timedelta(seconds=statistics.median(resolve)) if resolve else None
            ),
            "rechecked_solved_share": sum(rechecked) / len(rechecked) if rechecked else None,
            # Of the alerts resolved at least once, those that came back (customer said "not
            # solved", or answered low again).
            "reopened": reopened,
            "reopened_share": reopened / closed_once if closed_once else None,
        }

    async def reason_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Alerts resolved in [since, until), by the reason staff picked ("" for none)."""
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT coalesce(reason, ''), count(*) FROM alerts"
                " WHERE resolved_at >= ? AND resolved_at < ? GROUP BY 1 ORDER BY 2 DESC, 1",
                (to_db(since), to_db(until)),
            )
            return {reason: n for reason, n in await cursor.fetchall()}

    async def reasons_bucketed(self, edges: list[datetime]) -> list[dict[str, int]]:
        """Per bucket [edges[i], edges[i+1]): alerts resolved, by reason."""
        out: list[dict[str, int]] = [{} for _ in edges[1:]]
        async with self.reading() as db:
            for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
                cursor = await db.execute(
                    "SELECT coalesce(reason, ''), count(*) FROM alerts"
                    " WHERE resolved_at >= ? AND resolved_at < ? GROUP BY 1",
                    (to_db(lo), to_db(hi)),
                )
                out[i] = {reason: n for reason, n in await cursor.fetchall()}
        return out
