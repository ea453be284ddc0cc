"""Durations as written in config: accepted forms and the ones that must be refused."""

from datetime import timedelta

import pytest

from survey_flows.durations import format_duration, parse_duration
from survey_flows.errors import InvalidDefinition


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0s", timedelta(0)),
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 10M ", timedelta(minutes=10)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected, f"delay {text!r} would wait the wrong time"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "30",
        "m",
        "1.5h",
        "-1h",
        "1h 30m",
        "1 h",
        "1y",
        "h1",
        "1hh",
        "99999999999d",
        30,
        None,
    ],
)
def test_bad_duration_is_refused(text: object) -> None:
    with pytest.raises(InvalidDefinition, match="duration"):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(minutes=30), "30m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=1, seconds=5), "1d5s"),
    ],
)
def test_format_duration_round_trips(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    assert parse_duration(text) == delta
