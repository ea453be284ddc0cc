"""Who a router listens to: the staff chat, the configured managers."""

from __future__ import annotations

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.config import Config


class InStaffChat(BaseFilter):
    """Only the configured staff chat: the buttons live there, so its members are the staff."""

    async def __call__(self, event: TelegramObject, config: Config) -> bool:
        if isinstance(event, CallbackQuery):
            chat = event.message.chat if event.message is not None else None
        elif isinstance(event, Message):
            chat = event.chat
        else:
            return False
        return chat is not None and chat.id == config.telegram.staff_chat_id


class IsManager(BaseFilter):
    """Only `[telegram] manager_ids`; the config arrives by injection from the dispatcher."""

    async def __call__(self, message: Message, config: Config) -> bool:
        user = message.from_user
        return user is not None and user.id in config.telegram.manager_ids
