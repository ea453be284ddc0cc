"""Quiet-hours arithmetic (survey_flows/pacing.py): windows across midnight and DST days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from survey_flows.errors import InvalidDefinition
from survey_flows.models import Metric, Question, Survey
from survey_flows.pacing import (
    QuietHours,
    Recontact,
    allowed_at,
    parse_quiet_hours,
    quiet_until,
    related_by_metric,
    zone,
)

NIGHT = QuietHours(time(21), time(9))
LUNCH = QuietHours(time(12), time(13, 30))
BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("21:00-09:00", NIGHT),
        (" 12:00 - 13:30 ", LUNCH),
        ("0:00-6:00", QuietHours(time(0), time(6))),
        ("23:59-00:00", QuietHours(time(23, 59), time(0))),
    ],
)
def test_parse_quiet_hours(text: str, window: QuietHours) -> None:
    assert parse_quiet_hours(text) == window


@pytest.mark.parametrize("text", ["", "21-09", "21:00", "24:00-09:00", "21:60-09:00", "9:00-9:00"])
def test_parse_quiet_hours_refuses(text: str) -> None:
    with pytest.raises(InvalidDefinition):
        parse_quiet_hours(text)


@pytest.mark.parametrize(
    ("at", "window", "tz", "until"),
    [
        # UTC, across midnight: evening part ends tomorrow, morning part today, edges exact.
        (utc(2026, 1, 14, 20, 59), NIGHT, UTC, None),
        (utc(2026, 1, 14, 21, 0), NIGHT, UTC, utc(2026, 1, 15, 9, 0)),
        (utc(2026, 1, 14, 23, 59), NIGHT, UTC, utc(2026, 1, 15, 9, 0)),
        (utc(2026, 1, 15, 0, 0), NIGHT, UTC, utc(2026, 1, 15, 9, 0)),
        (utc(2026, 1, 15, 8, 59), NIGHT, UTC, utc(2026, 1, 15, 9, 0)),
        (utc(2026, 1, 15, 9, 0), NIGHT, UTC, None),
        (utc(2026, 1, 15, 12, 0), NIGHT, UTC, None),
        # A window within one day.
        (utc(2026, 1, 15, 11, 59), LUNCH, UTC, None),
        (utc(2026, 1, 15, 12, 0), LUNCH, UTC, utc(2026, 1, 15, 13, 30)),
        (utc(2026, 1, 15, 13, 30), LUNCH, UTC, None),
        # Berlin in winter (UTC+1): 20:30 UTC is 21:30 local.
        (utc(2026, 1, 14, 19, 59), NIGHT, BERLIN, None),
        (utc(2026, 1, 14, 20, 30), NIGHT, BERLIN, utc(2026, 1, 15, 8, 0)),
        # Spring forward in Berlin (29 March 2026, 02:00 -> 03:00): the night is an hour short,
        # 09:00 local is 07:00 UTC the next morning, not 24 hours after 09:00 the day before.
        (utc(2026, 3, 28, 21, 0), NIGHT, BERLIN, utc(2026, 3, 29, 7, 0)),
        (utc(2026, 3, 29, 1, 30), NIGHT, BERLIN, utc(2026, 3, 29, 7, 0)),
        # Fall back (25 October 2026, 03:00 -> 02:00): 09:00 local is 08:00 UTC.
        (utc(2026, 10, 24, 20, 0), NIGHT, BERLIN, utc(2026, 10, 25, 8, 0)),
        (utc(2026, 10, 25, 0, 30), NIGHT, BERLIN, utc(2026, 10, 25, 8, 0)),  # 02:30 (first)
        (utc(2026, 10, 25, 1, 30), NIGHT, BERLIN, utc(2026, 10, 25, 8, 0)),  # 02:30 (again)
        # A window ending inside the skipped hour (New York, 8 March 2026, 02:00 -> 03:00):
        # 02:30 does not exist that night; the window ends at 03:30 EDT, an hour later.
        (
            utc(2026, 3, 8, 5, 0),
            QuietHours(time(23), time(2, 30)),
            NEW_YORK,
            utc(2026, 3, 8, 7, 30),
        ),
    ],
)
def test_quiet_until(at: datetime, window: QuietHours, tz, until: datetime | None) -> None:
    got = quiet_until(at, window, tz)
    assert got == until, f"a survey at {at} would go out at {got}, expected {until}"
    assert allowed_at(at, window, tz) == (until or at)
    if got is not None:
        assert quiet_until(got, window, tz) is None, "the end of the window is still quiet"


def test_no_quiet_hours_never_waits() -> None:
    assert quiet_until(utc(2026, 1, 1, 3, 0), None, UTC) is None


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidDefinition, match="unknown time zone 'Moon/Base'"):
        zone("Moon/Base")


def test_related_by_metric() -> None:
    surveys = {
        "csat": Survey("csat", (Question(Metric.CSAT),)),
        "nps": Survey("nps", (Question(Metric.NPS),)),
        "support": Survey("support", (Question(Metric.CES), Question(Metric.CSAT))),
    }
    related = related_by_metric(surveys)
    assert related["csat"] == {"csat", "support"}
    assert related["nps"] == {"nps"}
    assert Recontact(timedelta(days=1), related).counted_surveys("gone") == {"gone"}
    assert Recontact(timedelta(days=1)).counted_surveys("csat") is None
