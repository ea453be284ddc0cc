"""Charts as PNG bytes: one matplotlib `Figure` per chart (Agg canvas, no pyplot global state).

Drawn for a phone screen: large fonts, labelled axes, the value and the number of answers on the
chart, and the same colours everywhere (promoters green, passives grey-yellow, detractors red).
Rendering is CPU work: `ChartWorker` (bot/charts/worker.py) runs it in its own process.
Every chart copes with zero, one or thousands of points.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, ParamSpec

import matplotlib
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.charts.fonts import cjk_family
from bot.charts.models import UNITS, ChartLabels, Frame, format_margin, format_value
from survey_flows.models import Category, Metric
from survey_flows.reports import Segment, TrendPoint

# Every label is literal text: a product called "promo $x$" is a name, not a formula (and a
# broken formula would crash the chart). Set once for the process: no chart wants math text.
matplotlib.rcParams["text.parse_math"] = False

P = ParamSpec("P")

COLOURS = {
    Category.DETRACTOR: "#d64541",
    Category.PASSIVE: "#cdb45a",
    Category.PROMOTER: "#2e9d57",
}
LINE = "#1f4e79"
BAND = "#9dbbd8"
WEAK = "#9a9a9a"
DPI = 100
BASE_FONT = 16
MAX_SEGMENTS = 15

# Value axis of each metric: the whole scale, so a chart never exaggerates a wiggle.
Y_RANGE = {Metric.NPS: (-100, 100), Metric.CSAT: (0, 100), Metric.CES: (1, 7)}


def _figure(
    width: float, height: float, layout: Literal["constrained"] | None = "constrained"
) -> Figure:
    cjk_family()  # once per process: the CJK fallback font, if the system has one
    return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # A glyph missing from the font (a group named in Chinese) must not fail a report.
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def png_or_empty(fig: Figure | None, title: str, labels: ChartLabels) -> bytes:
    """A drawn chart's PNG; for nothing drawn (None), a card under `title` saying there is no
    data, so a report still shows where the chart would be."""
    return _empty(title, labels) if fig is None else _png(fig)


def _category_handles(labels: ChartLabels) -> list[Patch]:
    return [
        Patch(color=COLOURS[c], label=n) for c, n in zip(Category, labels.categories, strict=True)
    ]


def _hollow_handle(labels: ChartLabels) -> Line2D:
    """What a hollow grey point on a value line means: too few answers to trust."""
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markerfacecolor="white",
        markeredgecolor=WEAK,
        markeredgewidth=2,
        markersize=9,
        label=labels.too_few,
    )


def _has_weak(points: Sequence[TrendPoint]) -> bool:
    return any(not p.trusted and p.result.value is not None for p in points)


def _category_legend(fig: Figure, labels: ChartLabels, hollow: bool = False) -> None:
    """Detractors, passives, promoters in their colours, under the chart (and the hollow
    point, when the chart has one)."""
    extra = [_hollow_handle(labels)] if hollow else []
    fig.legend(
        handles=[*_category_handles(labels), *extra],
        loc="outside lower left",
        ncols=3 + len(extra),
        fontsize=BASE_FONT - 3,
        frameon=False,
    )


def _style(ax: Axes) -> None:
    ax.tick_params(labelsize=BASE_FONT - 2)
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty(title: str, labels: ChartLabels) -> bytes:
    fig = _figure(9, 4)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=BASE_FONT + 4, loc="left")
    ax.text(
        0.5,
        0.45,
        labels.no_answers,
        ha="center",
        va="center",
        fontsize=BASE_FONT + 6,
        color=WEAK,
        transform=ax.transAxes,
    )
    return _png(fig)


def _date_axis(ax: Axes, start: datetime, end: datetime, tz: tzinfo = UTC) -> None:
    """Dates and times as the report's readers live them (`[reports] timezone`)."""
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7, tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))


