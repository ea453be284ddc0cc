"""The intake HTTP API: businesses post events here; each becomes a scheduled invitation."""

from __future__ import annotations

import hmac
import json
import logging
from collections import Counter
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.config import Config
from bot.intake.events import Accepted, Intake
from bot.intake.links import EXTERNAL_ID_MAX, external_id_problem
from storage.base import SurveyRepo
from survey_flows.clock import Clock
from survey_flows.flow import stop_reason
from survey_flows.scoring import category_name

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024

MAX_BATCH = 1000  # events per POST /api/v1/events:batch
MAX_BATCH_BODY = 8 * 1024 * 1024  # about 8 KiB per event of a full batch

# The routes behind the bearer token, each with the most bytes of JSON body it reads (None: it
# takes no body). Other routes on the app (health, the webhook) pass the middleware untouched.
GUARDED = web.AppKey[dict[web.AbstractRoute, int | None]]("guarded")
BODY = web.RequestKey("body", object)  # a guarded route's body, parsed by the middleware


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


async def _read_body(request: web.Request, limit: int = MAX_BODY) -> bytes | None:
    """The raw body, or None when it exceeds `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, total = [], 0
    while total <= limit:
        chunk = await request.content.read(limit + 1 - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return None if total > limit else b"".join(chunks)


def _batch_item(index: int, result: Accepted) -> dict[str, object]:
    """One event's result in a batch: `status` is the HTTP status a single post would have had;
    the invitation's own status, which a single post calls `status`, is `invitation_status`."""
    body = dict(result.body)
    if "status" in body:
        body["invitation_status"] = body.pop("status")
    return {"index": index, "status": result.status, **body}


