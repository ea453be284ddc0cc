"""What a manager's command arguments mean: a period, context filters and a `by <field>` split.

Pure time maths, no I/O. Every period is a half-open interval [start, end) of timezone-aware
datetimes; calendar words (today, week, month, quarter) and dates are read in the reports'
timezone, and storage receives the same instants converted to UTC.

    7d 30d 90d 12w 6m       the last N days / weeks / calendar months, up to now
    2026-01-01..2026-03-31  whole days, both ends included
    today week month quarter  from the start of the current calendar unit up to now
    product=Kettle          only answers whose event context has this value (several: all must hold)
    by agent                one figure per value of a context field
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from .errors import SurveyError

DEFAULT_PERIOD = "30d"
MAX_SPAN = timedelta(days=3 * 366)  # a longer period is almost surely a typo
# Said with every too-long period so the manager knows what to type instead.
LONGEST = f"the longest allowed is {MAX_SPAN.days}d, 156w or 36m"
DAILY_UP_TO = timedelta(days=45)  # longer periods are drawn in weekly buckets
HOURLY_UP_TO = timedelta(days=2)  # shorter spans of data are drawn hour by hour

_RELATIVE = re.compile(r"(\d+)([dwm])")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_CALENDAR = ("today", "week", "month", "quarter")


class BadArguments(SurveyError):
    """The command's arguments cannot be understood; the message says which one and why."""


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"

    @property
    def step(self) -> timedelta:
        return {"hour": timedelta(hours=1), "day": timedelta(days=1)}.get(self, timedelta(days=7))


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    label: str  # as the manager typed it, or the default ("30d")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one (what changes are measured to)."""
        return Period(self.start - self.length, self.start, f"before {self.label}")


@dataclass(frozen=True, slots=True)
class Selection:
    """Everything a stats command was asked for."""

    period: Period
    filters: tuple[tuple[str, str], ...] = ()
    by: str | None = None


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _months_back(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (day clamped to month end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    days_in_month = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month))


def _too_long(text: str) -> BadArguments:
    return BadArguments(f"period {text!r} is longer than 3 years: {LONGEST}")


def _relative_start(text: str, count: int, unit: str, local_now: datetime) -> datetime:
    """The start of "the last `count` days / weeks / months" (7d, 12w, 6m)."""
    if count == 0:
        raise BadArguments(f"period {text!r} is empty: use at least 1{unit}")
    try:
        if unit == "m":
            return _months_back(local_now, count)
        return local_now - timedelta(days=count * (7 if unit == "w" else 1))
    except (OverflowError, ValueError):  # before year 1: far past any allowed span
        raise _too_long(text) from None


def _range_period(text: str, first_iso: str, last_iso: str, tz: tzinfo) -> Period:
    """Whole days from `first_iso` to `last_iso`, both included (2026-01-01..2026-03-31)."""
    try:
        first, last = date.fromisoformat(first_iso), date.fromisoformat(last_iso)
    except ValueError:
        raise BadArguments(f"period {text!r}: not a real date") from None
    if last < first:
        raise BadArguments(f"period {text!r}: the end date is before the start date")
    start, end = _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
    if end - start > MAX_SPAN:
        raise _too_long(text)
    return Period(start.astimezone(UTC), end.astimezone(UTC), text.strip().lower())


def _calendar_first_day(word: str, today: date) -> date:
    """The first day of the current calendar unit `word` (one of _CALENDAR)."""
    if word == "week":
        return today - timedelta(days=today.weekday())
    if word == "month":
        return today.replace(day=1)
    if word == "quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return today


