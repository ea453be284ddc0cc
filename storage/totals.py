"""What both backends' analytics share: which part of a period the daily totals can answer, and
the export's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EXPORT_PAGE = 5000


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC days inside [start, end): from the first midnight at or after `start` to
    the last midnight at or before `end`; None when there is no whole day."""
    first = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    last = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None
