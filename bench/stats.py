"""Benchmark of managers' analytics on a big database. Run by hand:

    python bench/stats.py                 # 1,000,000 answers, prints timings and peak memory
    python bench/stats.py --answers 50000 # smaller, quicker
    python bench/stats.py --docs docs     # also writes one example PNG of each chart kind
    python bench/stats.py --db /tmp/b.db  # keeps the filled file and reuses it next time

Fills a temporary SQLite file (the real schema and migrations) with answers over two years
across 20 products and 50 agents, then times, end to end (SQL + maths + chart PNG), what a
manager triggers: `/nps 90d`, `/csat 30d by agent`, `/stats 90d` and the weekly report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.process.heap import settle_after_startup
from bot.reports import compose as report
from bot.reports import export
from storage.base import AnalyticsRepo
from storage.sqlite import open_sqlite
from survey_flows.models import Metric
from survey_flows.periods import Period, parse_selection
from survey_flows.scoring import category

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
PRODUCTS = [f"product-{i:02d}" for i in range(20)]
AGENTS = [f"agent-{i:02d}" for i in range(50)]
CHANNELS = ["web", "app", "phone"]
SURVEYS = [("support", (Metric.CES, Metric.CSAT)), ("csat", (Metric.CSAT,)), ("nps", (Metric.NPS,))]
SURVEY_WEIGHTS = [0.4, 0.3, 0.3]
SCALE = {Metric.NPS: (0, 10), Metric.CSAT: (1, 5), Metric.CES: (1, 7)}
COMMENTS = ["Took too long", "Nobody called back", "Broken on arrival", "Rude answer", "Fine"]
BATCH = 50_000


def ts(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


def score(rng: random.Random, metric: Metric, quality: float) -> int:
    low, high = SCALE[metric]
    value = round(rng.gauss(low + (high - low) * quality, (high - low) / 3.5))
    return min(high, max(low, value))


def fill(path: Path, answers_wanted: int, seed: int = 7) -> tuple[int, int]:
    """Bulk insert with plain sqlite3 (one big transaction per batch); returns counts."""
    rng = random.Random(seed)
    quality = {a: rng.uniform(0.45, 0.9) for a in AGENTS}
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=WAL")
    customers = [(100_000 + i, ts(NOW - SPAN)) for i in range(50_000)]
    db.executemany("INSERT INTO customers (telegram_id, created_at) VALUES (?, ?)", customers)
    inv_rows, ctx_rows, ans_rows = [], [], []
    answers = invitations = 0
    start = NOW - SPAN
    # Invitations come in time order, as events do (ids grow with time), with some jitter.
    expected = answers_wanted / (0.6 * (0.4 * 2 + 0.3 + 0.3))
    step = SPAN.total_seconds() / expected
    while answers < answers_wanted:
        invitations += 1
        inv_id = invitations
        survey, metrics = rng.choices(SURVEYS, SURVEY_WEIGHTS)[0]
        at = min(invitations * step + rng.uniform(0, 600), SPAN.total_seconds() - 1)
        sent = start + timedelta(seconds=at)
        agent, product = rng.choice(AGENTS), rng.choice(PRODUCTS)
        customer = 100_000 + rng.randrange(50_000)
        answered = rng.random() < 0.6
        status = "completed" if answered else "expired"
        context = {"agent": agent, "product": product, "channel": rng.choice(CHANNELS)}
        inv_rows.append(
            (
                inv_id, f"ev-{inv_id}", "purchase", survey, customer, ts(sent), ts(sent), status,
                json.dumps(context),
            )
        )  # fmt: skip
        ctx_rows += [(inv_id, key, value) for key, value in context.items()]
        if answered:
            at = sent + timedelta(minutes=rng.randrange(1, 600))
            for q, metric in enumerate(metrics):
                s = score(rng, metric, quality[agent])
                comment = rng.choice(COMMENTS) if rng.random() < 0.2 else None
                ans_rows.append(
                    (
                        inv_id, q, survey, metric.value, s, category(metric, s).value, customer,
                        ts(at), comment, "text" if comment else None, ts(at) if comment else None,
                    )
                )  # fmt: skip
                answers += 1
        if len(inv_rows) >= BATCH:
            _flush(db, inv_rows, ctx_rows, ans_rows)
    _flush(db, inv_rows, ctx_rows, ans_rows)
    db.execute("ANALYZE")
    db.close()
    return invitations, answers


def _flush(db: sqlite3.Connection, inv: list, ctx: list, ans: list) -> None:
    with db:
        db.executemany(
            "INSERT INTO invitations (id, event_id, event_type, survey, customer_id, send_at,"
            " due_at, created_at, sent_at, status, prompt_sent, context)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [(i, e, t, s, c, at, at, at, at, st, cx) for (i, e, t, s, c, at, _, st, cx) in inv],
        )
        db.executemany(
            "INSERT INTO invitation_context (invitation_id, key, value) VALUES (?, ?, ?)", ctx
        )
        db.executemany(
            "INSERT INTO answers (invitation_id, question_index, survey, metric, score, category,"
            " customer_id, answered_at, comment, comment_kind, commented_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ans,
        )
    inv.clear(), ctx.clear(), ans.clear()


async def timed(label: str, make, repeat: int = 5) -> float:
    """The first run and the median of `repeat` runs: the first may read pages from disk."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = await make()
        times.append(time.perf_counter() - started)
    pngs = sum(1 for o in out if o.photo)
    median = statistics.median(times)
    print(
        f"  {label:<22} {median * 1000:7.0f} ms   (first {times[0] * 1000:.0f} ms;"
        f" {len(out)} message, {pngs} chart)"
    )
    return median


