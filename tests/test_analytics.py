"""Analytics SQL on both backends, the metric helpers it feeds, and the CSV export."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ReportsConfig
from bot.reports.export import export_csv
from storage.base import SurveyRepo
from storage.timestamps import to_db
from survey_flows.metrics import category_counts, change, csat, nps, too_few
from survey_flows.models import Category, Metric
from survey_flows.periods import Bucket, Period, bucket_edges
from survey_flows.reports import safe_cell, safe_cells, segments
from survey_flows.scoring import category

from . import backends

pytestmark = backends.BOTH
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


@asynccontextmanager
async def writes(repo: Any) -> AsyncIterator[Callable[..., Awaitable[list[Any]]]]:
    """One transaction on either backend: `run(sql, params)` with SQLite's `?` placeholders,
    returning the rows (of a RETURNING or a SELECT)."""
    async with repo.database.transaction() as db:
        if hasattr(db, "fetch"):  # asyncpg

            async def run(sql: str, params: Sequence[Any] = ()) -> list[Any]:
                return list(await db.fetch(backends._dollars(sql), *params))

        else:

            async def run(sql: str, params: Sequence[Any] = ()) -> list[Any]:
                return list(await (await db.execute(sql, params)).fetchall())

        yield run


async def add_answers(
    repo: SurveyRepo,
    at: datetime,
    metric: Metric,
    scores: list[int],
    context: dict[str, str] | None = None,
    *,
    comment: str | None = None,
    survey: str | None = None,
) -> None:
    """One invitation (delivered a minute before `at`) per score, each answered at `at`."""
    context = context or {}
    async with writes(repo) as run:
        for score in scores:
            n = next(_ids)
            customer = 1000 + n
            await run(
                "INSERT INTO customers (telegram_id, created_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (customer, to_db(at)),
            )
            sent = to_db(at - timedelta(minutes=1))
            [(inv,)] = await run(
                "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
                " created_at, send_at, due_at, status, prompt_sent, sent_at)"
                " VALUES (?, 'purchase', ?, ?, ?, ?, ?, ?, 'completed', 1, ?) RETURNING id",
                (f"ev-{n}", survey or metric.value, customer, json.dumps(context), *[sent] * 4),
            )
            for key, value in context.items():
                await run(
                    "INSERT INTO invitation_context (invitation_id, key, value) VALUES (?, ?, ?)",
                    (inv, key, value),
                )
            await run(
                "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
                " category, customer_id, answered_at, comment, comment_kind, commented_at)"
                " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    inv,
                    survey or metric.value,
                    metric.value,
                    score,
                    category(metric, score).value,
                    customer,
                    to_db(at),
                    comment,
                    "text" if comment else None,
                    to_db(at) if comment else None,
                ),
            )


async def add_unanswered(
    repo: SurveyRepo, sent: datetime, count: int, status: str = "expired"
) -> None:
    async with writes(repo) as run:
        for _ in range(count):
            n = next(_ids)
            await run(
                "INSERT INTO customers (telegram_id, created_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (1000 + n, to_db(sent)),
            )
            await run(
                "INSERT INTO invitations (event_id, event_type, survey, customer_id,"
                " created_at, send_at, due_at, status, prompt_sent, sent_at)"
                " VALUES (?, 'purchase', 'csat', ?, ?, ?, ?, ?, 1, ?)",
                (f"ev-{n}", 1000 + n, *[to_db(sent)] * 3, status, to_db(sent)),
            )


# --- metric helpers (pure tables) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "before", "delta", "significant"),
    [
        ({10: 100}, {0: 100}, 200.0, True),  # all promoters vs all detractors
        ({10: 6, 0: 4}, {10: 5, 0: 5}, 20.0, False),  # ten answers: noise
        ({}, {10: 3}, None, None),
        ({10: 3}, {}, None, None),
    ],
)
def test_change_against_previous_period(now, before, delta, significant) -> None:
    result = change(nps(now), nps(before))
    if delta is None:
        assert result is None, "a change against nothing must not be shown"
    else:
        assert result.delta == pytest.approx(delta)
        assert result.significant is significant


def test_change_margin_is_the_root_sum_of_squares_by_hand() -> None:
    a, b = csat({5: 80, 1: 20}), csat({5: 50, 1: 50})
    # Wilson, 80% of 100: [71.12, 86.66] -> ±8.88 (the wider side); 50%: ±9.62
    # -> sqrt(8.88² + 9.62²) = 13.09
    result = change(a, b)
    assert result.margin == pytest.approx(math.hypot(8.88, 9.62), abs=0.02)
    assert result.significant  # 30 points > 13.09


@pytest.mark.parametrize(("n", "expected"), [(0, True), (9, True), (10, False), (11, False)])
def test_too_few_at_the_threshold(n: int, expected: bool) -> None:
    assert too_few(nps({9: n}), 10) is expected


@pytest.mark.parametrize(
    ("metric", "counts", "expected"),
    [
        (Metric.NPS, {6: 1, 7: 2, 8: 3, 9: 4}, (1, 5, 4)),
        (Metric.CSAT, {2: 1, 3: 1, 4: 1}, (1, 1, 1)),
        (Metric.CES, {3: 2, 5: 1, 6: 7}, (2, 1, 7)),
        (Metric.NPS, {}, (0, 0, 0)),
    ],
)
def test_category_counts(metric, counts, expected) -> None:
    got = category_counts(metric, counts)
    assert (got[Category.DETRACTOR], got[Category.PASSIVE], got[Category.PROMOTER]) == expected


def test_segments_biggest_first_and_small_ones_marked() -> None:
    groups = segments(
        Metric.CSAT, {"bob": {5: 3}, "anna": {5: 20}, None: {1: 50}, "al": {5: 3}}, 10
    )
    assert [g.value for g in groups] == ["anna", "al", "bob", None]
    assert [g.trusted for g in groups] == [True, False, False, True]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("fine = ok", "fine = ok"),
        ("", ""),
    ],
)
def test_safe_cell(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe
    assert safe_cells(["ok", cell, cell]) == ["ok", safe, safe]  # the export's row at a time


# --- SQL aggregation ------------------------------------------------------------------------


async def test_distributions_per_metric_and_period(repo: SurveyRepo) -> None:
    a = repo.analytics
    await add_answers(repo, NOW - timedelta(days=1), Metric.NPS, [10, 10, 9, 7, 0])
    await add_answers(repo, NOW - timedelta(days=1), Metric.CSAT, [5, 4, 1])
    await add_answers(repo, NOW - timedelta(days=40), Metric.NPS, [0, 0])  # outside 30 days
    got = await a.distributions(NOW - timedelta(days=30), NOW)
    assert got[Metric.NPS] == {10: 2, 9: 1, 7: 1, 0: 1}
    assert got[Metric.CSAT] == {5: 1, 4: 1, 1: 1}
    assert got[Metric.CES] == {}
    assert await a.distribution(Metric.NPS, NOW - timedelta(days=60), NOW) == {
        10: 2,
        9: 1,
        7: 1,
        0: 3,
    }


async def test_period_is_half_open(repo: SurveyRepo) -> None:
    a = repo.analytics
    await add_answers(repo, NOW, Metric.NPS, [10])
    await add_answers(repo, NOW - timedelta(days=1), Metric.NPS, [0])
    assert await a.distribution(Metric.NPS, NOW - timedelta(days=1), NOW) == {0: 1}


async def test_filters_on_context(repo: SurveyRepo) -> None:
    a = repo.analytics
    at = NOW - timedelta(hours=1)
    await add_answers(repo, at, Metric.CSAT, [5, 5], {"product": "Kettle", "agent": "anna"})
    await add_answers(repo, at, Metric.CSAT, [1], {"product": "Kettle", "agent": "bob"})
    await add_answers(repo, at, Metric.CSAT, [2], {"product": "Toaster", "agent": "anna"})
    start = NOW - timedelta(days=1)
    assert await a.distribution(Metric.CSAT, start, NOW, [("product", "Kettle")]) == {5: 2, 1: 1}
    assert await a.distribution(
        Metric.CSAT, start, NOW, [("product", "Kettle"), ("agent", "anna")]
    ) == {5: 2}
    assert await a.distribution(Metric.CSAT, start, NOW, [("product", "Nope")]) == {}


async def test_by_segment_includes_answers_without_the_field(repo: SurveyRepo) -> None:
    a = repo.analytics
    at = NOW - timedelta(hours=1)
    await add_answers(repo, at, Metric.CSAT, [5, 4], {"agent": "anna", "channel": "web"})
    await add_answers(repo, at, Metric.CSAT, [1], {"agent": "bob", "channel": "app"})
    await add_answers(repo, at, Metric.CSAT, [3], {})
    start = NOW - timedelta(days=1)
    assert await a.by_segment(Metric.CSAT, "agent", start, NOW) == {
        "anna": {5: 1, 4: 1},
        "bob": {1: 1},
        None: {3: 1},
    }
    assert await a.by_segment(Metric.CSAT, "agent", start, NOW, [("channel", "web")]) == {
        "anna": {5: 1, 4: 1}
    }


async def test_bucketed_counts_land_in_their_day(repo: SurveyRepo) -> None:
    a = repo.analytics
    period = Period(NOW - timedelta(days=3), NOW, "3d")
    edges = bucket_edges(period, Bucket.DAY)  # 15 Mar 12:00 | 16 | 17 | 18 00:00 - 12:00
    await add_answers(repo, datetime(2026, 3, 16, 0, 0, tzinfo=UTC), Metric.NPS, [10])  # edge
    await add_answers(repo, datetime(2026, 3, 17, 23, 59, tzinfo=UTC), Metric.NPS, [0, 0])
    await add_answers(repo, datetime(2026, 3, 18, 1, 0, tzinfo=UTC), Metric.CES, [7])
    got = await a.bucketed([Metric.NPS, Metric.CES], edges)
    assert got[Metric.NPS] == [{}, {10: 1}, {0: 2}, {}]
    assert got[Metric.CES] == [{}, {}, {}, {7: 1}]


async def test_activity_response_and_comment_rates(repo: SurveyRepo) -> None:
    a = repo.analytics
    at = NOW - timedelta(hours=2)
    await add_answers(repo, at, Metric.CSAT, [5, 4, 1])
    await add_answers(repo, at, Metric.CSAT, [1], comment="slow")
    await add_unanswered(repo, at, 4)
    activity = await a.activity(NOW - timedelta(days=1), NOW)
    assert (activity.invitations_sent, activity.invitations_answered) == (8, 4)
    assert activity.response_rate == 0.5
    assert (activity.answers, activity.comments) == (4, 1)
    assert activity.comment_rate == 0.25
    empty = await a.activity(NOW - timedelta(days=100), NOW - timedelta(days=99))
    assert empty.response_rate is None and empty.comment_rate is None


async def test_response_rate_counts_only_delivered_invitations(repo: SurveyRepo) -> None:
    """Customers who blocked the bot (403: never got the question) cannot answer it."""
    a = repo.analytics
    at = NOW - timedelta(hours=2)
    await add_answers(repo, at, Metric.CSAT, [5, 4])
    await add_unanswered(repo, at, 2)
    await add_unanswered(repo, at, 6, status="failed")
    activity = await a.activity(NOW - timedelta(days=1), NOW)
    assert activity.invitations_sent == 4, "undelivered invitations were counted as sent"
    assert activity.response_rate == 0.5, f"response rate shown as {activity.response_rate}"


async def test_recent_detractor_comments_newest_first(repo: SurveyRepo) -> None:
    a = repo.analytics
    await add_answers(
        repo, NOW - timedelta(hours=3), Metric.NPS, [2], {"agent": "x"}, comment="old"
    )
    await add_answers(repo, NOW - timedelta(hours=1), Metric.NPS, [1], comment="new")
    await add_answers(repo, NOW - timedelta(hours=1), Metric.NPS, [10], comment="love it")
    got = await a.recent_comments(NOW - timedelta(days=1), NOW, limit=5)
    assert [c.comment for c in got] == ["new", "old"]
    assert got[1].context == {"agent": "x"}


async def test_export_pages_through_every_answer_in_order(repo: SurveyRepo) -> None:
    a = repo.analytics
    for i in range(7):
        await add_answers(repo, NOW - timedelta(hours=10 - i), Metric.CSAT, [5, 4])
    pages = [p async for p in a.export_pages(NOW - timedelta(days=1), NOW, page=3)]
    assert [len(p) for p in pages] == [3, 3, 3, 3, 2]
    rows = [r for p in pages for r in p]
    assert rows[0].answered_at == (NOW - timedelta(hours=10)).isoformat()
    assert [r.answered_at for r in rows] == sorted(r.answered_at for r in rows)
    assert len({r.invitation_id for r in rows}) == 14


async def test_export_csv_is_spreadsheet_safe_utf8(repo: SurveyRepo, tmp_path: Path) -> None:
    a = repo.analytics
    at = NOW - timedelta(hours=1)
    await add_answers(
        repo, at, Metric.CSAT, [1], {"product": "=cmd|' /C calc'!A0"}, comment="-плохо, @all"
    )
    await add_answers(repo, at, Metric.NPS, [10], {"agent": "анна"})
    path = tmp_path / "x.csv"
    rows = await export_csv(a, NOW - timedelta(days=1), NOW, (), path)
    assert rows == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "without a BOM spreadsheets misread UTF-8"
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(table[0])[:6] == ["answered_at", "survey", "metric", "score", "category", "comment"]
    assert "agent" in table[0] and "product" in table[0]
    first, second = table
    assert first["comment"] == "'-плохо, @all"
    assert first["product"] == "'=cmd|' /C calc'!A0"
    assert first["score"] == "1" and first["category"] == "unsatisfied"
    assert second["agent"] == "анна" and second["product"] == ""
    assert second["category"] == "promoter", "each metric names its own categories"


async def test_report_runs_are_claimed_once(repo: SurveyRepo) -> None:
    a = repo.report_runs
    fire = NOW
    start = NOW - timedelta(days=7)
    assert await a.claim_report("job", fire, 1, start, fire, NOW)
    # Claimed but not yet sent (e.g. a crash mid-send): may be tried again.
    assert await a.claim_report("job", fire, 1, start, fire, NOW)
    await a.mark_report_sent("job", fire, 1, NOW)
    assert not await a.claim_report("job", fire, 1, start, fire, NOW)
    assert await a.claim_report("job", fire, 2, start, fire, NOW)  # another chat
    assert await a.last_report_end("job", NOW + timedelta(days=1)) == fire
    assert await a.report_sent("job", fire)


def test_reports_config_defaults() -> None:
    cfg = ReportsConfig()
    assert cfg.min_answers == 10 and cfg.cron is None
