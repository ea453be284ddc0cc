"""/themes [period] [filters]: the words and phrases that most distinguish detractors'
comments from promoters', each with its count, z-score and two short quotes."""

from __future__ import annotations

from bot.config import ReportsConfig
from bot.reports.compose import Outgoing, title_block, unmatched_filters
from bot.reports.themes import clip, themes_of
from bot.views.texts import nt, t
from storage.base import AnalyticsRepo
from survey_flows.periods import Selection

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "uk": "Українська", "zh": "中文"}


async def themes_reply(
    analytics: AnalyticsRepo, selection: Selection, cfg: ReportsConfig, lang: str
) -> list[Outgoing]:
    p = selection.period
    head = title_block(lang, t(lang, "mgr.themes_title"), selection, cfg)
    total, ranked = await themes_of(analytics, p.start, p.end, selection.filters, cfg.min_comments)
    if total == 0:
        hints = await unmatched_filters(analytics, selection, lang)
        return [Outgoing("\n".join([head, "", t(lang, "mgr.themes_none"), *hints]))]
    if not ranked:
        too_few = t(lang, "mgr.themes_too_few", n=total, min=cfg.min_comments)
        return [Outgoing(f"{head}\n\n{too_few}")]
    lines = [head]
    for section in ranked:
        lines.append("")
        if len(ranked) > 1:
            lines.append(f"<b>{LANGUAGE_NAMES.get(section.lang, section.lang)}</b>")
        lines.append(
            nt(
                lang,
                "mgr.themes_counts",
                section.comments,
                n=section.comments,
                detractors=section.detractors,
                promoters=section.promoters,
            )
        )
        if not section.detractors or not section.promoters:
            lines.append(t(lang, "mgr.themes_one_side"))
            continue
        if not section.themes:
            lines.append(t(lang, "mgr.themes_no_difference"))
            continue
        for number, theme in enumerate(section.themes, 1):
            lines.append(
                nt(
                    lang,
                    "mgr.theme_line",
                    theme.count,
                    number=number,
                    theme=clip(theme.shown, 40),
                    count=theme.count,
                    z=f"{theme.z:.1f}",
                )
            )
            quotes = " · ".join(f"«{clip(q)}»" for q in theme.quotes)
            lines.append(t(lang, "mgr.theme_quotes", quotes=quotes))
    return [Outgoing("\n".join(lines))]
