"""Period, filter and bucket parsing of managers' commands: pure tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from survey_flows.periods import (
    BadArguments,
    Bucket,
    Period,
    bucket_edges,
    bucket_for,
    parse_period,
    parse_selection,
    shown_span,
)

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)  # a Wednesday
BERLIN = ZoneInfo("Europe/Berlin")


def d(*args: int, tz=UTC) -> datetime:
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("word", "start", "end"),
    [
        ("7d", NOW - timedelta(days=7), NOW),
        ("30d", NOW - timedelta(days=30), NOW),
        ("90d", NOW - timedelta(days=90), NOW),
        ("12w", NOW - timedelta(weeks=12), NOW),
        ("6m", d(2025, 9, 18, 15, 30), NOW),
        ("1m", d(2026, 2, 18, 15, 30), NOW),
        ("today", d(2026, 3, 18), NOW),
        ("week", d(2026, 3, 16), NOW),  # Monday
        ("month", d(2026, 3, 1), NOW),
        ("quarter", d(2026, 1, 1), NOW),
        ("2026-01-01..2026-03-31", d(2026, 1, 1), d(2026, 4, 1)),  # both days included
        ("2026-02-10..2026-02-10", d(2026, 2, 10), d(2026, 2, 11)),
        ("QUARTER", d(2026, 1, 1), NOW),
    ],
)
def test_periods_in_utc(word: str, start: datetime, end: datetime) -> None:
    period = parse_period(word, NOW)
    assert (period.start, period.end) == (start, end), f"/nps {word} would cover the wrong time"


def test_month_back_clamps_to_the_end_of_a_short_month() -> None:
    period = parse_period("1m", d(2026, 3, 31, 12))
    assert period.start == d(2026, 2, 28, 12)


def test_calendar_words_follow_the_reports_timezone() -> None:
    late = d(2026, 3, 18, 23, 30)  # already the 19th in Berlin
    today = parse_period("today", late, BERLIN)
    assert today.start == d(2026, 3, 18, 23, 0)  # Berlin midnight of the 19th, in UTC
    dates = parse_period("2026-03-01..2026-03-31", late, BERLIN)
    # Summer time starts on 29 March: the end midnight is at +02:00.
    assert dates.start == d(2026, 2, 28, 23) and dates.end == d(2026, 3, 31, 22)


@pytest.mark.parametrize(
    ("word", "names"),
    [
        ("0d", "0d"),
        ("yesterday", "yesterday"),
        ("2026-03-31..2026-01-01", "before the start"),
        ("2026-02-30..2026-03-01", "not a real date"),
        ("2020-01-01..2026-01-01", "longer than 3 years"),
        ("9999d", "longer than 3 years"),
    ],
)
def test_bad_periods_name_the_problem(word: str, names: str) -> None:
    with pytest.raises(BadArguments, match=names):
        parse_period(word, NOW)


def test_previous_period_has_the_same_length_and_ends_where_this_starts() -> None:
    period = parse_period("30d", NOW)
    previous = period.previous()
    assert previous.end == period.start
    assert previous.length == period.length == timedelta(days=30)


@pytest.mark.parametrize(
    ("args", "label", "filters", "by"),
    [
        (None, "30d", (), None),
        ("", "30d", (), None),
        ("7d", "7d", (), None),
        ("product=Kettle", "30d", (("product", "Kettle"),), None),
        ("90d agent=anna product=Kettle", "90d", (("agent", "anna"), ("product", "Kettle")), None),
        ('product="Big kettle" 7d', "7d", (("product", "Big kettle"),), None),
        ("30d by agent", "30d", (), "agent"),
        ("by agent channel=web", "30d", (("channel", "web"),), "agent"),
        ("product=a=b", "30d", (("product", "a=b"),), None),
    ],
)
def test_selection(args, label, filters, by) -> None:
    sel = parse_selection(args, NOW)
    assert (sel.period.label, sel.filters, sel.by) == (label, filters, by)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ("7d 30d", "two periods"),
        ("banana", "'banana'"),
        ("by", "needs a field name"),
        ("by agent by product", "only one"),
        ("product=", "has no value"),
        ("=Kettle", "field name"),
        ("product=a product=b", "given twice"),
        ("by agent agent=anna", "single group"),
        ('product="Big', "unbalanced quotes"),
        ("by a/b", "letters, digits"),
    ],
)
def test_bad_selection_names_what_is_wrong(args: str, names: str) -> None:
    with pytest.raises(BadArguments, match=names):
        parse_selection(args, NOW)


def test_by_and_filters_can_be_refused_per_command() -> None:
    with pytest.raises(BadArguments, match="'by' is not available"):
        parse_selection("by agent", NOW, allow_by=False)
    with pytest.raises(BadArguments, match="not available"):
        parse_selection("product=x", NOW, allow_filters=False)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (1, Bucket.HOUR),
        (2, Bucket.HOUR),
        (3, Bucket.DAY),
        (30, Bucket.DAY),
        (45, Bucket.DAY),
        (46, Bucket.WEEK),
    ],
)
def test_bucket_by_period_length(days: int, bucket: Bucket) -> None:
    assert bucket_for(Period(NOW - timedelta(days=days), NOW, "x")) is bucket


def test_daily_edges_cut_at_midnight_with_partial_ends() -> None:
    period = parse_period("7d", NOW)
    edges = bucket_edges(period, Bucket.DAY)
    assert edges[0] == period.start and edges[-1] == period.end
    assert edges[1] == d(2026, 3, 12)
    assert len(edges) == 9  # 8 buckets: two partial days and 6 whole ones
    assert all(a < b for a, b in itertools.pairwise(edges))


def test_weekly_edges_fall_on_mondays_in_the_timezone() -> None:
    period = parse_period("90d", NOW, BERLIN)
    edges = bucket_edges(period, Bucket.WEEK, BERLIN)
    inner = edges[1:-1]
    assert all(e.astimezone(BERLIN).weekday() == 0 for e in inner)
    assert all(e.astimezone(BERLIN).hour == 0 for e in inner)  # across the DST change too
    assert len(edges) - 1 == 14


def test_edges_of_an_empty_period() -> None:
    assert bucket_edges(Period(NOW, NOW, "x"), Bucket.DAY) == [NOW, NOW]


def test_one_day_of_data_in_a_month_is_drawn_hour_by_hour_over_that_day() -> None:
    month = parse_period("30d", NOW)
    first = NOW - timedelta(hours=20, minutes=10)
    shown = shown_span(month, first)
    assert shown.start == first.replace(minute=0, second=0, microsecond=0), "not the data's span"
    assert bucket_for(shown) is Bucket.HOUR
    edges = bucket_edges(shown, Bucket.HOUR)
    assert len(edges) - 1 == 21 and all(e.minute == 0 for e in edges[1:-1])


def test_the_shown_span_starts_at_the_local_midnight_before_older_data() -> None:
    month = parse_period("30d", NOW)
    berlin = ZoneInfo("Europe/Berlin")
    shown = shown_span(month, NOW - timedelta(days=9, hours=3), berlin)
    assert shown.start.astimezone(berlin).hour == 0 and bucket_for(shown) is Bucket.DAY
    assert shown_span(month, None) == month, "no answers: the whole period"
    assert shown_span(month, month.start - timedelta(days=1)) == month
