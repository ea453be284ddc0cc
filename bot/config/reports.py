"""[reports]: scheduled reports and the trust threshold of every manager's figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.config.section import ConfigError, Section
from locales.catalogues import languages

DEFAULT_REPORT_GRACE = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """[reports]: scheduled reports and the trust threshold of every manager's figure."""

    cron: str | None = None  # "0 9 * * mon"; None = no scheduled reports
    timezone: str = "UTC"  # for the cron schedule and for calendar periods (today, week...)
    chat_ids: tuple[int, ...] = ()  # where scheduled reports go; defaults to the managers
    min_answers: int = 10  # below this a figure is marked "too few to trust"
    grace: timedelta = DEFAULT_REPORT_GRACE  # a missed run is sent on start-up within this time
    language: str = "en"  # language of scheduled reports
    min_comments: int = 30  # /themes ranks nothing below this many comments


def parse_reports(raw: Any, manager_ids: tuple[int, ...]) -> ReportsConfig:
    rp = Section(
        raw,
        "reports",
        {"cron", "timezone", "chat_ids", "min_answers", "grace", "language", "min_comments"},
    )
    timezone, cron = rp.schedule("UTC", "0 9 * * mon")
    chat_ids = rp.raw.get("chat_ids", list(manager_ids))
    if not isinstance(chat_ids, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in chat_ids
    ):
        raise ConfigError("reports.chat_ids: must be a list of integer chat ids")
    language = rp.str("language", "en")
    if language not in languages():
        raise ConfigError(f"reports.language: must be one of {', '.join(languages())}")
    return ReportsConfig(
        cron=cron,
        timezone=timezone,
        chat_ids=tuple(chat_ids),
        min_answers=rp.int("min_answers", 10, low=1, high=1_000_000),
        grace=rp.duration("grace", DEFAULT_REPORT_GRACE),
        language=language,
        min_comments=rp.int("min_comments", 30, low=1, high=1_000_000),
    )
