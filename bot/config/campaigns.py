"""[campaigns.<name>]: relationship surveys sent to an audience on a cron schedule."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.config.section import ConfigError, Section
from survey_flows.durations import parse_duration
from survey_flows.errors import InvalidDefinition

DEFAULT_CAMPAIGN_GRACE = timedelta(days=1)
DEFAULT_PER_SECOND = 20
# Telegram's overall limit is 30 messages a second; the rest of the bot needs some of it too.
MAX_PER_SECOND = 30
CAMPAIGN_KEYS = {"survey", "cron", "timezone", "audience", "grace", "per_second"}
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONTEXT_KEY_RE = re.compile(r"context\.(.{1,64})")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign is for; every filter given must hold (none given: every customer)."""

    active_within: timedelta | None = None  # had an invitation or answered within this time
    language: str | None = None  # "ru" also matches "ru-RU"
    context: tuple[tuple[str, str], ...] = ()  # some invitation of theirs had key = value


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    name: str
    survey: str
    cron: str | None = None  # None: only run by hand (`survey-bot campaign run <name>`)
    timezone: str = "UTC"
    audience: Audience = field(default_factory=Audience)
    # A scheduled run missed while the bot was down is run on start-up within this time.
    grace: timedelta = DEFAULT_CAMPAIGN_GRACE
    # First questions are spread at this many a second, leaving room for conversations.
    per_second: int = DEFAULT_PER_SECOND


def parse_campaigns(
    raw: Any, surveys: Collection[str], default_timezone: str
) -> dict[str, CampaignConfig]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("campaigns: must be tables like [campaigns.quarterly_nps]")
    campaigns = {}
    for name, table in raw.items():
        where = f"campaigns.{name}"
        if not NAME_RE.fullmatch(name):
            raise ConfigError(f"{where}: a campaign's name is 1-64 of A-Z a-z 0-9 _ -")
        section = Section(table, where, CAMPAIGN_KEYS)
        survey = section.str("survey", required=True)
        if survey is None:
            raise ConfigError(f"{where}.survey: missing")
        if survey not in surveys:
            raise ConfigError(
                f"{where}.survey: unknown survey {survey!r} (known: {', '.join(sorted(surveys))})"
            )
        timezone, cron = section.schedule(default_timezone, "0 10 1 */3 *")
        campaigns[name] = CampaignConfig(
            name=name,
            survey=survey,
            cron=cron,
            timezone=timezone,
            audience=_parse_audience(section.raw.get("audience"), f"{where}.audience"),
            grace=section.duration("grace", DEFAULT_CAMPAIGN_GRACE),
            per_second=section.int("per_second", DEFAULT_PER_SECOND, low=1, high=MAX_PER_SECOND),
        )
    return campaigns


def _parse_audience(raw: Any, where: str) -> Audience:
    if raw is None:
        return Audience()
    if not isinstance(raw, Mapping):
        raise ConfigError(f'{where}: must be a table such as {{ language = "ru" }}')
    active_within = language = None
    context = []
    for key, value in raw.items():
        if key == "active_within":
            try:
                active_within = parse_duration(value)
            except InvalidDefinition as exc:
                raise ConfigError(f"{where}.active_within: {exc}") from None
            if active_within <= timedelta(0):
                raise ConfigError(f"{where}.active_within: must be longer than 0s")
        elif key == "language":
            if not isinstance(value, str) or not re.fullmatch(
                r"[A-Za-z]{2,8}(-[A-Za-z0-9]+)*", value
            ):
                raise ConfigError(f'{where}.language: must be a language code such as "ru"')
            language = value.lower()
        elif (match := CONTEXT_KEY_RE.fullmatch(key)) is not None:
            if isinstance(value, bool):
                value = "true" if value else "false"  # as the intake stores booleans
            if not isinstance(value, str | int | float):
                raise ConfigError(f"{where}.{key}: must be a string or a number")
            context.append((match.group(1), str(value)))
        else:
            raise ConfigError(
                f'{where}.{key}: unknown filter (use active_within, language or "context.<key>")'
            )
    return Audience(active_within, language, tuple(context))
