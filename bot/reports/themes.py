"""Themes: what unhappy customers say more than happy ones, from the period's comments.

Comments are split per language (bot/reports/text_terms.py) and ranked per language with weighted
log-odds (survey_flows/themes.py); a language with fewer than `[reports] min_comments` comments
ranks nothing. CPU work (about a second per 100,000 comments): it runs in a thread.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.reports.text_terms import doc, language_of
from bot.views.texts import t
from storage.base import AnalyticsRepo
from storage.records import Filters
from survey_flows.models import Category
from survey_flows.themes import Theme, rank

QUOTE_LIMIT = 80


@dataclass(frozen=True, slots=True)
class LanguageThemes:
    lang: str
    comments: int
    detractors: int
    promoters: int
    themes: list[Theme]


def rank_by_language(
    rows: list[tuple[str, str, str | None]], min_comments: int
) -> list[LanguageThemes]:
    """Per language with enough comments (most comments first), its ranked themes."""
    by_lang: dict[str, list[tuple[str, Category]]] = defaultdict(list)
    for text, category, customer_lang in rows:
        by_lang[language_of(text, customer_lang)].append((text, Category(category)))
    out = []
    for lang, items in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
        if len(items) < min_comments:
            continue
        docs = [doc(text, group, lang) for text, group in items]
        out.append(
            LanguageThemes(
                lang,
                len(items),
                sum(1 for _, g in items if g is Category.DETRACTOR),
                sum(1 for _, g in items if g is Category.PROMOTER),
                rank(docs),
            )
        )
    return out


async def themes_of(
    analytics: AnalyticsRepo, start: datetime, end: datetime, filters: Filters, min_comments: int
) -> tuple[int, list[LanguageThemes]]:
    rows = await analytics.comments(start, end, filters)
    return len(rows), await asyncio.to_thread(rank_by_language, rows, min_comments)


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def top_themes(
    analytics: AnalyticsRepo,
    start: datetime,
    end: datetime,
    lang: str,
    min_comments: int,
    top: int = 3,
) -> list[str]:
    """The report's line: the three strongest themes of the language with most comments."""
    _, ranked = await themes_of(analytics, start, end, (), min_comments)
    themes = next((section.themes for section in ranked if section.themes), [])[:top]
    if not themes:
        return []
    parts = " · ".join(f"{clip(th.shown, 40)} ({th.count})" for th in themes)
    return [t(lang, "report.top_themes", themes=parts)]
