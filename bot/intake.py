"""Accepting one event: validation, the trigger's survey and delay, and the invitation it makes.

The HTTP API, batch posts and CSV imports all go through `Intake.accept`, so they validate and
deduplicate alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from storage.base import NewEvent, SurveyRepo
from survey_flows.clock import Clock
from survey_flows.errors import EventConflict, InvalidDefinition
from survey_flows.flow import stop_reason
from survey_flows.models import Invitation
from survey_flows.pacing import zone

from .config import Config

logger = logging.getLogger(__name__)

MAX_DELAY = timedelta(days=90)

ShortStr = Annotated[StrictStr, Field(min_length=1, max_length=256)]
# Context values are what a shop's systems have at hand; stored as text for filters and cards.
ContextValue = Annotated[StrictStr, Field(max_length=1024)] | StrictBool | StrictInt | StrictFloat


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    telegram_id: Annotated[StrictInt, Field(gt=0, lt=2**52)]  # a user's private chat id
    name: ShortStr | None = None
    language: Annotated[StrictStr, Field(min_length=2, max_length=16)] | None = None
    username: ShortStr | None = None
    # IANA name ("Europe/Berlin"): quiet hours are kept in the customer's own time.
    timezone: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except InvalidDefinition as exc:
                raise ValueError(str(exc)) from None
        return value


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: ShortStr
    type: ShortStr
    customer: CustomerIn
    context: dict[Annotated[StrictStr, Field(min_length=1, max_length=64)], ContextValue] = Field(
        default_factory=dict, max_length=50
    )
    delay_seconds: Annotated[StrictInt, Field(ge=0, le=int(MAX_DELAY.total_seconds()))] | None = (
        None
    )


def describe(exc: ValidationError) -> str:
    """The first validation error as `field.path: problem`."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    if err["type"] == "missing":
        return f"{where}: required field is missing"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    if err["type"] == "value_error":
        return f"{where}: {err['ctx']['error']}"
    return f"{where}: {err['msg']}"


def _context_text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fingerprint(event: EventIn) -> str:
    """A digest of the validated body: a retry matches it, a reused event_id does not."""
    canonical = json.dumps(event.model_dump(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def invitation_json(inv: Invitation) -> dict[str, Any]:
    """Where the invitation stands now (a replay answers this, not the first response)."""
    body: dict[str, Any] = {
        "invitation_id": inv.id,
        "status": inv.status.value,
        "send_at": inv.send_at.isoformat(),
    }
    reason = stop_reason(inv)
    if reason is not None:
        body["reason"] = reason
    return body


@dataclass(frozen=True, slots=True)
class Accepted:
    """What became of one event: the HTTP status it answers with, its JSON body, and whether
    an invitation was created now (not a replay or a rejection)."""

    status: int
    body: dict[str, Any]
    created: bool = False


def rejected(status: int, message: str) -> Accepted:
    return Accepted(status, {"error": message})


class Intake:
    def __init__(self, config: Config, repo: SurveyRepo, clock: Clock) -> None:
        self._config, self._repo, self._clock = config, repo, clock

    async def accept(self, data: Any) -> Accepted:
        """Validate one event (already parsed from JSON or a CSV row) and schedule it."""
        if not isinstance(data, dict):
            return rejected(400, "body must be a JSON object")
        try:
            event = EventIn.model_validate(data)
        except ValidationError as exc:
            return rejected(400, describe(exc))
        trigger = self._config.triggers.get(event.type)
        if trigger is None:
            known = ", ".join(sorted(self._config.triggers))
            return rejected(400, f"type: unknown event type {event.type!r} (configured: {known})")
        now = self._clock()
        delay = (
            timedelta(seconds=event.delay_seconds)
            if event.delay_seconds is not None
            else trigger.delay
        )
        new = NewEvent(
            event_id=event.event_id,
            event_type=event.type,
            survey=trigger.survey,
            customer_id=event.customer.telegram_id,
            customer_name=event.customer.name,
            customer_language=event.customer.language,
            context={k: _context_text(v) for k, v in event.context.items()},
            send_at=now + delay,
            fingerprint=_fingerprint(event),
            customer_timezone=event.customer.timezone,
        )
        try:
            inv, created = await self._repo.create_invitation(new, now)
        except EventConflict as exc:
            return Accepted(
                409,
                {"error": str(exc), "event_id": exc.event_id, "invitation_id": exc.invitation_id},
            )
        if created:
            logger.info(
                "event %s %s invitation %s at %s", event.type, inv.status, inv.id, inv.send_at
            )
        return Accepted(202 if created else 200, invitation_json(inv), created)
