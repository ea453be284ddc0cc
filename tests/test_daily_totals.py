"""Figures from the daily totals kept by triggers (answer_days, invitation_days) are exactly
what the rows say, at every edge and after every kind of change."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.sqlite import SqliteRepo
from storage.timestamps import to_db
from survey_flows.models import Metric
from survey_flows.periods import Bucket, Period, bucket_edges

from .test_analytics import NOW, add_answers, add_unanswered


async def raw_activity(
    repo: SqliteRepo, start: datetime, end: datetime
) -> tuple[int, int, int, int]:
    """Sent and answered invitations, answers and comments, counted row by row."""
    async with repo.database.reading() as db:
        cursor = await db.execute(
            "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM answers x"
            " WHERE x.invitation_id = i.id)), 0) FROM invitations i"
            " WHERE i.sent_at >= ? AND i.sent_at < ?"
            " AND NOT (i.status = 'failed' AND i.message_id IS NULL)",
            (to_db(start), to_db(end)),
        )
        invitations = await cursor.fetchone()
        cursor = await db.execute(
            "SELECT count(*), count(commented_at) FROM answers"
            " WHERE answered_at >= ? AND answered_at < ?",
            (to_db(start), to_db(end)),
        )
        answers = await cursor.fetchone()
    assert invitations is not None and answers is not None
    return invitations[0], invitations[1], answers[0], answers[1]


async def test_activity_from_daily_totals_matches_the_invitations_after_every_change(
    repo: SqliteRepo,
) -> None:
    """Unfiltered activity adds whole days from invitation_days and counts the partial days
    at both ends; it stays exact when an invitation is sent, fails, moves to another day, is
    deleted, or loses or gains its answers, and when a comment is added or erased."""
    a = repo.analytics
    for hours in range(0, 24 * 9, 5):  # every 5 hours over nine days, around midnights
        at = NOW - timedelta(hours=hours, minutes=7)
        await add_answers(repo, at, Metric.NPS, [hours % 11, 10])
        await add_answers(repo, at, Metric.CSAT, [1 + hours % 5], comment="slow")
        await add_unanswered(repo, at, 1 + hours % 3)
        await add_unanswered(repo, at, hours % 2, status="failed")
    midnight = NOW.replace(hour=0, minute=0)
    windows = [
        (NOW - timedelta(days=7), NOW),
        (midnight - timedelta(days=3), midnight),
        (midnight - timedelta(hours=5), midnight + timedelta(hours=3)),
        (NOW - timedelta(days=30), NOW + timedelta(days=1)),
    ]

    async def check(when: str) -> None:
        for start, end in windows:
            got = await a.activity(start, end)
            raw = await raw_activity(repo, start, end)
            shown = (got.invitations_sent, got.invitations_answered, got.answers, got.comments)
            assert shown == raw, when
            assert raw[0] > 0 and raw[3] > 0, when

    await check("as inserted")
    async with repo.database.transaction() as db:
        ids = [r[0] for r in await (await db.execute("SELECT id FROM invitations")).fetchall()]
        answered = {
            r[0] for r in await (await db.execute("SELECT invitation_id FROM answers")).fetchall()
        }
        moved, failed, gone, unanswer = ids[3], ids[10], ids[17], sorted(answered)[5]
        await db.execute(  # moved to another day
            "UPDATE invitations SET sent_at = ? WHERE id = ?",
            (to_db(NOW - timedelta(days=4, hours=1)), moved),
        )
        await db.execute(  # refused for good before a message existed: no longer sent
            "UPDATE invitations SET status = 'failed', message_id = NULL WHERE id = ?", (failed,)
        )
        await db.execute("DELETE FROM answers WHERE invitation_id = ?", (gone,))
        await db.execute("DELETE FROM invitations WHERE id = ?", (gone,))
        await db.execute("DELETE FROM answers WHERE invitation_id = ?", (unanswer,))
        await db.execute(  # a failed one that had a message after all: sent again
            "UPDATE invitations SET message_id = 77 WHERE status = 'failed' AND id != ?",
            (failed,),
        )
        not_answered = next(i for i in ids if i not in answered and i != failed)
        await db.execute(
            "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
            " category, customer_id, answered_at) VALUES (?, 0, 'nps', 'nps', 9, 'promoter',"
            " 1, ?)",
            (not_answered, to_db(NOW - timedelta(hours=1))),
        )
        await db.execute(  # a comment typed after the score, and one erased
            "UPDATE answers SET comment = 'late', commented_at = answered_at"
            " WHERE id = (SELECT min(id) FROM answers WHERE commented_at IS NULL)"
        )
        await db.execute(
            "UPDATE answers SET comment = NULL, commented_at = NULL"
            " WHERE id = (SELECT max(id) FROM answers WHERE commented_at IS NOT NULL)"
        )
    await check("after edits")


async def raw_counts(repo: SqliteRepo, start: datetime, end: datetime) -> dict[Metric, dict]:
    out: dict[Metric, dict] = {m: {} for m in Metric}
    cursor = await repo.database.connection.execute(
        "SELECT metric, score, count(*) FROM answers WHERE answered_at >= ? AND answered_at < ?"
        " GROUP BY metric, score",
        (to_db(start), to_db(end)),
    )
    for metric, score, n in await cursor.fetchall():
        out[Metric(metric)][score] = n
    return out


async def test_figures_from_daily_totals_match_the_answers_at_every_edge(repo: SqliteRepo) -> None:
    """Unfiltered figures add whole days from answer_days and count the partial days at both
    ends; every window, aligned or not, shows exactly what the answers say, also after an
    answer is moved to another day or deleted."""
    a = repo.analytics
    for hours in range(0, 24 * 9, 5):  # every 5 hours over nine days, around midnights
        at = NOW - timedelta(hours=hours, minutes=7)
        await add_answers(repo, at, Metric.NPS, [hours % 11, 10])
        await add_answers(repo, at, Metric.CSAT, [1 + hours % 5])
    midnight = NOW.replace(hour=0, minute=0)
    windows = [
        (NOW - timedelta(days=7), NOW),  # partial days at both ends
        (midnight - timedelta(days=3), midnight),  # whole days only
        (midnight - timedelta(hours=5), midnight + timedelta(hours=3)),  # no whole day
        (NOW - timedelta(days=30), NOW + timedelta(days=1)),  # everything
    ]
    for start, end in windows:
        assert await a.distributions(start, end) == await raw_counts(repo, start, end)
        assert (
            await a.distribution(Metric.CSAT, start, end)
            == (await raw_counts(repo, start, end))[Metric.CSAT]
        )
    async with repo.database.transaction() as db:
        await db.execute(
            "UPDATE answers SET answered_at = ?, score = 0"
            " WHERE id = (SELECT min(id) FROM answers)",
            (to_db(NOW - timedelta(days=4, hours=1)),),
        )
        await db.execute("DELETE FROM answers WHERE id = (SELECT max(id) FROM answers)")
    for start, end in windows:
        assert await a.distributions(start, end) == await raw_counts(repo, start, end)


async def test_buckets_from_daily_totals_match_the_answers(repo: SqliteRepo) -> None:
    a = repo.analytics
    for hours in range(0, 24 * 20, 7):
        await add_answers(
            repo, NOW - timedelta(hours=hours, minutes=3), Metric.CES, [hours % 7 + 1]
        )
    for bucket, tz in ((Bucket.DAY, "Asia/Kolkata"), (Bucket.WEEK, "UTC"), (Bucket.DAY, "UTC")):
        period = Period(NOW - timedelta(days=14), NOW, "x")
        edges = bucket_edges(period, bucket, ZoneInfo(tz))
        got = (await a.bucketed([Metric.CES], edges))[Metric.CES]
        expected = [
            (await raw_counts(repo, lo, hi))[Metric.CES] for lo, hi in itertools.pairwise(edges)
        ]
        assert got == expected, f"{bucket} buckets in {tz}"