def _value_line(
    ax: Axes,
    metric: Metric,
    points: Sequence[TrendPoint],
    marker_limit: int,
    labels: ChartLabels,
    frame: Frame,
) -> None:
    """The metric per bucket at bucket centres, its 95% band, weak buckets as hollow grey dots."""
    xs = [mdates.date2num(p.start + (p.end - p.start) / 2) for p in points]
    ys = [p.result.value if p.result.value is not None else math.nan for p in points]
    lo = [
        y - (p.result.margin or 0) if p.result.value is not None else math.nan
        for y, p in zip(ys, points, strict=True)
    ]
    hi = [
        y + (p.result.margin or 0) if p.result.value is not None else math.nan
        for y, p in zip(ys, points, strict=True)
    ]
    low, high = Y_RANGE[metric]
    if len(points) > 3:
        ax.fill_between(
            xs,
            [max(v, low) for v in lo],
            [min(v, high) for v in hi],
            color=BAND,
            alpha=0.45,
            linewidth=0,
            label="95%",
        )
    else:  # a band between one or two points is a strange wedge: error bars read better
        below = [y - v for y, v in zip(ys, lo, strict=True)]
        above = [v - y for y, v in zip(ys, hi, strict=True)]
        ax.errorbar(xs, ys, yerr=[below, above], fmt="none", ecolor=BAND, elinewidth=8)
    ax.plot(xs, ys, color=LINE, linewidth=2.5)
    if len(points) <= marker_limit:
        trusted = [
            (x, y)
            for x, y, p in zip(xs, ys, points, strict=True)
            if p.trusted and not frame.unfinished(p)
        ]
        so_far = [
            (x, y)
            for x, y, p in zip(xs, ys, points, strict=True)
            if p.trusted and frame.unfinished(p)
        ]
        if so_far:  # the value of a bucket still filling: the same dot, lighter
            ax.scatter(
                [x for x, _ in so_far],
                [y for _, y in so_far],
                color=LINE,
                alpha=0.4,
                s=45,
                zorder=3,
            )
        weak = [
            (x, y)
            for x, y, p in zip(xs, ys, points, strict=True)
            if not p.trusted and not math.isnan(y)
        ]
        if trusted:
            ax.scatter([x for x, _ in trusted], [y for _, y in trusted], color=LINE, s=45, zorder=3)
        if weak:
            ax.scatter(
                [x for x, _ in weak],
                [y for _, y in weak],
                facecolors="white",
                edgecolors=WEAK,
                s=45,
                linewidths=2,
                zorder=3,
            )
    if metric is Metric.NPS:
        ax.axhline(0, color="black", linewidth=0.8, alpha=0.5)
    ax.set_ylim(low - (high - low) * 0.04, high + (high - low) * 0.04)
    ax.set_ylabel(labels.units.get(metric, UNITS[metric]), fontsize=BASE_FONT - 1)
    _style(ax)


def _count_bars(ax: Axes, points: Sequence[TrendPoint], labels: ChartLabels, frame: Frame) -> None:
    """Answers per bucket, stacked detractors / passives / promoters; the bucket still filling
    is lighter and hatched, labelled "so far". Whole numbers on the axis."""
    lefts = [mdates.date2num(p.start) for p in points]
    widths = [(p.end - p.start) / timedelta(days=1) for p in points]
    bottom = [0] * len(points)
    for cat, name in zip(Category, labels.categories, strict=True):
        heights = [p.categories[cat] for p in points]
        bars = ax.bar(
            lefts,
            heights,
            width=widths,
            bottom=bottom,
            align="edge",
            color=COLOURS[cat],
            label=name,
            linewidth=0,
        )
        for bar, point in zip(bars, points, strict=True):
            if frame.unfinished(point):
                bar.set_alpha(0.35)
                bar.set_hatch("///")
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    top = max(max(bottom, default=0), 1)
    for left, width, total, point in zip(lefts, widths, bottom, points, strict=True):
        if frame.unfinished(point):
            ax.text(  # right-aligned on the bar's end: the last bar is at the chart's edge
                left + width,
                total + top * 0.03,
                labels.so_far,
                ha="right",
                va="bottom",
                fontsize=BASE_FONT - 4,
                color=WEAK,
            )
    ax.set_ylabel(labels.answers, fontsize=BASE_FONT - 1)
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax)