def parse_period(text: str, now: datetime, tz: tzinfo = UTC) -> Period:
    """One period word -> Period; raises BadArguments naming the word."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz)
    word = text.strip().lower()
    if m := _RELATIVE.fullmatch(word):
        start = _relative_start(text, int(m.group(1)), m.group(2), local_now)
    elif m := _RANGE.fullmatch(word):
        return _range_period(text, m.group(1), m.group(2), tz)
    elif word in _CALENDAR:
        start = _midnight(_calendar_first_day(word, local_now.date()), tz)
    else:
        raise BadArguments(
            f"unknown period {text!r}: use 7d, 30d, 12w, 6m, today, week, month, quarter"
            " or 2026-01-01..2026-03-31"
        )
    if local_now - start > MAX_SPAN:
        raise _too_long(text)
    return Period(start.astimezone(UTC), now.astimezone(UTC), word)


def _is_period_word(word: str) -> bool:
    low = word.lower()
    return bool(_RELATIVE.fullmatch(low) or _RANGE.fullmatch(low) or low in _CALENDAR)


def _split_words(args: str | None) -> list[str]:
    try:
        return shlex.split(args or "")
    except ValueError:
        raise BadArguments('unbalanced quotes: write product="Big kettle"') from None


def _read_by(field: str | None, earlier: str | None, allowed: bool) -> str:
    """The field of `by <field>`; `field` is the word after "by" (None: there is none)."""
    if not allowed:
        raise BadArguments("'by' is not available for this command")
    if earlier is not None:
        raise BadArguments("only one 'by <field>' at a time")
    if field is None:
        raise BadArguments("'by' needs a field name, like: by agent")
    if not _KEY.fullmatch(field):
        raise BadArguments(f"field name {field!r} may only hold letters, digits, _ . -")
    return field


def _read_filter(word: str, earlier: dict[str, str], allowed: bool) -> tuple[str, str]:
    """`key=value` -> (key, value), checked against the filters read before it."""
    if not allowed:
        raise BadArguments(f"filters like {word!r} are not available for this command")
    key, _, value = word.partition("=")
    if not _KEY.fullmatch(key):
        raise BadArguments(f"filter {word!r}: the field name must be like product or agent")
    if not value:
        raise BadArguments(f"filter {word!r} has no value, like {key}=Kettle")
    if key in earlier:
        raise BadArguments(f"filter on {key!r} given twice")
    return key, value


def parse_selection(
    args: str | None,
    now: datetime,
    tz: tzinfo = UTC,
    *,
    default_period: str = DEFAULT_PERIOD,
    allow_by: bool = True,
    allow_filters: bool = True,
) -> Selection:
    """The text after a command -> Selection. Raises BadArguments naming what is wrong."""
    period: Period | None = None
    filters: dict[str, str] = {}
    by: str | None = None
    words = iter(_split_words(args))
    for word in words:
        if word.lower() == "by":
            by = _read_by(next(words, None), by, allow_by)
        elif "=" in word:
            key, value = _read_filter(word, filters, allow_filters)
            filters[key] = value
        elif _is_period_word(word):
            if period is not None:
                raise BadArguments(f"two periods given: {period.label!r} and {word!r}")
            period = parse_period(word, now, tz)
        else:
            raise BadArguments(f"cannot understand {word!r}")
    if by is not None and by in filters:
        raise BadArguments(f"'by {by}' with a filter on {by} leaves a single group")
    if period is None:
        period = parse_period(default_period, now, tz)
    return Selection(period, tuple(sorted(filters.items())), by)


def bucket_for(period: Period) -> Bucket:
    """Hourly points up to two days, daily up to about six weeks, weekly beyond."""
    if period.length <= HOURLY_UP_TO:
        return Bucket.HOUR
    return Bucket.DAY if period.length <= DAILY_UP_TO else Bucket.WEEK


def shown_span(period: Period, first: datetime | None, tz: tzinfo = UTC) -> Period:
    """The part of `period` a trend chart draws: from the local midnight before the first
    answer (or the hour before it, when the data spans under two days) to the period's end.

    One day of answers in a 30-day period is then 24 hourly points, not one lone dot on an
    empty 30-day axis. No answers: the whole period.
    """
    if first is None or first <= period.start:
        return period
    if period.end - first <= HOURLY_UP_TO:
        start = first.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    else:
        start = _midnight(first.astimezone(tz).date(), tz)
    return Period(max(period.start, start.astimezone(UTC)), period.end, period.label)


def bucket_edges(period: Period, bucket: Bucket, tz: tzinfo = UTC) -> list[datetime]:
    """Bucket boundaries in UTC: the period's start, every local hour, midnight (or Monday)
    inside it, and its end. N edges make N - 1 buckets; the first and last may be partial."""
    if period.end <= period.start:
        return [period.start, period.end]
    if bucket is Bucket.HOUR:
        # Whole UTC hours are whole local hours in every zone with whole-hour offsets.
        edge = period.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        edges = [period.start]
        while (edge := edge + timedelta(hours=1)) < period.end:
            edges.append(edge)
        edges.append(period.end)
        return edges
    local_start = period.start.astimezone(tz)
    day = local_start.date()
    if bucket is Bucket.WEEK:
        day -= timedelta(days=day.weekday())
    step = timedelta(days=1 if bucket is Bucket.DAY else 7)
    edges = [period.start]
    day += step
    while (edge := _midnight(day, tz).astimezone(UTC)) < period.end:
        if edge > edges[-1]:
            edges.append(edge)
        day += step
    edges.append(period.end)
    return edges


def describe_filters(filters: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in filters)
