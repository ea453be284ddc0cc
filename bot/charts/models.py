"""What a chart is asked to show, without matplotlib: its words, its place in time, how values
are written, and the chart jobs themselves (one dataclass per kind). The bot's own process
imports only this; the charts are drawn in the chart worker (bot/charts/worker.py), which imports
matplotlib, so a job crosses a process boundary: it holds plain, picklable data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from locales.plurals import PluralText
from survey_flows.models import Metric
from survey_flows.reports import Segment, TrendPoint

logger = logging.getLogger(__name__)

ANSWERS = PluralText(("{count} answer", "{count} answers"))
MORE_GROUPS = PluralText(("+{count} smaller group not shown", "+{count} smaller groups not shown"))
UNITS = {Metric.NPS: "NPS, −100…+100", Metric.CSAT: "CSAT, % of 4–5", Metric.CES: "CES, mean 1–7"}


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The words on the charts, in the reader's language (built by bot/reports/compose.py).
    A PluralText has each plural form and the rule to pick one for the count the chart finds."""

    answers: str = "answers"
    answers_count: PluralText = ANSWERS
    no_answers: str = "No answers in this period"
    too_few: str = "too few to trust"
    more_groups: PluralText = MORE_GROUPS
    not_set: str = "(not set)"
    categories: tuple[str, str, str] = ("detractors", "passives", "promoters")
    so_far: str = "so far"
    units: dict[Metric, str] = field(default_factory=lambda: dict(UNITS))


@dataclass(frozen=True, slots=True)
class Frame:
    """Where a trend sits in time: the report's zone for the dates, the bucket length, now.

    The bucket holding `now` is unfinished: drawn lighter and labelled "so far", not read as a
    drop. Without `now` or `step` no bucket is.
    """

    tz: tzinfo = UTC
    step: timedelta | None = None
    now: datetime | None = None

    def unfinished(self, point: TrendPoint) -> bool:
        if self.step is None or self.now is None:
            return False
        return point.start <= self.now < point.start + self.step


def format_value(metric: Metric, value: float | None) -> str:
    if value is None:
        return "–"
    if metric is Metric.NPS:
        return f"{value:+.0f}"
    if metric is Metric.CSAT:
        return f"{value:.0f}%"
    return f"{value:.1f}"


def format_margin(metric: Metric, margin: float | None) -> str:
    if margin is None:
        return ""
    if metric is Metric.CES:  # a mean on 1..7: keep two decimals for tight margins
        return f" ±{margin:.2f}" if margin < 0.1 else f" ±{margin:.1f}"
    return f" ±{margin:.0f}"


def chart_language(lang: str, cjk: str | None) -> str:
    """The language to draw a chart's words in: Chinese only with a CJK font, else English."""
    if lang != "zh" or cjk is not None:
        return lang
    _warn_no_cjk_font()
    return "en"


@functools.cache  # once per process: the fonts do not change while it runs
def _warn_no_cjk_font() -> None:
    logger.warning(
        "no font with Chinese glyphs: charts for Chinese readers use English words"
        " (install fonts-noto-cjk)"
    )


# --- chart jobs: what the worker is asked to draw ---------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendChart:
    """One metric over time (/nps, /csat, /ces): its value per bucket and the answers."""

    metric: Metric
    title: str
    points: Sequence[TrendPoint]
    total: str  # the headline: "NPS +32 ±8 · n=412"
    labels: ChartLabels
    frame: Frame | None = None


@dataclass(frozen=True, slots=True)
class OverviewChart:
    """Every metric over time, one panel each (/stats and the report)."""

    title: str
    series: Sequence[tuple[Metric, str, Sequence[TrendPoint]]]  # metric, headline, points
    labels: ChartLabels
    frame: Frame | None = None


@dataclass(frozen=True, slots=True)
class SegmentsChart:
    """One bar per group of a context field (/csat by product)."""

    metric: Metric
    title: str
    segments: Sequence[Segment]
    labels: ChartLabels


@dataclass(frozen=True, slots=True)
class ReasonsChart:
    """Alerts resolved per week, stacked by reason (/stats by reason)."""

    title: str
    edges: Sequence[datetime]
    counts: Sequence[dict[str, int]]  # per bucket: reason id -> alerts
    names: Sequence[tuple[str, str]]  # (reason id, label) in the configured order
    labels: ChartLabels
    tz: tzinfo
    ylabel: str = "alerts"


ChartJob = TrendChart | OverviewChart | SegmentsChart | ReasonsChart
