"""[alerts]: which scores alert, escalation and recheck times, who acts, and the reasons staff
pick when they resolve an alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    PlainValidator,
    ValidationInfo,
    field_validator,
)

from bot.config.values import Duration, Flag, Int, Invalid, UserIds, between
from survey_flows.alerts import DEFAULT_ALERT_MAX, DEFAULT_REASONS, REASON_ID, AlertRules
from survey_flows.models import Metric
from survey_flows.scoring import SCALES

MAX_REASONS = 8  # one or two rows of buttons on the card


def _at_most(metric: Metric) -> AfterValidator:  # a score on the scale, or one below: never
    return between(SCALES[metric].low - 1, SCALES[metric].high)


def _reasons(raw: Any) -> tuple[str, ...]:
    """Reason ids (default: delivery, quality, price, support, other; [] turns the question off)."""
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise Invalid('must be a list of ids, e.g. ["delivery", "other"]')
    bad = [r for r in raw if not REASON_ID.fullmatch(r)]
    if bad:
        raise Invalid(f"{bad[0]!r} is not an id (1-24 of a-z, 0-9 and _)")
    if len(set(raw)) != len(raw):
        raise Invalid("an id is listed twice")
    if len(raw) > MAX_REASONS:
        raise Invalid(f"at most {MAX_REASONS} (buttons on the card)")
    return tuple(raw)


@dataclass(frozen=True, slots=True)
class AlertsTable:
    """[alerts] as written; `rules()` is what the core decides alerts by."""

    enabled: Flag = True  # alerts need a staff chat; false lets the bot run without one
    # A score at or below this raises an alert, per metric.
    csat: Annotated[Int, _at_most(Metric.CSAT)] = DEFAULT_ALERT_MAX[Metric.CSAT]
    nps: Annotated[Int, _at_most(Metric.NPS)] = DEFAULT_ALERT_MAX[Metric.NPS]
    ces: Annotated[Int, _at_most(Metric.CES)] = DEFAULT_ALERT_MAX[Metric.CES]
    reasons: Annotated[tuple[str, ...], PlainValidator(_reasons)] = DEFAULT_REASONS
    # Labels per reason id and language, e.g. reason_labels.delivery = {en = "Courier"}.
    reason_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    escalate_after: Duration = timedelta(minutes=30)
    recheck_after: Duration = timedelta(days=1)
    staff_ids: UserIds = ()  # who may act on alerts; empty = the staff chat's members

    @field_validator("reason_labels", mode="plain")
    @classmethod
    def _labels(cls, raw: Any, info: ValidationInfo) -> dict[str, dict[str, str]]:
        if not isinstance(raw, Mapping):
            raise Invalid("must be a table of reason = {lang = label}")
        labels = {}
        for reason, by_lang in raw.items():
            if reason not in info.data.get("reasons", ()):
                raise Invalid("not one of alerts.reasons", reason)
            if not isinstance(by_lang, Mapping) or not all(
                isinstance(v, str) and 0 < len(v.strip()) <= 40 for v in by_lang.values()
            ):
                raise Invalid('must be a table like {en = "Courier"} (1-40 chars)', reason)
            labels[reason] = {str(k): v.strip() for k, v in by_lang.items()}
        return labels

    def rules(self) -> AlertRules:
        return AlertRules(
            max_score={Metric.CSAT: self.csat, Metric.NPS: self.nps, Metric.CES: self.ces},
            escalate_after=self.escalate_after,
            recheck_after=self.recheck_after,
            reasons=self.reasons,
            reason_labels=self.reason_labels,
        )
