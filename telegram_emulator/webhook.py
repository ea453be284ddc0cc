"""Webhook delivery as Telegram does it: setWebhook, deleteWebhook, getWebhookInfo and the POSTs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from .errors import ApiError, Json, bad_request
from .methods_chat import ChatMethods

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram waits about a minute for an answer, then retries with growing pauses. The emulator
# retries sooner (tests wait for it) but the same way: the same update, in order, until a 2xx.
POST_TIMEOUT = 60.0
RETRY_PAUSES = (0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None
    attempts: list[Json] = field(default_factory=list)  # {"update_id", "status", "error"}


class WebhookMixin(ChatMethods):
    """Bot API methods for webhooks, and the loop that POSTs queued updates to the bot."""

    _webhook: Webhook | None = None
    _webhook_task: asyncio.Task[None] | None = None

    @property
    def webhook(self) -> Webhook | None:
        """The webhook set by the bot (url, secret, allowed updates, delivery attempts), if any."""
        return self._webhook

    async def _get_updates(self, params: Json) -> list[Json]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        return await super()._get_updates(params)

    def _set_webhook(self, params: Json) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request("url is empty")
        if not url:
            self._remove_webhook(params)
            return True
        # Telegram demands https; the emulator also takes http, as bots under test listen locally.
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_RE.fullmatch(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = Webhook(url, secret, allowed if isinstance(allowed, list) else None)
        self._poll_generation += 1  # a long poll still waiting ends with 409
        self._notify_pollers()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver(), name="emulator-webhook")
        return True

    def _delete_webhook(self, params: Json) -> bool:
        self._remove_webhook(params)
        return True

    def _remove_webhook(self, params: Json) -> None:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify_pollers()  # the delivery loop sees there is no webhook and ends

    def _get_webhook_info(self, _params: Json) -> Json:
        hook = self._webhook
        info: Json = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is None:
            return info
        info["max_connections"] = 40
        if hook.allowed_updates is not None:
            info["allowed_updates"] = list(hook.allowed_updates)
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver(self) -> None:
        """POST the oldest pending update until the bot answers 2xx, then the next, in order."""
        failures = 0
        async with aiohttp.ClientSession() as session:
            while (hook := self._webhook) is not None and not self._closing:
                changed = self._updates_changed
                self._updates = [u for u in self._updates if self._allowed(u)]
                if not self._updates:
                    await changed.wait()
                    continue
                update = self._updates[0]
                status, error = await self._post(session, hook, update)
                hook.attempts.append(
                    {"update_id": update["update_id"], "status": status, "error": error}
                )
                if status is not None and 200 <= status < 300:
                    failures = 0
                    self._updates = [u for u in self._updates if u is not update]
                    self._publish("webhook", {"update_id": update["update_id"], "status": status})
                    continue
                hook.last_error_date = self._now()
                hook.last_error_message = error or f"Wrong response from the webhook: {status}"
                pause = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
                failures += 1
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._updates_changed.wait()  # a deleteWebhook ends the pause

    @staticmethod
    async def _post(
        session: aiohttp.ClientSession, hook: Webhook, update: Json
    ) -> tuple[int | None, str | None]:
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with session.post(
                hook.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT),
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"Connection failed: {type(exc).__name__}"
