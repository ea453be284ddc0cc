"""The report's line of top reasons: why alerts were resolved, with the change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.views.alert_card import reason_label
from bot.views.texts import t
from storage.base import AnalyticsRepo

Labels = Mapping[str, Mapping[str, str]]


def label(reason: str, lang: str, custom: Labels | None) -> str:
    return reason_label(reason, lang, custom) if reason else t(lang, "mgr.reason_none")


def change(now: int, before: int) -> str:
    delta = now - before
    return "=" if delta == 0 else f"▲ +{delta}" if delta > 0 else f"▼ −{-delta}"


async def top_reasons(
    analytics: AnalyticsRepo,
    start: datetime,
    end: datetime,
    lang: str,
    custom: Labels | None = None,
    top: int = 3,
) -> list[str]:
    """The three commonest reasons of alerts resolved in [start, end), each with its change
    against the period before; nothing when no reason was picked."""
    now = await analytics.reason_counts(start, end)
    before = await analytics.reason_counts(start - (end - start), start)
    picked = [(r, n) for r, n in now.items() if r][:top]
    if not picked:
        return []
    parts = [f"{label(r, lang, custom)} {n} ({change(n, before.get(r, 0))})" for r, n in picked]
    return [t(lang, "report.top_reasons", reasons=" · ".join(parts))]
