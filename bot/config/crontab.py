"""Crontab lines read as cron reads them, turned into APScheduler 3 triggers.

APScheduler 3's `CronTrigger.from_crontab` takes the five fields as they are, but counts numeric
weekdays from Monday = 0 (its docs warn of it; fixed only in 4.x), so cron's "1-5" would be
Tuesday to Saturday and "0-6" or "7" fail. Cron's weekday field is therefore rewritten as the
day names it means. Cron also fires when EITHER the day of month or the weekday matches if both
are restricted, where APScheduler needs both: such a line becomes two triggers, either firing.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's numbers: 0 (and 7) = sun
_APS_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's order


def _day(text: str, *, range_end: bool = False) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _CRON_DAYS:
        # "fri-sun" reads as Friday to Sunday, as written: Sunday closes a range as 7.
        return 7 if range_end and text == "sun" else _CRON_DAYS.index(text)
    raise ValueError(f"day of week {text!r}: must be 0-7 (0 and 7 are Sunday) or sun..sat")


def cron_weekdays(field: str) -> str:
    """Cron's day-of-week field as APScheduler's list of day names: "1-5" -> "mon,...,fri",
    "0", "7" and "sun" -> "sun", "*/2" -> "tue,thu,sat,sun". Raises ValueError when malformed."""
    days: set[int] = set()
    for item in field.lower().split(","):
        part, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"day of week {item!r}: the step must be a positive number")
        step = int(step_text) if slash else 1
        if part == "*":
            first, last = 0, 6
        else:
            first_text, dash, last_text = part.partition("-")
            first = _day(first_text)
            last = _day(last_text, range_end=True) if dash else (7 if slash else first)
            if last < first:
                raise ValueError(f"day of week {item!r}: the range runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(name for name in _APS_DAYS if _CRON_DAYS.index(name) in days)


def cron_trigger(expression: str, timezone: str | tzinfo) -> BaseTrigger:
    """A standard crontab line (minute hour day month weekday) as APScheduler's trigger.

    Raises ValueError, with a one-line message, when the line is not valid crontab."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    weekdays = cron_weekdays(weekday)
    if day.startswith("*") or weekday.startswith("*"):
        return CronTrigger.from_crontab(
            f"{minute} {hour} {day} {month} {weekdays}", timezone=timezone
        )
    return OrTrigger(
        [
            CronTrigger.from_crontab(f"{minute} {hour} {day} {month} *", timezone=timezone),
            CronTrigger.from_crontab(f"{minute} {hour} * {month} {weekdays}", timezone=timezone),
        ]
    )
