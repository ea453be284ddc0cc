"""What both backends' analytics share: which part of a period the daily totals can answer, the
export's page, and the alert figures computed from their rows."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .rows import Row
from .timestamps import from_db

EXPORT_PAGE = 5000


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC days inside [start, end): from the first midnight at or after `start` to
    the last midnight at or before `end`; None when there is no whole day."""
    first = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    last = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None


def alert_summary(rows: Sequence[Row], open_now: int) -> dict[str, Any]:
    """`alert_figures` from the alerts raised in its period (created_at, taken_at, resolved_at,
    recheck_solved, reopened_at) and the count open now."""
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
