"""aiogram's I18n over our catalogues, and the middleware that gives routers the user's language.

aiogram's `I18n` loads compiled .mo files; ours reads the .po files through `bot.views.catalogues`
(compiled in memory), and by default shares the very translations `bot.views.texts.t()` renders
with, so a router's `gettext` and a worker's `t(lang, key)` can never disagree.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from .catalogues import DOMAIN, Catalogues, locales_dir
from .texts import catalogues, language_of


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


class UserLanguageMiddleware(I18nMiddleware):
    """The user's Telegram language when we have it, else `[delivery] default_language`.

    Chooses exactly as the handlers' `language_of()` does, so context and explicit texts agree.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        return language_of(user.language_code if user else None, self.i18n.default_locale)
