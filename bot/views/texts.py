"""Every user-visible string, rendered from the gettext catalogues in locales/.

Keys are the catalogues' msgids; English is complete, other languages fall back to it per key.
Strings are HTML (the bot's parse mode); placeholders are filled by `t()`, which escapes values,
so anything a customer typed can go in safely. Workers pass the language explicitly (the
customer's, the staff chat's); routers also get aiogram's I18n context (`bot.views.i18n`), built
on the same catalogues.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping

from bot.catalogues import FALLBACK, Catalogues, languages
from survey_flows.models import Category, Metric, Question, Text

LANGUAGES: tuple[str, ...] = languages()


@functools.cache
def catalogues() -> Catalogues:
    """The catalogues in locales/, read on first use and kept for the process."""
    return Catalogues.load()


def keys() -> tuple[str, ...]:
    """Every text key (the English catalogue's msgids), in catalogue order."""
    return catalogues().keys


def language_of(code: str | None, default: str = FALLBACK) -> str:
    """Telegram's language_code ("en-GB", "pt-br") -> one of ours, else the default."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default


def t(lang: str, key: str, /, **values: object) -> str:
    """The text for `key` in `lang`, with values HTML-escaped into its placeholders."""
    template = catalogues().gettext(key, lang)
    return template.format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})


def raw_t(lang: str, key: str, /, **values: str) -> str:
    """Like t(), for values that are already safe HTML (our own formatted fragments)."""
    return catalogues().gettext(key, lang).format(**values)


def localized(text: Text, lang: str) -> str | None:
    """Pick a configured text (one string or a language table) for `lang`, escaped for HTML."""
    if text is None:
        return None
    if isinstance(text, str):
        return html.escape(text, quote=False)
    chosen = text.get(lang) or text.get(FALLBACK) or next(iter(text.values()))
    return html.escape(chosen, quote=False)


def question_text(question: Question, lang: str, *, with_scale: bool = True) -> str:
    """The question as shown to the customer (HTML)."""
    text = localized(question.text, lang) or t(lang, f"question.{question.metric.value}")
    if with_scale:
        text += f"\n<i>{t(lang, f'scale.{question.metric.value}')}</i>"
    return text


def followup_text(
    question: Question, category: Category, lang: str, *, with_hint: bool = True
) -> str:
    text = localized(question.followup.get(category), lang) or t(lang, f"followup.{category}")
    return f"{text}\n<i>{t(lang, 'followup.hint')}</i>" if with_hint else text


SCORE_FACES: Mapping[Metric, Mapping[int, str]] = {
    Metric.CSAT: {1: "😡", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"},
    Metric.CES: {1: "😫", 4: "😐", 7: "😌"},
    Metric.NPS: {},
}


def score_label(metric: Metric, score: int) -> str:
    """A button label: always the number itself, with a face where it helps."""
    face = SCORE_FACES[metric].get(score)
    return f"{score} {face}" if face else str(score)
