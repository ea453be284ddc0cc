"""Managers' messages: metric, segment, stats and report replies, and the CSV export.

Queries go through `repo.analytics`, maths through `survey_flows`, words through
`bot.views.texts`, pictures through `bot.charts`. The result is a list of `Outgoing` messages
that `bot.reports.sender` delivers within Telegram's limits. No aiogram here: composing a report
costs no Telegram machinery (the benchmark measures exactly this part).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.charts import models as chart_types
from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.reports import words
from bot.reports.themes import top_themes
from bot.reports.top_reasons import Labels, top_reasons
from bot.views.texts import nt, plural_text, raw_t, t
from storage.base import AnalyticsRepo
from survey_flows.durations import format_duration
from survey_flows.metrics import Change, MetricResult
from survey_flows.models import Category, Metric
from survey_flows.periods import (
    Bucket,
    Period,
    Selection,
    bucket_edges,
    bucket_for,
    describe_filters,
    shown_span,
)
from survey_flows.reports import Figure, Segment, figure, segments, trend
from survey_flows.scoring import category, category_name

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOCUMENT_LIMIT = 49 * 1024 * 1024  # bots may send documents up to 50 MB
MAX_SEGMENT_LINES = 40
COMMENT_PREVIEW = 200
METRIC_ORDER = (Metric.NPS, Metric.CSAT, Metric.CES)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One thing to send: HTML text, optionally with a PNG chart."""

    text: str
    photo: bytes | None = None
    photo_caption: str | None = None  # used when `text` is too long to be the caption


# --- formatting ------------------------------------------------------------------------------


def tz_of(cfg: ReportsConfig) -> tzinfo:
    return ZoneInfo(cfg.timezone)


