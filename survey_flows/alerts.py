"""When a score raises an alert, and what the alert timeline means. Pure rules, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .models import Metric

# An alert is raised for a score at or below the threshold (the detractor range by default).
DEFAULT_ALERT_MAX: dict[Metric, int] = {Metric.NPS: 6, Metric.CSAT: 2, Metric.CES: 3}


DEFAULT_REASONS = ("delivery", "quality", "price", "support", "other")
REASON_ID = re.compile(r"[a-z0-9_]{1,24}")


@dataclass(frozen=True, slots=True)
class AlertRules:
    max_score: Mapping[Metric, int]
    escalate_after: timedelta = timedelta(minutes=30)
    recheck_after: timedelta = timedelta(days=1)
    # More alerts than this waiting at once are announced in one digest message.
    digest_over: int = 3
    # What staff pick when they resolve (ids; empty: Resolved asks nothing).
    reasons: tuple[str, ...] = DEFAULT_REASONS
    # Labels from the config, by reason id and language; else the catalogues', else the id.
    reason_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def raises_alert(metric: Metric, score: int, rules: AlertRules) -> bool:
    return score <= rules.max_score.get(metric, -1)
