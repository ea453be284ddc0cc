"""[reports]: scheduled reports and the trust threshold of every manager's figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from bot.config.values import (
    ChatIds,
    Duration,
    Int,
    Language,
    Text,
    TimeZone,
    between,
    cron_line,
)

Count = Annotated[Int, between(1, 1_000_000)]


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """[reports]: scheduled reports and the trust threshold of every manager's figure."""

    # "0 9 * * mon"; None = no scheduled reports
    cron: Annotated[Text, cron_line("0 9 * * mon")] | None = None
    timezone: TimeZone = "UTC"  # for the cron schedule and for calendar periods (today, week...)
    chat_ids: ChatIds = ()  # where scheduled reports go; defaults to the managers
    min_answers: Count = 10  # below this a figure is marked "too few to trust"
    grace: Duration = timedelta(hours=6)  # a missed run is sent on start-up within this time
    language: Language = "en"  # language of scheduled reports
    min_comments: Count = 30  # /themes ranks nothing below this many comments
