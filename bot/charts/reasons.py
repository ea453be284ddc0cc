"""The reasons chart: alerts resolved per week, stacked by the reason staff picked."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.charts.figures import BASE_FONT, ChartLabels, _date_axis, _figure, _style

# Colour-blind-safe (Okabe-Ito), one per reason in the configured order; "none" is grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000")
NONE_COLOUR = "#bbbbbb"


def draw_reasons(
    title: str,
    edges: Sequence[datetime],
    counts: Sequence[dict[str, int]],
    names: Sequence[tuple[str, str]],
    labels: ChartLabels,
    tz: tzinfo,
    ylabel: str = "alerts",
) -> Figure | None:
    """`names`: (reason id, label) in the configured order ("" for alerts resolved without
    one). None when no alert was resolved in the period."""
    if not any(sum(c.values()) for c in counts):
        return None
    fig = _figure(10, 5.5)
    ax = fig.add_subplot()
    fig.suptitle(title, fontsize=BASE_FONT + 3, x=0.01, ha="left")
    lefts = [mdates.date2num(lo) for lo in edges[:-1]]
    widths = [(hi - lo) / timedelta(days=1) * 0.9 for lo, hi in itertools.pairwise(edges)]
    bottom = [0] * len(counts)
    for index, (reason, label) in enumerate(names):
        heights = [c.get(reason, 0) for c in counts]
        if not any(heights):
            continue
        colour = NONE_COLOUR if reason == "" else PALETTE[index % len(PALETTE)]
        ax.bar(lefts, heights, width=widths, bottom=bottom, align="edge", color=colour, label=label)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel(ylabel, fontsize=BASE_FONT - 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax)
    fig.legend(loc="outside lower left", ncols=4, fontsize=BASE_FONT - 3, frameon=False)
    _date_axis(ax, edges[0], edges[-1], tz)
    return fig
