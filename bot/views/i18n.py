"""aiogram's I18n over our catalogues, and the middleware that gives routers the user's language.

aiogram's `I18n` loads compiled .mo files; ours reads the .po files through `locales.catalogues`
(compiled in memory), and by default shares the very translations `bot.views.texts.t()` renders
with, so a router's `gettext` and a worker's `t(lang, key)` can never disagree.
"""

from __future__ import annotations

import gettext
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.views.texts import catalogues, language_of
from locales.catalogues import DOMAIN, Catalogues, locales_dir


class CatalogueI18n(I18n):
    """aiogram's I18n reading .po catalogues; English fills any message a language lacks."""

    def __init__(self, *, default_locale: str, loaded: Catalogues | None = None) -> None:
        self.catalogues = loaded if loaded is not None else catalogues()
        path = Path(str(locales_dir()))
        super().__init__(path=path, default_locale=default_locale, domain=DOMAIN)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(self.catalogues.translations)

    @contextmanager
    def context(self) -> Iterator[I18n]:
        """Current for aiogram's `gettext()` too, which asks `I18n.get_current()`: each subclass
        of aiogram's context mixin gets a context variable of its own."""
        token = I18n.set_current(self)
        try:
            with super().context():
                yield self
        finally:
            I18n.reset_current(token)

    def reload(self) -> None:
        """Re-read the .po files (for this instance; `t()` keeps the catalogues it started with)."""
        self.catalogues = Catalogues.load(self.path)
        super().reload()


class AudienceLanguageMiddleware(I18nMiddleware):
    """Each update's language by audience, current for aiogram's gettext and given to handlers
    as `lang`:

    - in the staff chat, the team's language (`[delivery] default_language`);
    - in a private chat, the customer's stored language (from the shop's event, or an earlier
      /start), else their Telegram language, else the default. Managers are read the same way.

    It reads the `config` and `repo` of the dispatcher's workflow data (one primary-key lookup,
    only for private chats, kept as `customer` for the next middleware; nothing is written).
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        if "lang" in data:
            return str(data["lang"])
        config = data["config"]
        default = config.delivery.default_language
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        repo = data.get("repo")
        staff = config.telegram.staff_chat_id
        if (
            chat is not None
            and repo is not None
            and await repo.staff_chat.is_staff_chat(chat.id, staff)
        ):
            return default
        stored = None
        if user is not None and repo is not None and chat is not None and chat.type == "private":
            customer = await repo.customers.get_customer(user.id)
            data["customer"] = customer  # read once: CustomerProfileMiddleware uses it too
            stored = customer.language if customer else None
        return language_of(stored or (user.language_code if user else None), default)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["lang"] = await self.get_locale(event, data)
        return await super().__call__(handler, event, data)
