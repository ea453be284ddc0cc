"""Telegram's flood limits for every call of every feature, as a request middleware on the session.

30 messages/s overall, ~1/s per private chat, 20/min per group; a 429 is waited out for its
retry_after and the call repeated; network and 5xx errors are retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiolimiter import AsyncLimiter

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
            if limited and chat_id is not None:
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