def draw_trend(
    metric: Metric,
    title: str,
    points: Sequence[TrendPoint],
    total: str,
    labels: ChartLabels,
    frame: Frame | None = None,
) -> Figure | None:
    """The metric over time (top) and the answers per bucket by category (bottom); None when
    there are no answers. `total` is the headline drawn on it, e.g. "NPS +32 ±8 · n=412"."""
    if not points or sum(p.result.n for p in points) == 0:
        return None
    frame = frame or Frame()
    fig = _figure(10, 7.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.6])
    fig.suptitle(title, fontsize=BASE_FONT + 4, x=0.01, ha="left")
    top.set_title(total, fontsize=BASE_FONT + 2, loc="left", fontweight="bold")
    _value_line(top, metric, points, 60, labels, frame)
    _count_bars(bottom, points, labels, frame)
    _category_legend(fig, labels, hollow=_has_weak(points))
    _date_axis(bottom, points[0].start, points[-1].end, frame.tz)
    return fig


def render_trend(
    metric: Metric,
    title: str,
    points: Sequence[TrendPoint],
    total: str,
    labels: ChartLabels,
    frame: Frame | None = None,
) -> bytes:
    return png_or_empty(draw_trend(metric, title, points, total, labels, frame), title, labels)


def draw_overview(
    title: str,
    series: Sequence[tuple[Metric, str, Sequence[TrendPoint]]],
    labels: ChartLabels,
    frame: Frame | None = None,
) -> Figure | None:
    """One panel per metric that has answers (`series` is (metric, headline, points)); a
    metric without answers gets no empty panel. None when no metric has any.

    Drawn for speed as well as reading (it is in every report): margins fixed in inches
    instead of a layout engine, and the answer counts as grey bars in the lower third of each
    panel with the tallest one labelled, instead of a second y axis. Both together halve the
    drawing time; every y axis here has a fixed range, so fixed margins always fit."""
    series = [s for s in series if sum(p.result.n for p in s[2]) > 0]
    if not series:
        return None
    frame = frame or Frame()
    hollow = any(_has_weak(points) for _, _, points in series)
    height = 3.4 * len(series) + 1.2
    fig = _figure(10, height, layout=None)
    bottom = 1.2 if hollow else 0.75  # inches: the dates (and the legend under them)
    panel, gap = (height - 0.95 - bottom - 0.55 * (len(series) - 1)) / len(series), 0.55
    fig.subplots_adjust(
        left=1.25 / 10,
        right=1 - 0.5 / 10,  # room for a date label centred on the right edge
        top=1 - 0.95 / height,
        bottom=bottom / height,
        hspace=gap / panel,
    )
    axes = fig.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle(title, fontsize=BASE_FONT + 4, x=0.01, y=1 - 0.1 / height, ha="left", va="top")
    for ax, (metric, headline, points) in zip(axes, series, strict=True):
        ax.set_title(headline, fontsize=BASE_FONT + 1, loc="left", fontweight="bold")
        _answer_bars(ax, metric, points, labels, frame)
        _value_line(ax, metric, points, 60, labels, frame)
    if hollow:
        fig.legend(
            handles=[_hollow_handle(labels)],
            loc="lower left",
            bbox_to_anchor=(0.005, 0.0),
            fontsize=BASE_FONT - 3,
            frameon=False,
        )
    first = series[0][2]
    _date_axis(axes[-1], first[0].start, first[-1].end, frame.tz)
    return fig


