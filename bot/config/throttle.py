"""[throttle]: not pestering customers — recontact window and quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.config.section import ConfigError, Section
from survey_flows.errors import InvalidDefinition
from survey_flows.models import Survey
from survey_flows.pacing import (
    QuietHours,
    Recontact,
    parse_quiet_hours,
    related_by_metric,
    zone,
)

DEFAULT_RECONTACT = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """[throttle]: how often, and when, a customer may be asked."""

    # At most one survey per customer within this time ("0s" = no limit); an event breaking it
    # is stored as suppressed and never sent.
    recontact: timedelta = DEFAULT_RECONTACT
    # True: only earlier surveys sharing a metric (csat, nps, ces) with the new one count.
    recontact_per_metric: bool = False
    # Local time in which nothing the bot starts (first question, reminder) is sent; None = off.
    quiet_hours: QuietHours | None = None
    # The time zone of quiet hours for customers whose own (customer.timezone) is not known.
    timezone: str = "UTC"


def parse_throttle(raw: Any, min_gap: timedelta | None = None) -> ThrottleConfig:
    """`min_gap`: the deprecated [delivery] min_gap, used as recontact when that is not set."""
    th = Section(raw, "throttle", {"recontact", "recontact_per_metric", "quiet_hours", "timezone"})
    if min_gap is not None and "recontact" in th.raw:
        raise ConfigError(
            "delivery.min_gap: replaced by throttle.recontact; set only throttle.recontact"
        )
    recontact = th.duration("recontact", DEFAULT_RECONTACT if min_gap is None else min_gap)
    per_metric = th.raw.get("recontact_per_metric", False)
    if not isinstance(per_metric, bool):
        raise ConfigError("throttle.recontact_per_metric: must be true or false")
    quiet_text = th.str("quiet_hours")
    try:
        quiet = parse_quiet_hours(quiet_text) if quiet_text is not None else None
    except InvalidDefinition as exc:
        raise ConfigError(f"throttle.quiet_hours: {exc}") from None
    timezone = th.str("timezone", "UTC")
    try:
        zone(timezone)
    except InvalidDefinition as exc:
        raise ConfigError(f"throttle.timezone: {exc}") from None
    return ThrottleConfig(recontact, per_metric, quiet, timezone)


def recontact_rule(throttle: ThrottleConfig, surveys: dict[str, Survey]) -> Recontact:
    """What storage enforces when it creates an invitation (`open_sqlite(recontact=...)`)."""
    related = related_by_metric(surveys) if throttle.recontact_per_metric else None
    return Recontact(throttle.recontact, related)
