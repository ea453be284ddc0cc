"""Keeps aiogram's parsed-response classes alive for the methods the bot calls.

aiogram validates every answer as `Response[<the method's result type>]`, a pydantic generic
class that pydantic caches only weakly: after each garbage collection it was built again,
schema and all, which cost about a tenth of the bot's CPU in a burst of answers. Holding one
reference per method type keeps pydantic's own cache warm; nothing of aiogram is changed.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class KeepResponseTypes(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._kept: dict[type, Any] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self._kept:
            self._kept[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
