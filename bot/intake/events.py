"""Accepting one event: validation, the trigger's survey and delay, and the invitation it makes.

The HTTP API, batch posts and CSV imports all go through `Intake.accept`, so they validate and
deduplicate alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
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

from bot.config import Config
from bot.intake.links import EXTERNAL_ID_MAX, LinkMaker, external_id_problem
from storage.base import SurveyRepo
from storage.errors import Contention
from storage.records import AwaitingLink, NewEvent
from survey_flows.clock import Clock
from survey_flows.errors import EventConflict, InvalidDefinition
from survey_flows.flow import stop_reason
from survey_flows.models import Invitation, Trigger
from survey_flows.pacing import zone

logger = logging.getLogger(__name__)

MAX_DELAY = timedelta(days=90)
# An `occurred_at` a little ahead of our clock is the sender's clock running fast, not a plan.
CLOCK_SKEW = timedelta(minutes=5)
# Imports and batch posts commit this many events at a time (one fsync each, not one per event).
BATCH_SIZE = 500
CONTENTION_TRIES = 3


# No text may hold NUL (\x00): PostgreSQL refuses it in text, so it is bad input on every backend.
def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain a NUL character (\\x00)")
    return text


NO_NUL = AfterValidator(_no_nul)
ShortStr = Annotated[StrictStr, Field(min_length=1, max_length=256), NO_NUL]
# Context values are what a shop's systems have at hand; stored as text for filters and cards.
ContextValue = (
    Annotated[StrictStr, Field(max_length=1024), NO_NUL] | StrictBool | StrictInt | StrictFloat
)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # At least one of the two: a user's private chat id, or the shop's own id of the customer.
    telegram_id: Annotated[StrictInt, Field(gt=0, lt=2**52)] | None = None
    external_id: (
        Annotated[StrictStr, Field(min_length=1, max_length=EXTERNAL_ID_MAX), NO_NUL] | None
    ) = None
    name: ShortStr | None = None
    language: Annotated[StrictStr, Field(min_length=2, max_length=16), NO_NUL] | None = None
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
    context: dict[
        Annotated[StrictStr, Field(min_length=1, max_length=64), NO_NUL], ContextValue
    ] = Field(default_factory=dict, max_length=50)
    delay_seconds: Annotated[StrictInt, Field(ge=0, le=int(MAX_DELAY.total_seconds()))] | None = (
        None
    )
    # When it happened (ISO 8601; without an offset, UTC): the survey is due at occurred_at +
    # the trigger's delay, so an old event past [delivery] expire_after is kept but never sent.
    occurred_at: Annotated[StrictStr, Field(min_length=10, max_length=40)] | None = None


def parse_time(text: str) -> datetime:
    """ISO 8601 date or date and time; without an offset it is UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def describe(exc: ValidationError) -> str:
    """The first validation error as `field.path: problem`."""
    err = exc.errors()[0]
    # Without the union member pydantic tried ("context.k.constrained-str"): not the sender's.
    where = ".".join(str(p) for p in err["loc"] if not _union_tag(p)) or "body"
    if err["type"] == "missing":
        return f"{where}: required field is missing"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    if err["type"] == "value_error":
        return f"{where}: {err['ctx']['error']}"
    return f"{where}: {err['msg']}"


def _union_tag(part: int | str) -> bool:
    return isinstance(part, str) and (part.startswith(("function-", "constrained-")) or "[" in part)


def _context_text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fingerprint(event: EventIn) -> str:
    """A digest of the validated body: a retry matches it, a reused event_id does not."""
    body = event.model_dump()
    if body["customer"]["external_id"] is None:
        del body["customer"]["external_id"]  # digests of events from before the shop's ids hold

    if body["occurred_at"] is None:
        del body["occurred_at"]  # so events stored before the field existed still match
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
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


def awaiting_json(waiting: AwaitingLink, deep_link: str | None) -> dict[str, Any]:
    """An event whose customer has not opened a link yet, with a fresh link to give them."""
    return {"event_id": waiting.event_id, "status": "awaiting_link", "deep_link": deep_link}


