"""When a score raises an alert, and what the alert timeline means. Pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from .models import Metric

# An alert is raised for a score at or below the threshold (the detractor range by default).
DEFAULT_ALERT_MAX: dict[Metric, int] = {Metric.NPS: 6, Metric.CSAT: 2, Metric.CES: 3}


@dataclass(frozen=True, slots=True)
class AlertRules:
    max_score: Mapping[Metric, int]
    escalate_after: timedelta = timedelta(minutes=30)
    recheck_after: timedelta = timedelta(days=1)
    # More alerts than this waiting at once are announced in one digest message.
    digest_over: int = 3


def raises_alert(metric: Metric, score: int, rules: AlertRules) -> bool:
    return score <= rules.max_score.get(metric, -1)
