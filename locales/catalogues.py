"""The gettext catalogues in locales/: each .po file read with Babel and compiled in memory.

No .mo files are built or committed: a translator's edit to a .po file is what the bot shows after
a restart. Every language falls back to English message by message, so a catalogue may leave a
text out (Chinese keeps the English chart labels: the chart font has no CJK glyphs).

This module needs only Babel, not aiogram, so reports and benchmarks can render texts without
loading the Telegram framework; `bot.views.i18n` hands the same translations to aiogram's I18n.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "messages"
FALLBACK = "en"


def locales_dir() -> Traversable:
    """The installed `locales` package (beside the sources in an editable install)."""
    return files("locales")


def catalogue_files(root: Traversable) -> dict[str, Traversable]:
    """language -> its .po file, for every `<lang>/LC_MESSAGES/messages.po` under `root`."""
    found = {}
    for folder in root.iterdir():
        po = folder / "LC_MESSAGES" / f"{DOMAIN}.po"
        if folder.is_dir() and po.is_file():
            found[folder.name] = po
    return dict(sorted(found.items()))


def languages() -> tuple[str, ...]:
    """The languages with a catalogue in locales/ (adding a .po file adds one)."""
    return tuple(catalogue_files(locales_dir()))


def read_catalogue(po: Traversable, lang: str | None = None) -> Catalog:
    with po.open("rb") as fp:
        return read_po(fp, locale=lang, domain=DOMAIN)


def compile_catalogue(catalog: Catalog) -> Translations:
    """A .po catalogue as gettext translations, compiled in memory (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Catalogues:
    """Every language's translations, plus the English msgids (the keys code may ask for)."""

    def __init__(self, translations: Mapping[str, Translations], keys: tuple[str, ...]) -> None:
        self.translations = dict(translations)
        self.keys = keys
        self._known = frozenset(keys)

    @classmethod
    def load(cls, root: Traversable | None = None) -> Catalogues:
        """Read every catalogue under `root` (default: the installed locales/)."""
        paths = catalogue_files(root if root is not None else locales_dir())
        if FALLBACK not in paths:
            raise FileNotFoundError(f"no {FALLBACK}/LC_MESSAGES/{DOMAIN}.po under the locales")
        catalogs = {lang: read_catalogue(po, lang) for lang, po in paths.items()}
        translations = {lang: compile_catalogue(cat) for lang, cat in catalogs.items()}
        english = translations[FALLBACK]
        for lang, translation in translations.items():
            if lang != FALLBACK:
                translation.add_fallback(english)
        keys = tuple(str(m.id) for m in catalogs[FALLBACK] if m.id and m.string)
        return cls(translations, keys)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.translations)

    def gettext(self, key: str, lang: str) -> str:
        """The template for `key` in `lang`: English where `lang` lacks it or is not ours.

        A key missing from English is a bug in the code, not a gap in a translation: KeyError.
        """
        if key not in self._known:
            raise KeyError(key)
        translation = self.translations.get(lang) or self.translations[FALLBACK]
        return translation.gettext(key)
