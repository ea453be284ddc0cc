"""Who a router listens to: the staff chat, its agents, the managers and where they may read."""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.config import Config
from storage.base import SurveyRepo


class InStaffChat(BaseFilter):
    """Only the staff chat (or the supergroup it was upgraded to): the buttons live there."""

    async def __call__(self, event: TelegramObject, config: Config, repo: SurveyRepo) -> bool:
        if isinstance(event, CallbackQuery):
            chat = event.message.chat if event.message is not None else None
        elif isinstance(event, Message):
            chat = event.chat
        else:
            return False
        return chat is not None and await repo.staff_chat.is_staff_chat(
            chat.id, config.telegram.staff_chat_id
        )


class IsManager(BaseFilter):
    """Only `[telegram] manager_ids`; the config arrives by injection from the dispatcher."""

    async def __call__(self, message: Message, config: Config) -> bool:
        user = message.from_user
        return user is not None and user.id in config.telegram.manager_ids


class InAnalyticsChat(BaseFilter):
    """Where managers' figures may be shown: a private chat, or one of `[reports] chat_ids`."""

    async def __call__(self, message: Message, config: Config) -> bool:
        return message.chat.type == ChatType.PRIVATE or message.chat.id in config.reports.chat_ids


def may_act_on_alerts(user_id: int | None, config: Config) -> bool:
    """`[alerts] staff_ids` when set; otherwise every member of the staff chat."""
    if not config.staff_ids:
        return True
    return user_id is not None and user_id in config.staff_ids


class MayActOnAlerts(BaseFilter):
    """An alert button pressed by someone `may_act_on_alerts` allows."""

    async def __call__(self, query: CallbackQuery, config: Config) -> bool:
        return may_act_on_alerts(query.from_user.id, config)
