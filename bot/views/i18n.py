"""The middleware that gives routers each update's language, as the `lang` handlers take.

Handlers render with `t(lang, key)` from `bot.views.texts`, as the workers do (they have no
update to take a language from): one way to a text. aiogram's own I18n is not installed:
nothing called its gettext, and `t()` also escapes the values it fills in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, User

from bot.views.texts import language_of
from storage.base import SurveyRepo

# What an outer middleware is given to call next.
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Sender:
    user: User
    repo: SurveyRepo


def private_sender(data: dict[str, Any]) -> Sender | None:
    """The sender of an update in a private chat, with the repo to look them up in (None for a
    group, a sender-less update, or a dispatcher wired without a repo)."""
    user: User | None = data.get("event_from_user")
    chat: Chat | None = data.get("event_chat")
    repo: SurveyRepo | None = data.get("repo")
    if user is None or repo is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    return Sender(user, repo)


class AudienceLanguageMiddleware(BaseMiddleware):
    """Each update's language by audience, given to handlers as `lang`:

    - in the staff chat, the team's language (`[delivery] default_language`);
    - in a private chat, the customer's stored language (from the shop's event, or an earlier
      /start), else their Telegram language, else the default. Managers are read the same way.

    It reads the `config` and `repo` of the dispatcher's workflow data (one primary-key lookup,
    only for private chats, kept as `customer` for the next middleware; nothing is written).
    """

    def setup(self, router: Router) -> AudienceLanguageMiddleware:
        """Outer middleware of every event type but the raw update: messages, button presses…"""
        for event_name, observer in router.observers.items():
            if event_name != "update":
                observer.outer_middleware(self)
        return self

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        if "lang" in data:
            return str(data["lang"])
        config = data["config"]
        default = config.delivery.default_language
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        repo: SurveyRepo | None = data.get("repo")
        staff = config.telegram.staff_chat_id
        if (
            chat is not None
            and repo is not None
            and await repo.staff_chat.is_staff_chat(chat.id, staff)
        ):
            return default
        stored = None
        if (sender := private_sender(data)) is not None:
            customer = await sender.repo.customers.get_customer(sender.user.id)
            data["customer"] = customer  # read once: CustomerProfileMiddleware uses it too
            stored = customer.language if customer else None
        return language_of(stored or (user.language_code if user else None), default)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["lang"] = await self.get_locale(event, data)
        return await handler(event, data)
