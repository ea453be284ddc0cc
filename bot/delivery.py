"""Everything that sends to Telegram and the only place that interprets Telegram's send errors.

- `RateLimiter`: a request middleware on the bot's session, so every call of every feature obeys
  Telegram's limits (30 messages/s overall, ~1/s per private chat, 20/min per group), waits out
  429s for their retry_after and retries network errors with backoff.
- `DeliveryWorker`: the outbox worker. Invitations are rows in SQLite whose current prompt
  (question, follow-up or thank-you) is shown by this worker only, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from aiolimiter import AsyncLimiter

from handlers.prompts import prompt_for
from handlers.texts import language_of
from storage.base import SurveyRepo
from survey_flows.clock import Clock
from survey_flows.flow import SendDecision, decide_send
from survey_flows.models import Invitation, InvitationStatus, Phase, Survey

logger = logging.getLogger(__name__)

# Methods that put something into a chat and so count against Telegram's flood limits.
_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")


class RateLimiter(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        per_second: float = 30,
        private_burst: int = 3,
        private_period: float = 3.0,
        group_per_minute: int = 20,
        max_retry_after: int = 3600,
        network_retries: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._global = AsyncLimiter(per_second, 1)
        self._private = (private_burst, private_period)
        self._group_per_minute = group_per_minute
        self._chats: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        self._max_retry_after = max_retry_after
        self._network_retries = network_retries
        self._sleep = sleep

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            limiter = (
                AsyncLimiter(self._group_per_minute, 60)
                if is_group
                else AsyncLimiter(*self._private)
            )
            self._chats[chat_id] = limiter
            if len(self._chats) > 10_000:  # bounded memory: forget the least recently used chat
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        chat_id = getattr(method, "chat_id", None)
        limited = chat_id is not None and name.startswith(_LIMITED_PREFIXES)
        network_failures = 0
        while True:
            if limited:
                # Per chat first: a busy group must not hold a global slot while it waits.
                async with self._chat_limiter(chat_id), self._global:
                    pass
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = min(exc.retry_after, self._max_retry_after)
                logger.warning("429 on %s to %s: waiting %ss", name, chat_id, wait)
                await self._sleep(wait)
            except (TelegramNetworkError, TelegramServerError):
                network_failures += 1
                if network_failures > self._network_retries:
                    raise
                backoff = 0.5 * 2 ** (network_failures - 1)
                logger.warning(
                    "network error on %s (try %d): retry in %.1fs", name, network_failures, backoff
                )
                await self._sleep(backoff)


# --- sending helpers used by handlers -------------------------------------------------------


async def edit_message(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str | None,
    keyboard: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a message, treating "not modified", "not found" and a blocked chat as done."""
    try:
        if text is None:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
        else:
            await bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
    except TelegramBadRequest as exc:
        if "not modified" in exc.message:
            return True
        logger.info("edit of message %s in %s refused: %s", message_id, chat_id, exc.message)
        return False
    except TelegramForbiddenError:
        logger.info("edit of message %s in %s: chat blocked the bot", message_id, chat_id)
        return False
    return True


@dataclass(frozen=True, slots=True)
class Sent:
    """The outcome of one send: the message, or why there is none."""

    message: Message | None
    blocked: bool = False  # the chat blocked the bot (403) or no longer exists
    error: str | None = None
    transient: bool = False  # a network or server failure: the same send may work later


_MEDIA_SENDERS = {
    "voice": ("send_voice", "voice"),
    "photo": ("send_photo", "photo"),
    "video_note": ("send_video_note", "video_note"),
    "video": ("send_video", "video"),
}


async def send(
    bot: Bot,
    chat_id: int,
    text: str | None = None,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    reply_to: int | None = None,
    media: tuple[str, str] | None = None,
) -> Sent:
    """Send text, or media by its Telegram file id ((kind, file_id)), turning errors into data.

    A 429 or a network error was already retried by the RateLimiter; what reaches here is final.
    """
    reply = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    )
    try:
        if media is not None:
            method, field = _MEDIA_SENDERS[media[0]]
            message = await getattr(bot, method)(
                chat_id=chat_id, reply_parameters=reply, **{field: media[1]}
            )
        else:
            message = await bot.send_message(
                chat_id=chat_id, text=text, reply_markup=keyboard, reply_parameters=reply
            )
    except TelegramForbiddenError as exc:
        logger.info("chat %s refused a message: %s", chat_id, exc.message)
        return Sent(None, blocked=True, error=exc.message)
    except TelegramBadRequest as exc:
        logger.error("message to chat %s rejected: %s", chat_id, exc.message)
        blocked = "chat not found" in exc.message.lower()
        return Sent(None, blocked=blocked, error=exc.message)
    except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
        logger.warning("message to chat %s failed: %s", chat_id, exc)
        return Sent(None, error=str(exc), transient=True)
    return Sent(message)


async def idle_until(
    wake: asyncio.Event, next_due: datetime | None, clock: Clock, max_idle: float
) -> None:
    """Sleep until woken, until `next_due`, or for `max_idle` seconds, whichever comes first.

    The cap bounds how late work is noticed when the clock or another process changed things.
    """
    timeout = max_idle
    if next_due is not None:
        timeout = min(timeout, max((next_due - clock()).total_seconds(), 0.0))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout)
    wake.clear()