class IntakeApi:
    def __init__(
        self,
        config: Config,
        repo: SurveyRepo,
        clock: Clock,
        on_scheduled: Callable[[], None],
        *,
        on_erased: Callable[[], None] | None = None,
        bot_username: str | None = None,  # from getMe: deep links need it
    ) -> None:
        self._config, self._repo, self._clock = config, repo, clock
        self._on_scheduled = on_scheduled
        self._on_erased = on_erased
        self._token = config.api.token.encode()
        self._intake = Intake(config, repo, clock, bot_username=bot_username)

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._token
        )

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A guarded route's token, then its JSON body (into `request[BODY]`), before it runs."""
        guarded = request.app[GUARDED]
        route = request.match_info.route
        if route not in guarded:
            return await handler(request)
        if not self._authorised(request):
            return _error(401, "missing or wrong bearer token", **{"WWW-Authenticate": "Bearer"})
        limit = guarded[route]
        if limit is not None:
            body = await _read_body(request, limit)
            if body is None:
                return _error(413, f"body larger than {limit} bytes")
            try:
                request[BODY] = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                return _error(400, f"body is not valid JSON: {exc}")
        return await handler(request)

    async def post_event(self, request: web.Request) -> web.Response:
        result = await self._intake.accept(request[BODY])
        if result.created:
            self._on_scheduled()
        return web.json_response(result.body, status=result.status)

    async def post_batch(self, request: web.Request) -> web.Response:
        """Up to MAX_BATCH events, each handled exactly as POST /api/v1/events would; the
        answer lists each one's status and body in order. Committed before it answers."""
        data = request[BODY]
        if not isinstance(data, dict) or set(data) != {"events"}:
            return _error(400, 'body must be an object {"events": [...]} and nothing else')
        events = data["events"]
        if not isinstance(events, list):
            return _error(400, "events: must be a list of events")
        if len(events) > MAX_BATCH:
            return _error(400, f"events: at most {MAX_BATCH} per call, got {len(events)}")
        results = await self._intake.accept_many(events)
        if any(r.created for r in results):
            self._on_scheduled()
        counts = Counter(r.status for r in results)
        return web.json_response(
            {
                "results": [_batch_item(i, r) for i, r in enumerate(results)],
                "accepted": counts[202],
                "duplicates": counts[200],
                "rejected": len(results) - counts[202] - counts[200],
            }
        )

    async def get_invitation(self, request: web.Request) -> web.Response:
        try:
            invitation_id = int(request.match_info["id"])
        except ValueError:
            return _error(400, "invitation id must be an integer")
        inv = await self._repo.invitations.get_invitation(invitation_id)
        if inv is None:
            return _error(404, "no such invitation")
        answers = await self._repo.conversation.answers_for(inv.id)
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
                        # The metric's own word: CSAT 1 is "unsatisfied", CES 2 "difficult".
                        "category_name": category_name(a.metric, a.category),
                        "has_comment": a.comment is not None,
                    }
                    for a in answers
                ],
            }
        )

    async def delete_customer(self, request: web.Request) -> web.Response:
        """Erase a customer's personal data (storage/sqlite/erasure.py), keeping anonymous scores.

        The key is a Telegram user id when it is all digits, else the shop's external_id.
        Answers 200 with what was removed, committed before the answer; 404 when unknown.
        """
        key = request.match_info["key"]
        if not 1 <= len(key) <= EXTERNAL_ID_MAX or not key.isprintable():
            return _error(400, f"customer key must be 1-{EXTERNAL_ID_MAX} printable characters")
        now = self._clock()
        if key.isascii() and key.isdigit():
            telegram_id = int(key)
            if telegram_id >= 2**63:  # beyond SQLite's integers: no such Telegram user
                return _error(404, "no such customer")
            erased = await self._repo.customers.erase_customer(now, telegram_id=telegram_id)
        else:
            erased = await self._repo.customers.erase_customer(now, external_id=key)
        if erased is None:
            return _error(404, "no such customer")
        logger.info("customer erased through the API: %s", erased.removed)
        if self._on_erased is not None:
            self._on_erased()
        return web.json_response(
            {"erased": True, "removed": erased.removed, "scores_kept": erased.scores_kept}
        )

    async def get_link(self, request: web.Request) -> web.Response:
        """A fresh deep link for a customer known by the shop's id (one an event named). Every
        call makes a new link; earlier ones stay valid until they expire or are used."""
        external_id = request.match_info["external_id"]
        problem = external_id_problem(external_id)
        if problem is not None:
            return _error(400, f"external_id: {problem}")
        known = await self._repo.links.external_customer(external_id)
        link = await self._intake.links.mint(external_id) if known is not None else None
        if known is None or link is None:
            return _error(
                404,
                "external_id: unknown customer; post an event naming customer.external_id first",
            )
        return web.json_response(
            {
                "external_id": external_id,
                "deep_link": link.url,
                "expires_at": link.expires_at.isoformat(),
                "linked": known.telegram_id is not None,
                "awaiting_link": known.waiting,
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        """Always 200 while the process serves; `staff_chat` says whether alerts can be posted
        (`ok`, `unreachable: <reason>` as the alert worker last found, or `disabled`)."""
        alerts_on = self._config.alerts_enabled and self._config.telegram.staff_chat_id is not None
        staff_chat = await self._repo.staff_chat.staff_chat_status() if alerts_on else "disabled"
        return web.json_response({"status": "ok", "staff_chat": staff_chat})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY + 1, middlewares=[self._guard])
        routes = app.router
        guarded: dict[web.AbstractRoute, int | None] = {
            routes.add_post("/api/v1/events", self.post_event): MAX_BODY,
            routes.add_post("/api/v1/events:batch", self.post_batch): MAX_BATCH_BODY,
            routes.add_get("/api/v1/invitations/{id}", self.get_invitation): None,
            routes.add_get("/api/v1/customers/{external_id:.+}/link", self.get_link): None,
        }
        routes.add_get("/api/v1/health", self.health)  # no token: for probes
        guarded[routes.add_delete("/api/v1/customers/{key}", self.delete_customer)] = None
        app[GUARDED] = guarded
        return app
