"""Every chart kind renders a real PNG for zero, one and thousands of points."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.charts import figures as charts
from bot.charts.models import TrendChart
from bot.charts.worker import ChartWorker
from survey_flows.models import Metric
from survey_flows.periods import Bucket, Period, bucket_edges
from survey_flows.reports import segments, trend

END = datetime(2026, 3, 18, 9, tzinfo=UTC)
LABELS = charts.ChartLabels()


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG: Telegram would refuse the photo"
    with Image.open(io.BytesIO(png)) as img:
        return img.size


def points(days: int, bucket: Bucket, per_bucket: int):
    period = Period(END - timedelta(days=days), END, f"{days}d")
    edges = bucket_edges(period, bucket)
    counts = [{10: per_bucket, 0: per_bucket // 3} if per_bucket else {} for _ in edges[1:]]
    return trend(Metric.NPS, edges, counts, 10)


@pytest.mark.parametrize(
    ("days", "bucket", "per_bucket"),
    [(1, Bucket.DAY, 3), (2, Bucket.DAY, 30), (30, Bucket.DAY, 20), (2000, Bucket.DAY, 500)],
)
def test_trend_chart(days: int, bucket: Bucket, per_bucket: int) -> None:
    png = charts.render_trend(
        Metric.NPS, "NPS · test", points(days, bucket, per_bucket), "h", LABELS
    )
    width, height = size(png)
    assert width >= 900 and height >= 600, "too small to read on a phone"


@pytest.mark.parametrize("pts", [[], "zero"])
def test_trend_without_answers_is_a_clear_image(pts) -> None:
    data = [] if pts == [] else points(7, Bucket.DAY, 0)
    width, _ = size(charts.render_trend(Metric.CSAT, "CSAT · 7d", data, "", LABELS))
    assert width >= 800


def test_overview_chart_of_all_metrics() -> None:
    pts = points(30, Bucket.DAY, 15)
    series = [(m, m.value, trend(m, *_edges_counts(m))) for m in Metric]
    assert size(charts.render_overview("All", series, LABELS))[1] > 900
    assert size(charts.render_overview("All", [], LABELS))
    assert pts


def _edges_counts(metric: Metric):
    period = Period(END - timedelta(days=10), END, "10d")
    edges = bucket_edges(period, Bucket.DAY)
    top = {Metric.NPS: 10, Metric.CSAT: 5, Metric.CES: 7}[metric]
    return edges, [{top: i} for i in range(len(edges) - 1)], 10


@pytest.mark.parametrize("groups", [0, 1, 3, 500])
def test_segments_chart(groups: int) -> None:
    by = {f"agent-{i}": {5: i + 1, 1: 2} for i in range(groups)}
    png = charts.render_segments(
        Metric.CSAT, "CSAT by agent", segments(Metric.CSAT, by, 10), LABELS
    )
    width, height = size(png)
    assert width >= 800
    assert height < 2000, "hundreds of groups must be cut to the biggest, not a giant image"


@pytest.mark.parametrize("name", ["promo $x$", "$\\frac{", "50$ off $", "^_^ $$"])
def test_dollar_signs_in_names_are_literal_text(name: str) -> None:
    """A context value that looks like math text must not crash `/csat by product`."""
    segs = segments(Metric.CSAT, {name: {5: 12, 1: 3}}, 10)
    assert size(charts.render_segments(Metric.CSAT, f"CSAT · product={name}", segs, LABELS))
    pts = points(2, Bucket.DAY, 3)
    assert size(charts.render_trend(Metric.NPS, f"NPS · {name}", pts, "h", LABELS))


def test_a_chinese_group_name_does_not_fail_the_chart() -> None:
    segs = segments(Metric.NPS, {"水壶": {10: 12}}, 10)
    assert size(charts.render_segments(Metric.NPS, "NPS", segs, LABELS))


async def test_charts_are_drawn_in_the_chart_worker_process(charts: ChartWorker) -> None:
    png = await charts.draw(TrendChart(Metric.NPS, "t", points(7, Bucket.DAY, 12), "h", LABELS))
    assert size(png)
    assert await charts.cjk_family() is not None, "the worker found no CJK font"


def test_the_bots_own_process_does_not_load_matplotlib() -> None:
    """The whole bot, handlers and reports included, imports without matplotlib: it lives in
    the chart worker, so the bot's memory stays small."""
    code = "import sys, bot.app, handlers.manager; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize(
    ("metric", "value", "margin", "text"),
    [
        (Metric.NPS, 32.4, 8.2, "+32 ±8"),
        (Metric.NPS, -5.0, None, "-5"),
        (Metric.CSAT, 84.6, 3.1, "85% ±3"),
        (Metric.CES, 5.55, 0.12, "5.5 ±0.1"),
        (Metric.CES, None, None, "–"),
    ],
)
def test_value_formatting(metric, value, margin, text) -> None:
    assert charts.format_value(metric, value) + charts.format_margin(metric, margin) == text
