"""The intake HTTP API: businesses post events here; each becomes a scheduled invitation."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from storage.base import NewEvent, SurveyRepo
from survey_flows.clock import Clock
from survey_flows.errors import EventConflict
from survey_flows.flow import stop_reason
from survey_flows.models import Invitation

from .config import Config

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
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


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    if err["type"] == "missing":
        return f"{where}: required field is missing"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    return f"{where}: {err['msg']}"


async def _read_body(request: web.Request) -> bytes | None:
    """The raw body, or None when it exceeds MAX_BODY (read no further than that)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks, total = [], 0
    while total <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return None if total > MAX_BODY else b"".join(chunks)


def _context_text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fingerprint(event: EventIn) -> str:
    """A digest of the validated body: a retry matches it, a reused event_id does not."""
    canonical = json.dumps(event.model_dump(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _invitation_json(inv: Invitation) -> dict[str, Any]:
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


class IntakeApi:
    def __init__(
        self, config: Config, repo: SurveyRepo, clock: Clock, on_scheduled: Callable[[], None]
    ) -> None:
        self._config, self._repo, self._clock = config, repo, clock
        self._on_scheduled = on_scheduled
        self._token = config.api.token.encode()

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._token
        )

    async def post_event(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "missing or wrong bearer token", **{"WWW-Authenticate": "Bearer"})
        body = await _read_body(request)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"body is not valid JSON: {exc}")
        if not isinstance(data, dict):
            return _error(400, "body must be a JSON object")
        try:
            event = EventIn.model_validate(data)
        except ValidationError as exc:
            return _error(400, _describe(exc))
        trigger = self._config.triggers.get(event.type)
        if trigger is None:
            known = ", ".join(sorted(self._config.triggers))
            return _error(400, f"type: unknown event type {event.type!r} (configured: {known})")
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
        )
        try:
            inv, created = await self._repo.create_invitation(new, now)
        except EventConflict as exc:
            return web.json_response(
                {"error": str(exc), "event_id": exc.event_id, "invitation_id": exc.invitation_id},
                status=409,
            )
        if created:
            logger.info("event %s scheduled invitation %s at %s", event.type, inv.id, inv.send_at)
            self._on_scheduled()
        return web.json_response(_invitation_json(inv), status=202 if created else 200)

    async def get_invitation(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "missing or wrong bearer token", **{"WWW-Authenticate": "Bearer"})
        try:
            invitation_id = int(request.match_info["id"])
        except ValueError:
            return _error(400, "invitation id must be an integer")
        inv = await self._repo.get_invitation(invitation_id)
        if inv is None:
            return _error(404, "no such invitation")
        answers = await self._repo.answers_for(inv.id)
        return web.json_response(
            {
                "invitation_id": inv.id,
                "event_id": inv.event_id,
                "status": inv.status.value,
                "reason": stop_reason(inv),
                "survey": inv.survey,
                "send_at": inv.send_at.isoformat(),
                "sent_at": inv.sent_at.isoformat() if inv.sent_at else None,
                "answers": [
                    {
                        "question": a.question_index,
                        "metric": a.metric.value,
                        "score": a.score,
                        "category": a.category.value,
                        "has_comment": a.comment is not None,
                    }
                    for a in answers
                ],
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        """Always 200 while the process serves; `staff_chat` says whether alerts can be posted
        (`ok`, `unreachable: <reason>` as the alert worker last found, or `disabled`)."""
        alerts_on = self._config.alerts_enabled and self._config.telegram.staff_chat_id is not None
        staff_chat = await self._repo.staff_chat_status() if alerts_on else "disabled"
        return web.json_response({"status": "ok", "staff_chat": staff_chat})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY + 1)
        app.router.add_post("/api/v1/events", self.post_event)
        app.router.add_get("/api/v1/invitations/{id}", self.get_invitation)
        app.router.add_get("/api/v1/health", self.health)
        return app
