"""[throttle]: not pestering customers — recontact window and quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from bot.config.values import Duration, Flag, core
from survey_flows.models import Survey
from survey_flows.pacing import (
    QuietHours,
    Recontact,
    parse_quiet_hours,
    related_by_metric,
    zone,
)


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """[throttle]: how often, and when, a customer may be asked."""

    # At most one survey per customer within this time ("0s" = no limit); an event breaking it
    # is stored as suppressed and never sent.
    recontact: Duration = timedelta(days=30)
    # True: only earlier surveys sharing a metric (csat, nps, ces) with the new one count.
    recontact_per_metric: Flag = False
    # Local time in which nothing the bot starts (first question, reminder) is sent; None = off.
    quiet_hours: Annotated[QuietHours, core(parse_quiet_hours)] | None = None
    # The time zone of quiet hours for customers whose own (customer.timezone) is not known.
    timezone: Annotated[str, core(lambda name: zone(name).key)] = "UTC"


def recontact_rule(throttle: ThrottleConfig, surveys: dict[str, Survey]) -> Recontact:
    """What storage enforces when it creates an invitation (`open_sqlite(recontact=...)`)."""
    related = related_by_metric(surveys) if throttle.recontact_per_metric else None
    return Recontact(throttle.recontact, related)
