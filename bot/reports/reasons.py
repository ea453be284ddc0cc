"""/stats by reason and the report's top reasons: why alerts were resolved, and the change."""

from __future__ import annotations

from bot.charts import models as chart_types
from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.reports.compose import Outgoing, chart_labels, title_block, tz_of
from bot.reports.top_reasons import Labels
from bot.reports.top_reasons import change as _change
from bot.reports.top_reasons import label as _label
from bot.views.texts import raw_t, t
from storage.base import AnalyticsRepo
from survey_flows.periods import Bucket, Selection, bucket_edges


async def reasons_reply(
    analytics: AnalyticsRepo,
    selection: Selection,
    cfg: ReportsConfig,
    lang: str,
    reasons: tuple[str, ...],
    custom: Labels | None = None,
    *,
    charts: ChartWorker,
) -> list[Outgoing]:
    """Alerts resolved in the period by reason: count, share, change against the previous
    period of the same length, and a chart of reasons per week."""
    p, prev = selection.period, selection.period.previous()
    now, before = (
        await analytics.reason_counts(p.start, p.end),
        await analytics.reason_counts(prev.start, prev.end),
    )
    title = t(lang, "mgr.reasons_title")
    head = title_block(lang, title, Selection(p), cfg)
    total = sum(now.values())
    if not total:
        none = t(lang, "mgr.reasons_none")
        return [Outgoing(f"{head}\n\n{none}")]
    order = [r for r in (*reasons, "") if r in now or r in before]
    order += sorted(r for r in now if r not in order)
    lines = [head, ""]
    for reason in sorted(order, key=lambda r: -now.get(r, 0)):
        n = now.get(reason, 0)
        lines.append(
            t(
                lang,
                "mgr.reason_line",
                reason=_label(reason, lang, custom),
                n=n,
                share=f"{100 * n / total:.0f}%",
                change=_change(n, before.get(reason, 0)),
                previous=before.get(reason, 0),
            )
        )
    tz = tz_of(cfg)
    edges = bucket_edges(p, Bucket.WEEK, tz)
    counts = await analytics.reasons_bucketed(edges)
    cjk = await charts.cjk_family()
    chart_lang = chart_types.chart_language(lang, cjk)
    names = [(r, _label(r, chart_lang, custom)) for r in order]
    png = await charts.draw(
        chart_types.ReasonsChart(
            f"{title} · {p.label}",
            edges,
            counts,
            names,
            chart_labels(lang, cjk=cjk),
            tz,
            raw_t(chart_lang, "chart.alerts"),
        )
    )
    return [Outgoing("\n".join(lines), png, t(lang, "mgr.title", title=title, period=p.label))]
