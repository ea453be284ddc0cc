"""[campaigns.<name>]: relationship surveys sent to an audience on a cron schedule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, ValidationInfo

from bot.config.values import (
    Duration,
    Int,
    Invalid,
    NonBlank,
    Text,
    TimeZone,
    between,
    cron_line,
)
from survey_flows.durations import parse_duration
from survey_flows.errors import InvalidDefinition

# Telegram's overall limit is 30 messages a second; the rest of the bot needs some of it too.
MAX_PER_SECOND = 30
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONTEXT_KEY_RE = re.compile(r"context\.(.{1,64})")
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign is for; every filter given must hold (none given: every customer)."""

    active_within: timedelta | None = None  # had an invitation or answered within this time
    language: str | None = None  # "ru" also matches "ru-RU"
    context: tuple[tuple[str, str], ...] = ()  # some invitation of theirs had key = value


def _audience(raw: Any) -> Audience:
    """The audience table, whose "context.<key>" filters are keys of its own."""
    if not isinstance(raw, Mapping):
        raise Invalid('must be a table such as { language = "ru" }')
    active_within = language = None
    context = []
    for key, value in raw.items():
        if key == "active_within":
            try:
                active_within = parse_duration(value)
            except InvalidDefinition as exc:
                raise Invalid(str(exc), key) from None
            if active_within <= timedelta(0):
                raise Invalid("must be longer than 0s", key)
        elif key == "language":
            if not isinstance(value, str) or not LANGUAGE_RE.fullmatch(value):
                raise Invalid('must be a language code such as "ru"', key)
            language = value.lower()
        elif (match := CONTEXT_KEY_RE.fullmatch(key)) is not None:
            if isinstance(value, bool):
                value = "true" if value else "false"  # as the intake stores booleans
            if not isinstance(value, str | int | float):
                raise Invalid("must be a string or a number", key)
            context.append((match.group(1), str(value)))
        else:
            raise Invalid('unknown filter (use active_within, language or "context.<key>")', key)
    return Audience(active_within, language, tuple(context))


def _known_survey(survey: str, info: ValidationInfo) -> str:
    surveys = (info.context or {})["surveys"]  # read by the core before the settings
    if survey not in surveys:
        raise Invalid(f"unknown survey {survey!r} (known: {', '.join(sorted(surveys))})")
    return survey


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    name: str
    survey: Annotated[NonBlank, AfterValidator(_known_survey)]
    # None: only run by hand (`survey-bot campaign run <name>`)
    cron: Annotated[Text, cron_line("0 10 1 */3 *")] | None = None
    timezone: TimeZone = "UTC"
    audience: Annotated[Audience, PlainValidator(_audience)] = field(default_factory=Audience)
    # A scheduled run missed while the bot was down is run on start-up within this time.
    grace: Duration = timedelta(days=1)
    # First questions are spread at this many a second, leaving room for conversations.
    per_second: Annotated[Int, between(1, MAX_PER_SECOND)] = 20


def named(tables: Any, timezone: str) -> dict[str, Any]:
    """The [campaigns.<name>] tables, each given its name and, unless it has its own, `timezone`
    (the reports')."""
    if not isinstance(tables, Mapping):
        raise Invalid("must be tables like [campaigns.quarterly_nps]")
    for name, table in tables.items():
        if not NAME_RE.fullmatch(name):
            raise Invalid("a campaign's name is 1-64 of A-Z a-z 0-9 _ -", name)
        if isinstance(table, Mapping) and "name" in table:
            raise Invalid("unknown key", f"{name}.name")
    return {
        name: {"timezone": timezone, **table, "name": name} if isinstance(table, Mapping) else table
        for name, table in tables.items()
    }