# --- the outbox worker -----------------------------------------------------------------------

_DECISION_STATUS = {
    SendDecision.OPTED_OUT: InvitationStatus.CANCELLED,
    SendDecision.RECENTLY_SURVEYED: InvitationStatus.CANCELLED,
    SendDecision.UNREACHABLE: InvitationStatus.FAILED,
    SendDecision.TOO_LATE: InvitationStatus.EXPIRED,
}


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        repo: SurveyRepo,
        surveys: dict[str, Survey],
        clock: Clock,
        *,
        expire_after: timedelta,
        min_gap: timedelta,
        default_language: str = "en",
        max_idle: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._bot, self._repo, self._surveys, self._clock = bot, repo, surveys, clock
        self._expire_after, self._min_gap = expire_after, min_gap
        self._default_language = default_language
        self._max_idle, self._batch = max_idle, batch
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._customers_busy: set[int] = set()
        self._stopping = False

    def wake(self) -> None:
        """Something became due now (a new event, an answer): look at the outbox at once."""
        self._wake.set()

    async def run(self) -> None:
        uncertain = await self._repo.settle_uncertain_prompts()
        if uncertain:
            # Logged so an operator can look: these may or may not have reached the customer.
            logger.warning("prompts interrupted by the last shutdown, not resent: %s", uncertain)
        logger.info("delivery worker started")
        while not self._stopping:
            await self.run_once()
            await self._idle()

    async def stop(self, timeout: float = 10.0) -> None:
        """Start nothing new and let prompts in flight finish, so each is recorded as sent."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            for task in self._in_flight.values():
                task.cancel()
            logger.warning("%d prompts still in flight at shutdown", len(self._in_flight))

    async def _idle(self) -> None:
        await idle_until(self._wake, await self._repo.next_due_at(), self._clock, self._max_idle)

    async def run_once(self) -> int:
        """Start sending every due prompt not already in flight; returns how many were started."""
        started = 0
        if self._stopping:
            return 0
        for inv in await self._repo.due_prompts(self._clock(), self._batch):
            # One prompt per customer at a time keeps their messages in order.
            if inv.id in self._in_flight or inv.customer_id in self._customers_busy:
                continue
            self._customers_busy.add(inv.customer_id)
            task = asyncio.create_task(self._deliver_guarded(inv), name=f"deliver-{inv.id}")
            self._in_flight[inv.id] = task
            started += 1
        return started

    async def drain(self) -> None:
        """Wait for the prompts in flight (tests and shutdown)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _deliver_guarded(self, inv: Invitation) -> None:
        try:
            await self.deliver(inv)
        except Exception:
            logger.exception("delivery of invitation %s failed unexpectedly", inv.id)
            await self._repo.retry_later(
                inv.id, self._clock() + timedelta(minutes=1), "internal error"
            )
        finally:
            self._in_flight.pop(inv.id, None)
            self._customers_busy.discard(inv.customer_id)
            self._wake.set()  # the customer may have more waiting

    async def deliver(self, inv: Invitation) -> None:
        now = self._clock()
        survey = self._surveys.get(inv.survey)
        if survey is None:
            await self._repo.close_invitation(
                inv.id, InvitationStatus.FAILED, "unknown survey", now
            )
            logger.error("invitation %s names unknown survey %r", inv.id, inv.survey)
            return
        customer = await self._repo.get_customer(inv.customer_id)
        if inv.status is InvitationStatus.SCHEDULED:
            decision = decide_send(
                inv,
                customer,
                now,
                expire_after=self._expire_after,
                min_gap=self._min_gap,
                last_invited_at=await self._repo.last_invited_at(inv.customer_id),
            )
            if decision is not SendDecision.SEND:
                logger.info("invitation %s not sent: %s", inv.id, decision)
                await self._repo.close_invitation(inv.id, _DECISION_STATUS[decision], decision, now)
                return
        if not await self._repo.claim_prompt(inv, now):
            return  # the conversation moved on meanwhile; the newer prompt is due instead
        lang = language_of(customer.language if customer else None, self._default_language)
        category = None
        if inv.position.phase is Phase.FOLLOWUP:
            answers = await self._repo.answers_for(inv.id)
            category = next(a.category for a in answers if a.question_index == inv.position.step)
        prompt = prompt_for(survey, inv.id, inv.position, lang, category)
        sent = await send(self._bot, inv.customer_id, prompt.text, prompt.keyboard)
        if sent.message is not None:
            await self._repo.mark_prompt_sent(inv, sent.message.message_id)
        elif sent.blocked:
            logger.info("customer %s unreachable; invitation %s stopped", inv.customer_id, inv.id)
            await self._repo.mark_unreachable(inv.customer_id, now)
        elif sent.transient:
            attempts = await self._repo.attempts(inv.id)
            delay = timedelta(seconds=min(30 * 2**attempts, 3600))
            logger.warning("invitation %s: %s; retry in %s", inv.id, sent.error, delay)
            await self._repo.release_prompt(inv, now + delay, f"network: {sent.error}")
        else:
            await self._repo.close_invitation(
                inv.id, InvitationStatus.FAILED, f"rejected: {sent.error}", now
            )
