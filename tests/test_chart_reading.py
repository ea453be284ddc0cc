"""Charts that read right, checked on the matplotlib figure as drawn: whole-number counts, a
legend for hollow points, the bucket still filling marked "so far", no empty panels, dates in
the report's zone, and Chinese words in a font that has them (or English, said once)."""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from bot.charts import figures as charts
from bot.charts import fonts as chart_fonts
from bot.charts import models as chart_types
from bot.reports.compose import chart_labels
from survey_flows.models import Metric
from survey_flows.periods import Bucket, Period, bucket_edges
from survey_flows.reports import trend

NOW = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)
LABELS = chart_labels("en", Metric.NPS, cjk=None)


def daily(days: int, counts: list[dict[int, int]], tz=UTC, end: datetime = NOW):
    edges = bucket_edges(Period(end - timedelta(days=days), end, f"{days}d"), Bucket.DAY, tz)
    assert len(edges) - 1 == len(counts)
    return trend(Metric.NPS, edges, counts, 10)


def drawn(fig: Figure | None) -> Figure:
    assert fig is not None
    FigureCanvasAgg(fig).draw()
    return fig


def test_answer_counts_are_whole_numbers_and_hollow_points_are_explained() -> None:
    pts = daily(7, [{10: 1}, {9: 2}, {0: 1}, {10: 3}, {}, {8: 1}, {10: 2}, {3: 1}])
    fig = drawn(charts.draw_trend(Metric.NPS, "t", pts, "h", LABELS))
    counts_axis = fig.axes[1]
    ticks = [t for t in counts_axis.get_yticks() if 0 <= t <= counts_axis.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "too few to trust" in legend, legend  # every point here is under 10 answers
    assert legend[:3] == ["detractors", "passives", "promoters"]


def test_the_bucket_still_filling_is_lighter_and_says_so_far() -> None:
    pts = daily(3, [{10: 20}, {10: 20}, {10: 20}, {10: 4}])
    frame = charts.Frame(UTC, Bucket.DAY.step, NOW)
    fig = drawn(charts.draw_trend(Metric.NPS, "t", pts, "h", LABELS, frame))
    bars = fig.axes[1].patches
    last_day = [b for b in bars if mdates.num2date(b.get_x()) >= pts[-1].start]
    assert last_day and all(b.get_alpha() == 0.35 and b.get_hatch() for b in last_day)
    earlier = [b for b in bars if b not in last_day]
    assert all(b.get_alpha() in (None, 1) for b in earlier), "finished days drawn as partial"
    assert [t.get_text() for t in fig.axes[1].texts] == ["so far"]


def test_a_metric_without_answers_gets_no_panel_in_the_overview() -> None:
    pts = daily(2, [{10: 20}, {10: 20}, {9: 20}])
    empty = daily(2, [{}, {}, {}])
    series = [
        (Metric.NPS, "NPS +100", pts),
        (Metric.CSAT, "CSAT", empty),
        (Metric.CES, "CES", empty),
    ]
    fig = drawn(charts.draw_overview("All", series, LABELS))
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["NPS +100"]
    assert charts.draw_overview("All", [(Metric.CSAT, "CSAT", empty)], LABELS) is None


def test_dates_are_drawn_in_the_reports_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # UTC midnight is 09:00 there: a different day boundary
    pts = daily(6, [{10: 20}] * 7, tokyo)
    frame = charts.Frame(tokyo, Bucket.DAY.step, None)
    fig = drawn(charts.draw_trend(Metric.NPS, "t", pts, "h", LABELS, frame))
    ticks = [mdates.num2date(x, tz=tokyo) for x in fig.axes[1].get_xticks()]
    assert ticks and all((t.hour, t.minute) == (0, 0) for t in ticks), ticks


def test_chinese_labels_use_a_font_that_has_their_glyphs() -> None:
    family = chart_fonts.cjk_family()
    assert family is not None, "no CJK font: install fonts-noto-cjk (as .ci/run does)"
    labels = chart_labels("zh", Metric.NPS, family)
    assert labels.answers == "回答数" and labels.categories == ("贬损者", "中立者", "推荐者")
    pts = daily(2, [{10: 20}, {0: 3}, {9: 20}])
    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    charmap = FT2Font(path).get_charmap()
    words = labels.answers + labels.so_far + "".join(labels.categories) + "电水壶"
    assert all(ord(c) in charmap for c in words if not c.isascii()), "boxes instead of words"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn(charts.draw_trend(Metric.NPS, "NPS · 电水壶", pts, "NPS +40", labels))
    assert not [w for w in caught if "missing" in str(w.message).lower()], caught


def test_without_a_cjk_font_chinese_charts_are_in_english_and_the_log_says_so_once(
    caplog,
) -> None:
    chart_types._warn_no_cjk_font.cache_clear()  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="bot.charts.models"):
        first = chart_labels("zh", Metric.CSAT, cjk=None)
        second = chart_labels("zh", Metric.CSAT, cjk=None)
    assert first.answers == second.answers == "answers"
    assert first.categories == ("unsatisfied", "neutral", "satisfied")
    records = [r for r in caplog.records if "fonts-noto-cjk" in r.getMessage()]
    assert len(records) == 1


def test_the_overview_shows_answer_counts_with_their_scale_and_the_bucket_still_filling() -> None:
    pts = daily(3, [{10: 20}, {10: 35}, {0: 12}, {10: 4}])
    frame = charts.Frame(UTC, Bucket.DAY.step, NOW)
    fig = drawn(charts.draw_overview("All", [(Metric.NPS, "NPS +50", pts)], LABELS, frame))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["35 answers"]
    bars = ax.patches
    heights = [b.get_height() for b in bars]
    assert heights.index(max(heights)) == 1 and len(bars) == 4
    low, high = ax.get_ylim()
    assert max(heights) <= (high - low) / 3 + 1e-9, "bars cover the value line's range"
    assert bars[-1].get_hatch() and all(not b.get_hatch() for b in bars[:-1])
    fig.canvas.draw()
    title = fig.texts[0].get_window_extent()  # the suptitle, inside the picture
    assert title.y1 <= fig.bbox.height and title.x0 >= 0