async def measure(path: Path, docs: Path | None) -> None:
    repo = await open_sqlite(path)
    analytics = repo.analytics
    cfg = ReportsConfig()
    charts = ChartWorker()  # the bench's clock stands still at NOW: every reply gets now=NOW
    try:
        nps90 = parse_selection("90d", NOW)
        csat_by = parse_selection("30d by agent", NOW)
        weekly = Period(NOW - timedelta(days=7), NOW, "since the last report")
        # Warm-up, as in a bot that has been running: the chart worker's first use of each kind
        # of chart imports matplotlib and loads its fonts; the file's pages come into the cache.
        week = parse_selection("7d", NOW)
        await report.metric_reply(analytics, Metric.NPS, week, cfg, "en", charts=charts, now=NOW)
        await report.stats_reply(analytics, week, cfg, "en", charts=charts, now=NOW)
        settle_after_startup()  # as the bot does once it is up (bot/process/heap.py)
        print("end to end (SQL + maths + PNG):")
        results = [
            await timed(
                "/nps 90d",
                lambda: report.metric_reply(
                    analytics, Metric.NPS, nps90, cfg, "en", charts=charts, now=NOW
                ),
            ),
            await timed(
                "/csat 30d by agent",
                lambda: report.metric_reply(
                    analytics, Metric.CSAT, csat_by, cfg, "en", charts=charts, now=NOW
                ),
            ),
            await timed(
                "weekly report",
                lambda: report.report_reply(analytics, weekly, cfg, "en", charts=charts, now=NOW),
            ),
            await timed(
                "/stats 90d",
                lambda: report.stats_reply(analytics, nps90, cfg, "en", charts=charts, now=NOW),
            ),
            await timed(
                "/nps 2y product=…",
                lambda: report.metric_reply(
                    analytics,
                    Metric.NPS,
                    parse_selection("2024-03-02..2026-03-01 product=product-03", NOW),
                    cfg,
                    "en",
                    charts=charts,
                    now=NOW,
                ),
            ),
        ]
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(3):
                started = time.perf_counter()
                rows = await export.export_csv(
                    analytics, NOW - timedelta(days=30), NOW, (), Path(tmp) / "x.csv"
                )
                times.append(time.perf_counter() - started)
        print(
            f"  {'/export 30d (CSV)':<22} {statistics.median(times) * 1000:7.0f} ms"
            f"   (first {times[0] * 1000:.0f} ms; {rows} rows)"
        )
        print(f"slowest: {max(results) * 1000:.0f} ms (target < 1000 ms)")
        if docs is not None:
            await write_docs(analytics, docs, cfg, charts)
    finally:
        charts.close()
        await repo.close()


async def write_docs(
    analytics: AnalyticsRepo, folder: Path, cfg: ReportsConfig, charts: ChartWorker
) -> None:
    """One example of each chart kind, as managers get them (`now` inside the last bucket, so
    the unfinished one shows as such), and the trend once more for a Chinese reader."""
    nps = parse_selection("30d", NOW)
    shots = {
        "chart-trend.png": await report.metric_reply(
            analytics, Metric.NPS, nps, cfg, "en", charts=charts, now=NOW
        ),
        "chart-trend-zh.png": await report.metric_reply(
            analytics, Metric.NPS, nps, cfg, "zh", charts=charts, now=NOW
        ),
        "chart-day.png": await report.metric_reply(
            analytics, Metric.CSAT, parse_selection("today", NOW), cfg, "en", charts=charts, now=NOW
        ),
        "chart-segments.png": await report.metric_reply(
            analytics,
            Metric.CSAT,
            parse_selection("30d by agent", NOW),
            cfg,
            "en",
            charts=charts,
            now=NOW,
        ),
        "chart-overview.png": await report.stats_reply(
            analytics, parse_selection("90d", NOW), cfg, "en", charts=charts, now=NOW
        ),
    }
    for name, out in shots.items():
        assert out[0].photo is not None, f"{name}: no chart"
        (folder / name).write_bytes(out[0].photo)
    # matplotlib, here only: the figures above draw in the chart worker
    from bot.charts import figures

    labels = report.chart_labels("en")
    (folder / "chart-empty.png").write_bytes(
        figures.render_trend(Metric.NPS, "NPS · today", [], "", labels)
    )
    print(f"wrote {', '.join([*shots, 'chart-empty.png'])} to {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--docs", type=Path, help="write example chart PNGs into this folder")
    parser.add_argument(
        "--db", type=Path, help="keep the filled SQLite file here and reuse it when it exists"
    )
    args = parser.parse_args()
    if args.docs is not None:
        args.docs.mkdir(parents=True, exist_ok=True)
    if args.db is not None and args.db.exists():
        print(f"reusing {args.db} ({args.db.stat().st_size / 1e6:.0f} MB file)")
        asyncio.run(measure(args.db, args.docs))
        return report_peak()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.sqlite3"

        async def create() -> None:
            await (await open_sqlite(path)).close()

        asyncio.run(create())
        started = time.perf_counter()
        invitations, answers = fill(path, args.answers)
        print(
            f"filled {answers:,} answers / {invitations:,} invitations in"
            f" {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB file)"
        )
        asyncio.run(measure(path, args.docs))
    report_peak()


def report_peak() -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss): {peak:.0f} MB (target < 200 MB)")


if __name__ == "__main__":
    main()