def _when(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def period_line(period: Period, cfg: ReportsConfig) -> str:
    tz = tz_of(cfg)
    return f"{_when(period.start, tz)} – {_when(period.end, tz)} ({cfg.timezone})"


def headline(metric: Metric, result: MetricResult) -> str:
    """Plain text for charts: "NPS +32 ±8 · n=412"."""
    value = chart_types.format_value(metric, result.value)
    margin = chart_types.format_margin(metric, result.margin)
    return f"{metric.value.upper()} {value}{margin} · n={result.n}"


def _value_html(metric: Metric, result: MetricResult) -> str:
    value = chart_types.format_value(metric, result.value)
    return f"<b>{value}</b>{chart_types.format_margin(metric, result.margin)}"


def _segment_value_html(metric: Metric, seg: Segment) -> str:
    """A group under min_answers shows its value without a margin: ±0 from one answer would
    read as certainty, and the line already says "too few"."""
    if seg.trusted:
        return _value_html(metric, seg.result)
    return f"<b>{chart_types.format_value(metric, seg.result.value)}</b>"


async def unmatched_filters(analytics: AnalyticsRepo, selection: Selection, lang: str) -> list[str]:
    """One line per filter that matches no answer of the period, naming the values there are."""
    p, lines = selection.period, []
    for key, value in selection.filters:
        if (await analytics.activity(p.start, p.end, [(key, value)])).answers:
            continue
        known = await analytics.context_values(key, p.start, p.end)
        if known:
            lines.append(
                t(lang, "mgr.filter_unmatched", key=key, value=value, values=", ".join(known))
            )
        else:
            lines.append(t(lang, "mgr.filter_unknown_key", key=key))
    return lines


def _delta(metric: Metric, delta: float) -> str:
    if metric is Metric.CES:
        return f"{delta:+.1f}"
    return f"{delta:+.0f}" + (" pp" if metric is Metric.CSAT else "")


def change_text(lang: str, metric: Metric, fig: Figure) -> str:
    """▲ +4 vs the previous period (+28, n=390) — within noise."""
    ch: Change | None = fig.change
    if ch is None:
        return t(lang, "mgr.change.none")
    arrow = "▲" if ch.delta > 0.05 else "▼" if ch.delta < -0.05 else "="
    delta = _delta(metric, ch.delta)
    previous = chart_types.format_value(metric, fig.previous.value)
    n = fig.previous.n
    if ch.significant:
        return t(lang, "mgr.change", arrow=arrow, delta=delta, previous=previous, n=n)
    return t(lang, "mgr.change.noise", arrow=arrow, delta=delta, previous=previous, n=n)


def trust_text(lang: str, result: MetricResult, cfg: ReportsConfig) -> str:
    if result.n >= cfg.min_answers:
        return ""
    return " " + t(lang, "mgr.too_few", n=result.n, min=cfg.min_answers)


def category_shares(metric: Metric, fig: Figure) -> dict[Category, float]:
    """Percent of answers in each category; NPS results carry them, CSAT/CES carry scores."""
    b, n = fig.result.breakdown, fig.result.n
    if metric is Metric.NPS:
        return {cat: float(b[cat.value]) for cat in Category}
    shares = dict.fromkeys(Category, 0.0)
    for score, count in b.items():
        shares[category(metric, int(score))] += 100.0 * count / n
    return shares


def breakdown_text(lang: str, metric: Metric, fig: Figure) -> str:
    """Promoters 40% · Passives … for NPS; Satisfied … / Easy … plus the scores for CSAT, CES."""
    n = fig.result.n
    if not n:
        return ""
    # Placeholders are the category names ({satisfied}, {easy}); NPS's are plural ({promoters}).
    plural = "s" if metric is Metric.NPS else ""
    shares = {
        category_name(metric, cat) + plural: f"{pct:.0f}%"
        for cat, pct in category_shares(metric, fig).items()
    }
    named = t(lang, words.BREAKDOWNS[metric], **shares)
    if metric is Metric.NPS:
        return named
    parts = [
        f"{score}: {100 * count / n:.0f}%"
        for score, count in sorted(fig.result.breakdown.items(), key=lambda kv: -int(kv[0]))
    ]
    return named + "\n" + t(lang, "mgr.breakdown.scores", scores=" · ".join(parts))


def metric_line(lang: str, metric: Metric, fig: Figure, cfg: ReportsConfig) -> str:
    """NPS +32 ±8 · n=412 · ▲ +4 vs …"""
    if fig.result.n == 0:
        return t(lang, "mgr.metric.empty", metric=metric.value.upper())
    return (
        f"{metric.value.upper()} {_value_html(metric, fig.result)} · n={fig.result.n}"
        f"{trust_text(lang, fig.result, cfg)}\n   {change_text(lang, metric, fig)}"
    )


def title_block(lang: str, title: str, selection: Selection, cfg: ReportsConfig) -> str:
    lines = [
        t(lang, "mgr.title", title=title, period=selection.period.label),
        f"<i>{period_line(selection.period, cfg)}</i>",
    ]
    if selection.filters:
        lines.append(t(lang, "mgr.filters", filters=describe_filters(selection.filters)))
    return "\n".join(lines)


def category_labels(lang: str, metric: Metric) -> tuple[str, str, str]:
    """The metric's words for its groups, low to high: NPS detractors … CES difficult … easy."""
    low, middle, high = (raw_t(lang, words.CATEGORIES[metric][cat]) for cat in Category)
    return low, middle, high


def chart_labels(
    lang: str, metric: Metric = Metric.NPS, cjk: str | None = None
) -> chart_types.ChartLabels:
    """The chart's words from the catalogues. Chinese only with a CJK font (`cjk`: the one the
    chart worker found, `await charts.cjk_family()`), else English: boxes are unreadable."""
    lang = chart_types.chart_language(lang, cjk)
    return chart_types.ChartLabels(
        answers=raw_t(lang, "chart.answers"),
        no_answers=raw_t(lang, "chart.no_answers"),
        too_few=raw_t(lang, "chart.too_few"),
        answers_count=plural_text(lang, "chart.answers_count"),
        more_groups=plural_text(lang, "chart.more_groups"),
        not_set=raw_t(lang, "chart.not_set"),
        categories=category_labels(lang, metric),
        so_far=raw_t(lang, "chart.so_far"),
        units={m: raw_t(lang, words.UNITS[m]) for m in Metric},
    )


def chart_frame(cfg: ReportsConfig, bucket: Bucket, now: datetime) -> chart_types.Frame:
    # The bucket holding the present (the caller's clock) is the one still filling.
    return chart_types.Frame(tz_of(cfg), bucket.step, now)


def _chart_title(title: str, selection: Selection) -> str:
    extra = f" · {describe_filters(selection.filters)}" if selection.filters else ""
    return f"{title} · {selection.period.label}{extra}"


# --- replies ---------------------------------------------------------------------------------


async def _figures(
    analytics: AnalyticsRepo, selection: Selection, cfg: ReportsConfig
) -> dict[Metric, Figure]:
    p, prev = selection.period, selection.period.previous()
    now = await analytics.distributions(p.start, p.end, selection.filters)
    before = await analytics.distributions(prev.start, prev.end, selection.filters)
    return {m: figure(m, now[m], before[m], cfg.min_answers) for m in METRIC_ORDER}


async def metric_reply(
    analytics: AnalyticsRepo,
    metric: Metric,
    selection: Selection,
    cfg: ReportsConfig,
    lang: str,
    *,
    charts: ChartWorker,
    now: datetime,
) -> list[Outgoing]:
    """/nps, /csat, /ces: the figure, its breakdown, the change and a trend chart (or, with
    `by <field>`, one line and one bar per group). `now` is the clock's time."""
    if selection.by:
        return await segments_reply(analytics, metric, selection, cfg, lang, charts=charts)
    p, prev = selection.period, selection.period.previous()
    fig = figure(
        metric,
        await analytics.distribution(metric, p.start, p.end, selection.filters),
        await analytics.distribution(metric, prev.start, prev.end, selection.filters),
        cfg.min_answers,
    )
    title = metric.value.upper()
    head = title_block(lang, title, selection, cfg)
    if fig.result.n == 0:
        hints = await unmatched_filters(analytics, selection, lang)
        return [Outgoing("\n".join([head, "", t(lang, "mgr.no_answers"), *hints]))]
    text = "\n".join(
        line
        for line in (
            head,
            "",
            f"{title} {_value_html(metric, fig.result)} · n={fig.result.n}"
            + trust_text(lang, fig.result, cfg),
            breakdown_text(lang, metric, fig),
            change_text(lang, metric, fig),
        )
        if line is not None
    )
    tz = tz_of(cfg)
    first = await analytics.first_answer(p.start, p.end, selection.filters, (metric,))
    shown = shown_span(p, first, tz)
    bucket = bucket_for(shown)
    edges = bucket_edges(shown, bucket, tz)
    buckets = await analytics.bucketed([metric], edges, selection.filters)
    points = trend(metric, edges, buckets[metric], cfg.min_answers)
    png = await charts.draw(
        chart_types.TrendChart(
            metric,
            _chart_title(title, selection),
            points,
            headline(metric, fig.result),
            chart_labels(lang, metric, await charts.cjk_family()),
            chart_frame(cfg, bucket, now),
        )
    )
    return [Outgoing(text, png, t(lang, "mgr.title", title=title, period=p.label))]


async def segments_reply(
    analytics: AnalyticsRepo,
    metric: Metric,
    selection: Selection,
    cfg: ReportsConfig,
    lang: str,
    *,
    charts: ChartWorker,
) -> list[Outgoing]:
    p = selection.period
    field = selection.by or ""
    groups = segments(
        metric,
        await analytics.by_segment(metric, field, p.start, p.end, selection.filters),
        cfg.min_answers,
    )
    title = t(lang, "mgr.by", metric=metric.value.upper(), field=field)
    head = title_block(lang, title, selection, cfg)
    if not groups:
        hints = await unmatched_filters(analytics, selection, lang)
        return [Outgoing("\n".join([head, "", t(lang, "mgr.no_answers"), *hints]))]
    if all(seg.value is None for seg in groups):
        # A table of one "(not set)" row would hide the likely typo in the field's name.
        known = await analytics.context_keys(p.start, p.end, selection.filters)
        line = t(lang, "mgr.by_unknown", field=field, fields=", ".join(known) or "—")
        return [Outgoing(f"{head}\n\n{line}")]
    lines = [head, ""]
    for seg in groups[:MAX_SEGMENT_LINES]:
        name = seg.value if seg.value is not None else raw_t(lang, "chart.not_set")
        lines.append(
            t(lang, "mgr.segment", name=name)
            + f" {_segment_value_html(metric, seg)} · n={seg.result.n}"
            + trust_text(lang, seg.result, cfg)
        )
    if len(groups) > MAX_SEGMENT_LINES:
        more = len(groups) - MAX_SEGMENT_LINES
        lines.append(nt(lang, "mgr.more_groups", more, count=more))
    chart_title = _chart_title(f"{metric.value.upper()} by {field}", selection)
    labels = chart_labels(lang, metric, await charts.cjk_family())
    png = await charts.draw(chart_types.SegmentsChart(metric, chart_title, groups, labels))
    return [Outgoing("\n".join(lines), png, t(lang, "mgr.title", title=title, period=p.label))]


async def alert_lines(
    analytics: AnalyticsRepo, lang: str, start: datetime, end: datetime
) -> list[str]:
    """Alert figures of [start, end): each named number with the label `report.alert.<name>`
    when translated; nothing when no alert was raised and none is open."""
    try:
        figures = await analytics.alert_figures(start, end)
    except Exception:
        logger.exception("alert figures unavailable")
        return []
    if not any(figures.values()):
        return []  # no alert raised and none open: nothing worth a line
    lines = [t(lang, "report.alerts")]
    for key, value in figures.items():
        label = t(lang, words.ALERT_FIGURES[key]) if key in words.ALERT_FIGURES else key
        lines.append(f"• {label}: <b>{_alert_value(key, value)}</b>")
    return lines


def _alert_value(key: str, value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, timedelta):
        return format_duration(timedelta(seconds=round(value.total_seconds())))
    if isinstance(value, float):
        if key.endswith(("share", "rate")) and 0 <= value <= 1:
            return f"{100 * value:.0f}%"
        return f"{value:.1f}"
    return str(value).replace("<", "&lt;")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


@dataclass(frozen=True, slots=True)
class StatsLayout:
    """What the report changes in the /stats reply: its title and a few recent comments."""

    title: str | None = None  # None: the /stats title
    comments: int = 0  # how many recent comments with low scores to list


async def stats_reply(
    analytics: AnalyticsRepo,
    selection: Selection,
    cfg: ReportsConfig,
    lang: str,
    *,
    charts: ChartWorker,
    now: datetime,
    layout: StatsLayout = StatsLayout(),
    reason_labels: Labels | None = None,
) -> list[Outgoing]:
    """/stats and the report: activity, every metric with its change, the overview chart;
    the report adds recent comments with low scores. No answers: one line, no chart.
    `now` is the clock's time."""
    p, tz = selection.period, tz_of(cfg)
    title = layout.title or t(lang, "mgr.stats.title")
    head = title_block(lang, title, selection, cfg)
    activity = await analytics.activity(p.start, p.end, selection.filters)
    alerts = await alert_lines(analytics, lang, p.start, p.end)
    if alerts:
        alerts += await top_reasons(analytics, p.start, p.end, lang, reason_labels)
    if activity.answers == 0:
        text = t(lang, "report.empty", start=_when(p.start, tz), end=_when(p.end, tz))
        hints = await unmatched_filters(analytics, selection, lang)
        return [Outgoing("\n".join([text, *hints, *alerts]))]
    figs = await _figures(analytics, selection, cfg)
    lines = [
        head,
        "",
        t(
            lang,
            "mgr.activity.invitations",
            sent=activity.invitations_sent,
            answered=activity.invitations_answered,
            rate=_pct(activity.response_rate),
        ),
        t(
            lang,
            "mgr.activity.answers",
            answers=activity.answers,
            comments=activity.comments,
            rate=_pct(activity.comment_rate),
        ),
        "",
        *(metric_line(lang, m, figs[m], cfg) for m in METRIC_ORDER),
    ]
    if layout.comments:
        recent = await analytics.recent_comments(p.start, p.end, selection.filters, layout.comments)
        if recent:
            lines += ["", t(lang, "report.comments")]
            for c in recent:
                where = ", ".join(f"{k}={v}" for k, v in sorted(c.context.items())[:3])
                text = c.comment if len(c.comment) <= COMMENT_PREVIEW else c.comment[:199] + "…"
                lines.append(
                    t(
                        lang,
                        "report.comment",
                        metric=c.metric.value.upper(),
                        score=c.score,
                        when=_when(c.answered_at, tz),
                        where=where,
                        comment=text,
                    )
                )
        themes = await top_themes(analytics, p.start, p.end, lang, cfg.min_comments)
        lines += ["", *themes] if themes else []
    if alerts:
        lines += ["", *alerts]
    shown = shown_span(p, await analytics.first_answer(p.start, p.end, selection.filters), tz)
    bucket = bucket_for(shown)
    edges = bucket_edges(shown, bucket, tz)
    buckets = await analytics.bucketed(METRIC_ORDER, edges, selection.filters)
    series = [
        (m, headline(m, figs[m].result), trend(m, edges, buckets[m], cfg.min_answers))
        for m in METRIC_ORDER
    ]
    png = await charts.draw(
        chart_types.OverviewChart(
            _chart_title(title, selection),
            series,
            chart_labels(lang, cjk=await charts.cjk_family()),
            chart_frame(cfg, bucket, now),
        )
    )
    return [Outgoing("\n".join(lines), png, t(lang, "mgr.title", title=title, period=p.label))]


async def report_reply(
    analytics: AnalyticsRepo,
    period: Period,
    cfg: ReportsConfig,
    lang: str,
    reason_labels: Labels | None = None,
    *,
    charts: ChartWorker,
    now: datetime,
) -> list[Outgoing]:
    """The scheduled (or /report) report: stats plus a few recent comments with low scores."""
    return await stats_reply(
        analytics,
        Selection(period),
        cfg,
        lang,
        charts=charts,
        now=now,
        layout=StatsLayout(title=t(lang, "report.title"), comments=5),
        reason_labels=reason_labels,
    )
