"""Not pestering: quiet hours and which earlier surveys count against recontact. Pure time maths.

Quiet hours are a window of local wall-clock time ("21:00-09:00" crosses midnight). What the bot
would start inside the window waits for its end, computed on the local calendar so that a day
on which the clocks change is neither an hour short nor long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidDefinition
from .models import Survey

_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """[start, end) of local time in which nothing the bot starts is sent."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # the window crosses midnight


def parse_quiet_hours(text: str) -> QuietHours:
    """ "21:00-09:00" -> QuietHours; raises InvalidDefinition naming what is wrong."""
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise InvalidDefinition(f'must look like "21:00-09:00", got {text!r}')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidDefinition(f"{text!r} is not a time of day (00:00 to 23:59)")
    window = QuietHours(time(h1, m1), time(h2, m2))
    if window.start == window.end:
        raise InvalidDefinition(f"{text!r} starts and ends at the same time")
    return window


def zone(name: str) -> ZoneInfo:
    """An IANA time zone by name; raises InvalidDefinition for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise InvalidDefinition(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from None


def _local_instant(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    """`at` on the local date of `day`, in UTC. A wall time skipped by a spring-forward change
    (02:30 on that night) maps to the same distance after the change, i.e. the first moment
    the window is really over."""
    return datetime.combine(day.date(), at, tzinfo=tz).astimezone(UTC)


def quiet_until(at: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime | None:
    """When the quiet window holding `at` ends (UTC), or None if `at` is outside it."""
    if quiet is None:
        return None
    local = at.astimezone(tz)
    if not quiet.contains(local.time()):
        return None
    end_day = local
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day = local + timedelta(days=1)  # evening part: the window ends tomorrow morning
    # The local date of tomorrow, not 24 hours later: a DST day has 23 or 25 hours.
    end_day = datetime.combine(end_day.date(), time(12), tzinfo=tz)
    return _local_instant(end_day, quiet.end, tz)


def allowed_at(at: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """The first moment at or after `at` outside quiet hours."""
    return quiet_until(at, quiet, tz) or at


@dataclass(frozen=True, slots=True)
class Recontact:
    """At most one survey per customer per `window` (zero: no limit). With `related`, only
    earlier surveys sharing a metric with the new one count: survey name -> the surveys that
    share one (itself included)."""

    window: timedelta = timedelta(0)
    related: dict[str, frozenset[str]] | None = field(default=None)

    def counted_surveys(self, survey: str) -> frozenset[str] | None:
        """The surveys whose earlier invitations count against `survey`; None = every one."""
        if self.related is None:
            return None
        return self.related.get(survey, frozenset({survey}))


def related_by_metric(surveys: dict[str, Survey]) -> dict[str, frozenset[str]]:
    """For each survey, the surveys asking at least one of its metrics."""
    metrics = {name: {q.metric for q in s.questions} for name, s in surveys.items()}
    return {
        name: frozenset(other for other, theirs in metrics.items() if mine & theirs)
        for name, mine in metrics.items()
    }
