"""`[reports] cron` read as crontab reads it: weekdays from Sunday = 0 (or 7), day OR weekday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from bot.config.crontab import cron_trigger, cron_weekdays

from .test_config import ENV, render, write

SATURDAY = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)  # 2026-03-15 is a Sunday
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)  # datetime.weekday()


def fires(cron: str, timezone: str, start: datetime, count: int) -> list[datetime]:
    trigger = cron_trigger(cron, timezone)
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(found) < count:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return found


@pytest.mark.parametrize(
    ("cron", "first", "weekdays"),
    [
        (
            "0 9 * * 0-6",
            datetime(2026, 3, 14, 9, 0, tzinfo=UTC),
            {MON, TUE, WED, THU, FRI, SAT, SUN},
        ),
        ("0 9 * * 1-5", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), {MON, TUE, WED, THU, FRI}),
        ("0 9 * * 0", datetime(2026, 3, 15, 9, 0, tzinfo=UTC), {SUN}),
        ("0 9 * * 7", datetime(2026, 3, 15, 9, 0, tzinfo=UTC), {SUN}),
        ("0 9 * * 1", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), {MON}),
        ("0 9 * * mon", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), {MON}),
        ("0 9 * * 5-7", datetime(2026, 3, 14, 9, 0, tzinfo=UTC), {FRI, SAT, SUN}),
        ("0 9 * * fri-sun", datetime(2026, 3, 14, 9, 0, tzinfo=UTC), {FRI, SAT, SUN}),
        ("0 9 * * 1,3", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), {MON, WED}),
        ("0 9 * * */2", datetime(2026, 3, 14, 9, 0, tzinfo=UTC), {SUN, TUE, THU, SAT}),
        ("0 9 * * 1-5/2", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), {MON, WED, FRI}),
    ],
)
def test_weekdays_from_a_config_fire_when_cron_would(
    tmp_path: Path, cron: str, first: datetime, weekdays: set[int]
) -> None:
    config = load_config(write(tmp_path, render(extra=f'[reports]\ncron = "{cron}"\n')), ENV)
    assert config.reports.cron == cron
    found = fires(cron, config.reports.timezone, SATURDAY, 21)
    assert found[0] == first, (
        f"{cron!r} would first send the report on {found[0]:%A %d %B}, not {first:%A %d %B}"
    )
    sent_on = {f.weekday() for f in found}
    assert sent_on == weekdays, (
        f"{cron!r}: reports would go out on {sorted(sent_on)}, cron means {sorted(weekdays)}"
    )
    assert all((f.hour, f.minute) == (9, 0) for f in found)


def test_first_of_the_month_in_the_configured_timezone(tmp_path: Path) -> None:
    text = render(extra='[reports]\ncron = "30 8 1 * *"\ntimezone = "Europe/Berlin"\n')
    config = load_config(write(tmp_path, text), ENV)
    berlin = ZoneInfo("Europe/Berlin")
    found = fires("30 8 1 * *", config.reports.timezone, SATURDAY, 3)
    assert found == [datetime(2026, m, 1, 8, 30, tzinfo=berlin) for m in (4, 5, 6)]


def test_day_of_month_and_weekday_together_mean_either() -> None:
    # As in cron: the 13th of each month, and every Friday, not only Fridays the 13th.
    found = fires("0 9 13 * 5", "UTC", datetime(2026, 3, 1, tzinfo=UTC), 6)
    assert [f.date().isoformat() for f in found] == [
        "2026-03-06",
        "2026-03-13",
        "2026-03-20",
        "2026-03-27",
        "2026-04-03",
        "2026-04-10",
    ]
    found = fires("0 9 13 * 5", "UTC", datetime(2026, 4, 11, tzinfo=UTC), 2)
    assert [f.date().isoformat() for f in found] == ["2026-04-13", "2026-04-17"]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("0-6", "*"),
        ("0-7", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("SUN", "sun"),
        ("6,0", "sat,sun"),
        ("*/3", "wed,sat,sun"),
        ("1/2", "mon,wed,fri,sun"),
    ],
)
def test_weekday_field_table(field: str, expected: str) -> None:
    assert cron_weekdays(field) == expected


@pytest.mark.parametrize("field", ["8", "-1", "1-", "5-1", "fri-mon", "1/0", "1/x", "x", ""])
def test_bad_weekday_field_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="day of week"):
        cron_weekdays(field)
