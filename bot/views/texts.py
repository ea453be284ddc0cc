"""Every user-visible string, rendered from the gettext catalogues in locales/.

Keys are the catalogues' msgids; English is complete, other languages fall back to it per key.
Strings are HTML (the bot's parse mode); placeholders are filled by `t()`, which escapes values,
so anything a customer typed can go in safely. A text with a count is a plural message: `nt()`
picks its form for the count. Every caller names the language: workers the customer's or the
staff chat's, routers the `lang` that `bot.views.i18n` gives each update.

Every key is written out where it is used, as the argument of `t`, `raw_t`, `nt`, `plural_text`
or, for a key kept in a table until later, `N_`: that is what `pybabel extract` finds (README,
Translations), so a key is never built from data.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping

from locales.catalogues import FALLBACK, Catalogues, PluralText, languages
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


def N_(key: str) -> str:
    """Marks a key kept in a table and shown later (gettext's `N_`, gettext_noop): returns it
    unchanged, so `pybabel extract` finds the key where it is written."""
    return key


def _escaped(values: Mapping[str, object]) -> dict[str, str]:
    return {k: html.escape(str(v), quote=False) for k, v in values.items()}


def t(lang: str, key: str, /, **values: object) -> str:
    """The text for `key` in `lang`, with values HTML-escaped into its placeholders."""
    return catalogues().gettext(key, lang).format(**_escaped(values))


def raw_t(lang: str, key: str, /, **values: str) -> str:
    """Like t(), for values that are already safe HTML (our own formatted fragments)."""
    return catalogues().gettext(key, lang).format(**values)


def nt(lang: str, key: str, n: int, /, **values: object) -> str:
    """Like t(), for a plural message: the form for the count `n` in `lang` (one answer, two
    answers; Russian's three forms). `n` only picks the form: the placeholders are `values`."""
    return catalogues().ngettext(key, n, lang).format(**_escaped(values))


def plural_text(lang: str, key: str, /) -> PluralText:
    """Every form of a plural message in `lang`, for a count known only later (a chart's)."""
    return catalogues().plural_text(key, lang)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


# A metric's default question and the scale line under it.
_QUESTION_KEYS: Mapping[Metric, tuple[str, str]] = {
    Metric.CSAT: (N_("question.csat"), N_("scale.csat")),
    Metric.NPS: (N_("question.nps"), N_("scale.nps")),
    Metric.CES: (N_("question.ces"), N_("scale.ces")),
}
_FOLLOWUP_KEYS: Mapping[Category, str] = {
    Category.DETRACTOR: N_("followup.detractor"),
    Category.PASSIVE: N_("followup.passive"),
    Category.PROMOTER: N_("followup.promoter"),
}

# A comment that is not text, by its Telegram kind (storage's comment_kind): how staff read it.
COMMENT_KINDS: Mapping[str, str] = {
    "voice": N_("alert.kind.voice"),
    "photo": N_("alert.kind.photo"),
    "video_note": N_("alert.kind.video_note"),
    "video": N_("alert.kind.video"),
}


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
    asked, scale = _QUESTION_KEYS[question.metric]
    text = localized(question.text, lang, context) or t(lang, asked)
    if with_scale:
        text += f"\n<i>{t(lang, scale)}</i>"
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
    text = configured or t(lang, _FOLLOWUP_KEYS[category])
    if not with_hint:
        return text
    hint = t(lang, "followup.hint")
    return f"{text}\n<i>{hint}</i>"


SCORE_FACES: Mapping[Metric, Mapping[int, str]] = {
    Metric.CSAT: {1: "😡", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"},
    Metric.CES: {1: "😫", 4: "😐", 7: "😌"},
    Metric.NPS: {},
}


def score_label(metric: Metric, score: int) -> str:
    """A button label: always the number itself, with a face where it helps."""
    face = SCORE_FACES[metric].get(score)
    return f"{score} {face}" if face else str(score)