class Intake:
    def __init__(
        self, config: Config, repo: SurveyRepo, clock: Clock, *, bot_username: str | None = None
    ) -> None:
        self._config, self._repo, self._clock = config, repo, clock
        self.links = LinkMaker(config.links, repo.links, clock, bot_username)

    async def accept(self, data: Any) -> Accepted:
        """Validate one event (already parsed from JSON or a CSV row) and schedule it."""
        checked = self._checked(data)
        if isinstance(checked, Accepted):
            return checked
        event, trigger = checked
        now = self._clock()
        start = self._start(event, now)
        if isinstance(start, Accepted):
            return start
        customer = event.customer
        delay = (
            timedelta(seconds=event.delay_seconds)
            if event.delay_seconds is not None
            else trigger.delay
        )
        new = NewEvent(
            event_id=event.event_id,
            event_type=event.type,
            survey=trigger.survey,
            customer_id=customer.telegram_id,
            customer_name=customer.name,
            customer_language=customer.language,
            context={k: _context_text(v) for k, v in event.context.items()},
            send_at=start + delay,
            fingerprint=_fingerprint(event),
            external_id=customer.external_id,
            customer_username=customer.username,
            customer_timezone=customer.timezone,
        )
        return await self._store(new, now)

    def _checked(self, data: Any) -> tuple[EventIn, Trigger] | Accepted:
        """The event and its configured trigger, or the 400 that says what is wrong."""
        if not isinstance(data, dict):
            return rejected(400, "body must be a JSON object")
        try:
            event = EventIn.model_validate(data)
        except ValidationError as exc:
            return rejected(400, describe(exc))
        customer = event.customer
        if customer.telegram_id is None and customer.external_id is None:
            return rejected(
                400,
                "customer.telegram_id: required field is missing (or give customer.external_id)",
            )
        problem = external_id_problem(customer.external_id) if customer.external_id else None
        if problem is not None:
            return rejected(400, f"customer.external_id: {problem}")
        trigger = self._config.triggers.get(event.type)
        if trigger is None:
            known = ", ".join(sorted(self._config.triggers))
            return rejected(400, f"type: unknown event type {event.type!r} (configured: {known})")
        return event, trigger

    @staticmethod
    def _start(event: EventIn, now: datetime) -> datetime | Accepted:
        """When the delay starts: the event's own time (not in the future), else now."""
        if event.occurred_at is None:
            return now
        try:
            start = parse_time(event.occurred_at)
        except ValueError:
            return rejected(400, "occurred_at: not an ISO 8601 date and time")
        if start > now + CLOCK_SKEW:
            return rejected(400, "occurred_at: lies in the future")
        return start

    async def _store(self, new: NewEvent, now: datetime) -> Accepted:
        """Store the invitation once (a replay answers 200 with the stored one)."""
        try:
            if new.customer_id is not None:
                inv, created = await self._repo.invitations.create_invitation(new, now)
            else:
                stored, created = await self._repo.invitations.create_for_external(new, now)
                if isinstance(stored, AwaitingLink):
                    return await self._awaiting(stored, created)
                inv = stored
        except EventConflict as exc:
            return Accepted(
                409,
                {"error": str(exc), "event_id": exc.event_id, "invitation_id": exc.invitation_id},
            )
        if created:
            logger.info(
                "event %s %s invitation %s at %s", new.event_type, inv.status, inv.id, inv.send_at
            )
        return Accepted(202 if created else 200, invitation_json(inv), created)

    async def _awaiting(self, waiting: AwaitingLink, created: bool) -> Accepted:
        # A replay gets a fresh link too: only tokens' hashes are kept, and older links stay
        # valid until they expire.
        link = await self.links.mint(waiting.external_id)
        if created:
            logger.info("event %s awaits the link of its customer", waiting.event_id)
        body = awaiting_json(waiting, link.url if link else None)
        return Accepted(202 if created else 200, body, created)

    async def accept_many(self, items: Sequence[Any]) -> list[Accepted]:
        """`accept` for each item, in order, committing BATCH_SIZE items per transaction.

        Same validation, idempotency and results as one call each; a conflict or a bad item
        rolls back only itself. Nothing is acknowledged before its transaction committed.
        """
        results: list[Accepted] = []
        for first in range(0, len(items), BATCH_SIZE):
            results += await self._accept_chunk(items[first : first + BATCH_SIZE])
        return results

    async def _accept_chunk(self, chunk: Sequence[Any]) -> list[Accepted]:
        """One transaction of `chunk`; run again when another process's bulk post deadlocked
        with it (PostgreSQL rolled it back whole, so nothing of it is stored twice)."""
        for attempt in range(1, CONTENTION_TRIES + 1):
            try:
                async with self._repo.batch():
                    return [await self.accept(item) for item in chunk]
            except Contention:
                if attempt == CONTENTION_TRIES:
                    raise
                logger.info("a batch met another process's (deadlock): running it again")
                await asyncio.sleep(random.uniform(0.01, 0.1) * attempt)  # apart, this time
        raise AssertionError("unreachable")