def _answer_bars(
    ax: Axes, metric: Metric, points: Sequence[TrendPoint], labels: ChartLabels, frame: Frame
) -> None:
    """Answers per bucket as grey bars in the lower third of the value axis (the bucket still
    filling lighter and hatched); the tallest bar says how many answers it holds, inside its
    top, which gives the scale."""
    low, high = Y_RANGE[metric]
    floor = low - (high - low) * 0.04  # the axis' bottom edge (see _value_line)
    n = [p.result.n for p in points]
    most = max(max(n, default=0), 1)
    scale = (high - floor) / 3 / most
    bars = ax.bar(
        [mdates.date2num(p.start) for p in points],
        [v * scale for v in n],
        width=[(p.end - p.start) / timedelta(days=1) for p in points],
        bottom=floor,
        align="edge",
        color=WEAK,
        alpha=0.25,
        linewidth=0,
        zorder=0,
    )
    for bar, point in zip(bars, points, strict=True):
        if frame.unfinished(point):
            bar.set_alpha(0.12)
            bar.set_hatch("///")
    tallest = bars[n.index(max(n))]
    ax.text(
        tallest.get_x() + tallest.get_width() / 2,
        floor + most * scale * 0.97,
        labels.answers_count.format(most, count=most),
        ha="center",
        va="top",
        fontsize=BASE_FONT - 4,
        color="#6f6f6f",
        zorder=1,
    )


def render_overview(
    title: str,
    series: Sequence[tuple[Metric, str, Sequence[TrendPoint]]],
    labels: ChartLabels,
    frame: Frame | None = None,
) -> bytes:
    return png_or_empty(draw_overview(title, series, labels, frame), title, labels)


def render_segments(
    metric: Metric,
    title: str,
    segments: Sequence[Segment],
    labels: ChartLabels,
) -> bytes:
    """One 100% bar per group (detractors / passives / promoters), biggest groups on top,
    with the group's metric, margin and n beside it; groups too small to trust are faded."""
    shown = [s for s in segments if s.result.n > 0][:MAX_SEGMENTS]
    if not shown:
        return _empty(title, labels)
    hidden = sum(1 for s in segments if s.result.n > 0) - len(shown)
    fig = _figure(10, 1.8 + 0.62 * len(shown) + (0.4 if hidden else 0))
    ax = fig.add_subplot()
    fig.suptitle(title, fontsize=BASE_FONT + 3, x=0.01, ha="left")
    ys = list(range(len(shown)))[::-1]
    names = [(s.value if s.value is not None else labels.not_set)[:22] for s in shown]
    left = [0.0] * len(shown)
    for cat, name in zip(Category, labels.categories, strict=True):
        widths = [100.0 * s.categories[cat] / s.result.n for s in shown]
        bars = ax.barh(ys, widths, left=left, color=COLOURS[cat], height=0.72, label=name)
        for bar, seg in zip(bars, shown, strict=True):
            if not seg.trusted:
                bar.set_alpha(0.3)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    for y, seg in zip(ys, shown, strict=True):
        value = format_value(metric, seg.result.value)
        if seg.trusted:
            text = f"{value}{format_margin(metric, seg.result.margin)}  n={seg.result.n}"
            colour, weight = "black", "bold"
        else:
            text = f"{value}  n={seg.result.n}, {labels.too_few}"
            colour, weight = WEAK, "normal"
        ax.text(102, y, text, va="center", fontsize=BASE_FONT - 2, color=colour, fontweight=weight)
    ax.set_yticks(ys, names, fontsize=BASE_FONT - 1)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(f"%, {labels.answers}", fontsize=BASE_FONT - 2)  # reads in every language
    ax.tick_params(axis="x", labelsize=BASE_FONT - 3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    _category_legend(fig, labels)
    if hidden:
        ax.set_title(
            labels.more_groups.format(hidden, count=hidden),
            fontsize=BASE_FONT - 3,
            loc="left",
            color=WEAK,
        )
    return _png(fig)


__all__ = [
    "ChartLabels",
    "Frame",
    "format_margin",
    "format_value",
    "png_or_empty",
    "render_overview",
    "render_segments",
    "render_trend",
]
