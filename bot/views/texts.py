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

from locales.catalogues import FALLBACK, Catalogues, languages
from survey_flows.models import Category, Metric, Question, Text
from survey_flows.placeholders import fill_placeholders

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


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def localized(text: Text, lang: str, context: Mapping[str, str] | None = None) -> str | None:
    """Pick a configured text (one string or a language table) for `lang`, escaped for HTML,
    with `{product}`-style placeholders filled from the event's context (missing ones left out
    cleanly: survey_flows/placeholders.py)."""
    if text is None:
        return None
    if isinstance(text, str):
        chosen = text
    else:
        chosen = text.get(lang) or text.get(FALLBACK) or next(iter(text.values()))
    return fill_placeholders(chosen, context or {}, _escape)


def question_text(
    question: Question,
    lang: str,
    *,
    with_scale: bool = True,
    context: Mapping[str, str] | None = None,
) -> str:
    """The question as shown to the customer (HTML)."""
    text = localized(question.text, lang, context) or t(lang, f"question.{question.metric.value}")
    if with_scale:
        text += f"\n<i>{t(lang, f'scale.{question.metric.value}')}</i>"
    return text


def followup_text(
    question: Question,
    category: Category,
    lang: str,
    *,
    with_hint: bool = True,
    context: Mapping[str, str] | None = None,
) -> str:
    configured = localized(question.followup.get(category), lang, context)
    text = configured or t(lang, f"followup.{category}")
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
