"""Figures from the daily totals kept by triggers (answer_days, invitation_days) are exactly
what the rows say, at every edge and after every kind of change."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from storage.base import SurveyRepo
from storage.postgres import open_postgres
from storage.timestamps import to_db
from survey_flows.models import Metric
from survey_flows.periods import Bucket, Period, bucket_edges

from . import backends
from .test_analytics import NOW, add_answers, add_unanswered, writes

pytestmark = backends.BOTH


async def raw_activity(
    repo: SurveyRepo, start: datetime, end: datetime
) -> tuple[int, int, int, int]:
    """Sent and answered invitations, answers and comments, counted row by row."""
    [invitations] = await backends.fetch(
        repo,
        "SELECT count(*) AS n, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM answers x"
        " WHERE x.invitation_id = i.id)) AS answered FROM invitations i"
        " WHERE i.sent_at >= ? AND i.sent_at < ?"
        " AND NOT (i.status = 'failed' AND i.message_id IS NULL)",
        (to_db(start), to_db(end)),
    )
    [answers] = await backends.fetch(
        repo,
        "SELECT count(*) AS n, count(commented_at) AS comments FROM answers"
        " WHERE answered_at >= ? AND answered_at < ?",
        (to_db(start), to_db(end)),
    )
    return invitations["n"], invitations["answered"], answers["n"], answers["comments"]


async def test_activity_from_daily_totals_matches_the_invitations_after_every_change(
    repo: SurveyRepo,
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
    async with writes(repo) as run:
        ids = [r[0] for r in await run("SELECT id FROM invitations ORDER BY id")]
        answered = {r[0] for r in await run("SELECT invitation_id FROM answers")}
        moved, failed, gone, unanswer = ids[3], ids[10], ids[17], sorted(answered)[5]
        await run(  # moved to another day
            "UPDATE invitations SET sent_at = ? WHERE id = ?",
            (to_db(NOW - timedelta(days=4, hours=1)), moved),
        )
        await run(  # refused for good before a message existed: no longer sent
            "UPDATE invitations SET status = 'failed', message_id = NULL WHERE id = ?", (failed,)
        )
        await run("DELETE FROM answers WHERE invitation_id = ?", (gone,))
        await run("DELETE FROM invitations WHERE id = ?", (gone,))
        await run("DELETE FROM answers WHERE invitation_id = ?", (unanswer,))
        await run(  # a failed one that had a message after all: sent again
            "UPDATE invitations SET message_id = 77 WHERE status = 'failed' AND id != ?",
            (failed,),
        )
        not_answered = next(i for i in ids if i not in answered and i != failed)
        await run(
            "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
            " category, customer_id, answered_at) VALUES (?, 0, 'nps', 'nps', 9, 'promoter',"
            " 1, ?)",
            (not_answered, to_db(NOW - timedelta(hours=1))),
        )
        await run(  # a comment typed after the score, and one erased
            "UPDATE answers SET comment = 'late', commented_at = answered_at"
            " WHERE id = (SELECT min(id) FROM answers WHERE commented_at IS NULL)"
        )
        await run(
            "UPDATE answers SET comment = NULL, commented_at = NULL"
            " WHERE id = (SELECT max(id) FROM answers WHERE commented_at IS NOT NULL)"
        )
    await check("after edits")


async def raw_counts(repo: SurveyRepo, start: datetime, end: datetime) -> dict[Metric, dict]:
    out: dict[Metric, dict] = {m: {} for m in Metric}
    rows = await backends.fetch(
        repo,
        "SELECT metric, score, count(*) AS n FROM answers"
        " WHERE answered_at >= ? AND answered_at < ? GROUP BY metric, score",
        (to_db(start), to_db(end)),
    )
    for row in rows:
        out[Metric(row["metric"])][row["score"]] = row["n"]
    return out


async def test_figures_from_daily_totals_match_the_answers_at_every_edge(repo: SurveyRepo) -> None:
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
    async with writes(repo) as run:
        await run(
            "UPDATE answers SET answered_at = ?, score = 0"
            " WHERE id = (SELECT min(id) FROM answers)",
            (to_db(NOW - timedelta(days=4, hours=1)),),
        )
        await run("DELETE FROM answers WHERE id = (SELECT max(id) FROM answers)")
    for start, end in windows:
        assert await a.distributions(start, end) == await raw_counts(repo, start, end)


async def test_buckets_from_daily_totals_match_the_answers(repo: SurveyRepo) -> None:
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


async def day_totals(repo: SurveyRepo) -> list[dict]:
    return await backends.fetch(
        repo, "SELECT day, sent, answered FROM invitation_days WHERE sent > 0 ORDER BY day"
    )


async def raw_day_totals(repo: SurveyRepo) -> list[dict]:
    return await backends.fetch(
        repo,
        "SELECT substr(i.sent_at, 1, 10) AS day, count(*) AS sent,"
        " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM answers x WHERE x.invitation_id = i.id))"
        " AS answered FROM invitations i WHERE i.sent_at IS NOT NULL"
        " AND NOT (i.status = 'failed' AND i.message_id IS NULL) GROUP BY 1 ORDER BY 1",
    )


def answer_row(invitation: int, question: int) -> tuple[str, list]:
    return "(?, ?, 'nps', 'nps', 9, 'promoter', 1, ?)", [
        invitation,
        question,
        to_db(NOW - timedelta(hours=1)),
    ]


async def test_answered_counts_each_invitation_once_when_one_statement_changes_several_answers(
    repo: SurveyRepo,
) -> None:
    """An invitation is answered once, whether its answers come, go or move one per statement
    or several in one (an import's multi-row insert, an erasure, a merge of invitations)."""
    for days in range(4):
        await add_unanswered(repo, NOW - timedelta(days=days, hours=2), 2)
    ids = [r["id"] for r in await backends.fetch(repo, "SELECT id FROM invitations ORDER BY id")]
    rows = [answer_row(ids[0], q) for q in range(3)] + [answer_row(ids[2], q) for q in range(2)]
    async with writes(repo) as run:
        await run(  # three answers of one invitation and two of another, one statement
            "INSERT INTO answers (invitation_id, question_index, survey, metric, score, category,"
            " customer_id, answered_at) VALUES " + ", ".join(sql for sql, _ in rows),
            [x for _, params in rows for x in params],
        )
    assert await day_totals(repo) == await raw_day_totals(repo), "after a multi-row insert"
    steps = [
        # Two of ids[0]'s three answers move to ids[4] (another day): both now answered.
        (
            "UPDATE answers SET invitation_id = ? WHERE invitation_id = ? AND question_index > 0",
            (ids[4], ids[0]),
        ),
        # The rest of ids[0] moves too: it is no longer answered.
        ("UPDATE answers SET invitation_id = ? WHERE invitation_id = ?", (ids[6], ids[0])),
        # Both answers of ids[2] deleted in one statement.
        ("DELETE FROM answers WHERE invitation_id = ?", (ids[2],)),
        # A comment on every answer: no answer moves, nothing changes.
        ("UPDATE answers SET comment = 'x', commented_at = answered_at", ()),
        # Swapped between two invitations in one statement: both stay answered.
        (
            "UPDATE answers SET invitation_id = CASE invitation_id WHEN ? THEN CAST(? AS BIGINT)"
            " ELSE CAST(? AS BIGINT) END"
            " WHERE invitation_id IN (?, ?)",
            (ids[4], ids[6], ids[4], ids[4], ids[6]),
        ),
    ]
    for sql, params in steps:
        await backends.execute(repo, sql, params)
        assert await day_totals(repo) == await raw_day_totals(repo), sql
    answered = sum(row["answered"] for row in await day_totals(repo))
    assert answered == 2, "ids[4] and ids[6] are the answered ones"


async def test_first_answers_of_one_invitation_from_two_processes_count_it_once(
    postgres_url: str,
) -> None:
    """Two processes record answers of one invitation at once (READ COMMITTED): each trigger
    would see only its own answer and count the invitation as newly answered; the second waits
    for the first's commit instead, and then sees both. (Other scores: no answer_days row in
    common that would make it wait anyway.)"""
    repo = await open_postgres(postgres_url)
    await add_unanswered(repo, NOW - timedelta(hours=2), 1)
    invitation = await backends.scalar(repo, "SELECT id FROM invitations")
    first, second = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    insert = (
        "INSERT INTO answers (invitation_id, question_index, survey, metric, score, category,"
        " customer_id, answered_at) VALUES ($1, $2, 'nps', 'nps', $3, 'promoter', 1, $4)"
    )
    at = to_db(NOW - timedelta(hours=1))
    try:
        one, two = first.transaction(), second.transaction()
        await one.start()
        await first.execute(insert, invitation, 0, 9, at)
        await two.start()
        waiting = asyncio.create_task(second.execute(insert, invitation, 1, 8, at))
        for _ in range(1000):  # until the second waits for the first's lock
            blocked = await first.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
                second.get_server_pid(),
            )
            if blocked or waiting.done():
                break
        assert blocked, "the second process did not wait for the first's answer"
        await one.commit()
        await waiting
        await two.commit()
        assert await day_totals(repo) == await raw_day_totals(repo)
        assert [row["answered"] for row in await day_totals(repo)] == [1]
    finally:
        await first.close()
        await second.close()
        await repo.close()
