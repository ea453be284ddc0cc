"""How times are stored: one textual form, so that string order is time order."""

from datetime import UTC, datetime


def to_db(dt: datetime | None) -> str | None:
    # UTC with microseconds, always: comparisons and ORDER BY work on the text.
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
