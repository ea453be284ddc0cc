"""The gettext catalogues in locales/: each .po file read with Babel and compiled in memory.

No .mo files are built or committed: a translator's edit to a .po file is what the bot shows after
a restart. Every language falls back to English message by message, so a catalogue may leave a
text out (Chinese chart words are drawn in English when no CJK font is installed: see
`bot.charts.models.chart_language`).

A message that embeds a count is a plural entry (msgid and msgid_plural are both its key), with as
many forms as its catalogue's Plural-Forms header says: English 2, Russian and Ukrainian 3,
Chinese 1.

This module needs only Babel, not aiogram, so reports, benchmarks and the chart worker can render
texts without loading the Telegram framework.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from locales.plurals import PluralText

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


def msgid(message: Message) -> str:
    """The key of a message: its msgid, the singular one of a plural entry."""
    return str(message.id if isinstance(message.id, str) else message.id[0])


def forms(message: Message) -> tuple[str, ...]:
    """A message's msgstr: one text, or each form of a plural one."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def translated(message: Message) -> bool:
    """Has a text to show: a msgstr, or every form of a plural one (else English is shown)."""
    texts = forms(message)
    return bool(texts) and all(texts)


def compile_catalogue(catalog: Catalog) -> Translations:
    """A .po catalogue as gettext translations, compiled in memory (fuzzy entries left out, and
    plural entries with a form missing: English shows instead of an empty form)."""
    complete = Catalog(locale=catalog.locale, domain=catalog.domain)
    complete.mime_headers = catalog.mime_headers
    for message in catalog:
        if message.id and translated(message):
            complete[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, complete)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Catalogues:
    """Every language's translations, plus the English msgids (the keys code may ask for):
    `keys` all of them, `plurals` those of messages with a count."""

    def __init__(
        self,
        translations: Mapping[str, Translations],
        keys: tuple[str, ...],
        plurals: frozenset[str] = frozenset(),
        plural_texts: Mapping[tuple[str, str], PluralText] | None = None,
    ) -> None:
        self.translations = dict(translations)
        self.keys = keys
        self.plurals = plurals
        self._singular = frozenset(keys) - plurals
        self._plural_texts = dict(plural_texts or {})

    @classmethod
    def load(cls, root: Traversable | None = None) -> Catalogues:
        """Read every catalogue under `root` (default: the installed locales/)."""
        paths = catalogue_files(root if root is not None else locales_dir())
        if FALLBACK not in paths:
            raise FileNotFoundError(f"no {FALLBACK}/LC_MESSAGES/{DOMAIN}.po under the locales")
        catalogs = {lang: read_catalogue(po, lang) for lang, po in paths.items()}
        translations = {lang: compile_catalogue(cat) for lang, cat in catalogs.items()}
        for lang, translation in translations.items():
            if lang != FALLBACK:
                translation.add_fallback(translations[FALLBACK])
        english = catalogs[FALLBACK]
        keys = tuple(msgid(m) for m in english if m.id and translated(m))
        plurals = frozenset(msgid(m) for m in english if m.id and m.pluralizable)
        plural_texts = {
            (lang, msgid(m)): PluralText(forms(m), catalog.plural_expr)
            for lang, catalog in catalogs.items()
            for m in catalog
            if m.id and m.pluralizable and translated(m)
        }
        return cls(translations, keys, plurals & frozenset(keys), plural_texts)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.translations)

    def gettext(self, key: str, lang: str) -> str:
        """The template for `key` in `lang`: English where `lang` lacks it or is not ours.

        A key missing from English is a bug in the code, not a gap in a translation: KeyError;
        so is a plural key asked for without a count.
        """
        if key not in self._singular:
            raise KeyError(key)
        return self._translation(lang).gettext(key)

    def ngettext(self, key: str, n: int, lang: str) -> str:
        """The template for `key` and the count `n` in `lang`: the form its plural rule picks.

        A plural key missing from English, or a key that is not a plural: KeyError.
        """
        if key not in self.plurals:
            raise KeyError(key)
        return self._translation(lang).ngettext(key, key, n)

    def plural_text(self, key: str, lang: str) -> PluralText:
        """Every form of the plural `key` in `lang` (English's where `lang` lacks one)."""
        if key not in self.plurals:
            raise KeyError(key)
        return self._plural_texts.get((lang, key)) or self._plural_texts[(FALLBACK, key)]

    def _translation(self, lang: str) -> Translations:
        return self.translations.get(lang) or self.translations[FALLBACK]
