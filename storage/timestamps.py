"""How times are stored: one textual form, so that string order is time order."""

from datetime import UTC, datetime
from typing import overload


def to_db(dt: datetime | None) -> str | None:
    # UTC with microseconds, always: comparisons and ORDER BY work on the text.
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


@overload
def from_db(text: str) -> datetime: ...
@overload
def from_db(text: None) -> None: ...
@overload
def from_db(text: str | None) -> datetime | None: ...
def from_db(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
