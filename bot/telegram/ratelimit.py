"""Telegram's flood limits for every call of every feature, as a request middleware on the session.

30 messages/s overall, ~1/s per private chat, 20/min per group; a 429 is waited out for its
retry_after and the call repeated; network and 5xx errors are retried with backoff.

Telegram counts in rolling windows: at most 30 in any one second. A token bucket that holds a
second's worth of tokens lets 30 go at one instant and 30 more just after, which Telegram refuses.
So the overall rate is shaped into evenly spaced sends (a bucket of one, at 98% of the limit: the
spare 2% absorbs jitter between our clock and Telegram's), and 429 stays the last line of defence.

Paid broadcast (`[telegram] paid_broadcast`): sends that may carry `allow_paid_broadcast` use it
only when the free rate has no room at that moment, so the shop pays Stars only for the messages
above the free 30 a second, up to Telegram's 1,000.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiolimiter import AsyncLimiter

from survey_flows.backoff import Backoff

logger = logging.getLogger(__name__)

# Methods that put something into a chat and so count against Telegram's flood limits.
_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")
FREE_PER_SECOND = 30.0
PAID_PER_SECOND = 1000.0
HEADROOM = 0.98  # of each limit actually used: see the module docstring
# 0.5 s, 1 s, 2 s, ... after each network or server error; `Retries.network` bounds it.
NETWORK_BACKOFF = Backoff(first=0.5)


class _Pool:
    """At most `per_second` calls in any rolling second: a small bucket drained at 98% of it.

    The bucket holds 1% of a second's calls (at least one), so the most a rolling second can
    see is that burst plus 98% of the rate: under the limit. It counts its waiting callers, so
    the paid pool can be chosen when the free one has a queue.
    """

    def __init__(self, per_second: float) -> None:
        burst = max(1, int(per_second / 100))
        self.rate = per_second * HEADROOM
        self._limiter = AsyncLimiter(burst, burst / self.rate)
        self.waiting = 0

    def delay(self) -> float:
        """About how long a caller arriving now would wait."""
        return self.waiting / self.rate

    async def __aenter__(self) -> None:
        self.waiting += 1
        try:
            await self._limiter.acquire()
        finally:
            self.waiting -= 1

    async def __aexit__(self, *exc: object) -> None:
        return None


class RollingWindow:
    """At most `size` entries in any rolling `length` seconds: what Telegram counts in a group.

    A leaky bucket of 20 a minute would let 20 go at once and then one every 3 s, 39 in the
    first minute; this waits until the oldest of the last 20 is a minute (plus 2%) old.
    """

    def __init__(self, size: int, length: float) -> None:
        self._size, self._length = size, length / HEADROOM
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()  # first come, first served

    async def __aenter__(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._times and self._times[0] <= now - self._length:
                    self._times.popleft()
                if len(self._times) < self._size:
                    self._times.append(now)
                    return
                await asyncio.sleep(self._times[0] + self._length - now)

    async def __aexit__(self, *exc: object) -> None:
        return None


ChatLimiter = AsyncLimiter | RollingWindow


@dataclass(frozen=True, slots=True)
class Retries:
    """How a refused call is tried again: a 429's wait is capped at `max_retry_after`
    seconds; a network or server error is retried `network` times (NETWORK_BACKOFF apart)."""

    max_retry_after: int = 3600
    network: int = 4


class RateLimiter(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        per_second: float = FREE_PER_SECOND,
        paid_per_second: float | None = None,
        private_burst: int = 3,
        private_period: float = 3.0,
        group_per_minute: int = 20,
        group_window: float = 60.0,
        retries: Retries = Retries(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = (per_second, paid_per_second, group_per_minute)
        self._global = _Pool(per_second)
        # Set only with paid broadcast on: the pool that sends above the free rate draw from.
        self._paid = _Pool(paid_per_second) if paid_per_second else None
        self._private = (private_burst, private_period)
        self._group = (group_per_minute, group_window)
        self.processes = 1
        self._chats: OrderedDict[int | str, ChatLimiter] = OrderedDict()
        self._retries = retries
        self._sleep = sleep

    def share(self, processes: int) -> None:
        """Telegram's limits are the bot's, whichever process sends: with `processes` bot
        processes on one database, each keeps to its share of the overall rates and of each
        group's (the staff chat's 20/min). A private chat's limit is not divided: one customer's
        prompts are sent by one process at a time (the outbox's claims)."""
        processes = max(1, processes)
        if processes == self.processes:
            return
        self.processes = processes
        free, paid, group = self._limits
        self._global = _Pool(free / processes)
        self._paid = _Pool(paid / processes) if paid else None
        self._group = (max(1, group // processes), self._group[1])
        self._chats = OrderedDict(  # groups' windows are made anew at the new size
            (chat, limiter)
            for chat, limiter in self._chats.items()
            if isinstance(limiter, AsyncLimiter)
        )
        logger.info(
            "%d bot processes share this bot: sending at 1/%d of its limits", processes, processes
        )

    def _chat_limiter(self, chat_id: int | str) -> ChatLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            limiter = RollingWindow(*self._group) if is_group else AsyncLimiter(*self._private)
            self._chats[chat_id] = limiter
            if len(self._chats) > 10_000:  # bounded memory: forget the least recently used chat
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    def _overall(self, method: TelegramMethod[TelegramType]) -> _Pool:
        """The free pool, or the paid one when it would send this sooner and the method may pay.

        Each pool's delay is its queue over its rate: in a burst the free pool still takes one
        send every 34 ms, and the paid pool (paid for per message) the rest.
        """
        if self._paid is None or not hasattr(method, "allow_paid_broadcast"):
            return self._global
        if not method.allow_paid_broadcast and self._global.delay() <= self._paid.delay():
            return self._global
        method.allow_paid_broadcast = True
        return self._paid

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
            if limited and chat_id is not None:
                # Per chat first: a busy group must not hold a global slot while it waits.
                async with self._chat_limiter(chat_id), self._overall(method):
                    pass
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = min(exc.retry_after, self._retries.max_retry_after)
                logger.warning("429 on %s to %s: waiting %ss", name, chat_id, wait)
                await self._sleep(wait)
            except (TelegramNetworkError, TelegramServerError):
                network_failures += 1
                if network_failures > self._retries.network:
                    raise
                backoff = NETWORK_BACKOFF.delay(network_failures)
                logger.warning(
                    "network error on %s (try %d): retry in %.1fs", name, network_failures, backoff
                )
                await self._sleep(backoff)
