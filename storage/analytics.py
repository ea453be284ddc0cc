"""Analytics queries: aggregation in SQL, a dozen numbers out instead of a million rows.

Every method reads through the repository's one connection (and its lock) and returns score
distributions (score -> count) that `survey_flows.metrics` turns into NPS / CSAT / CES.
Filters are (context key, value) pairs matched through `invitation_context`.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from survey_flows.models import Metric

from .rows import one_row
from .sqlite import SqliteRepo
from .timestamps import from_db, to_db

Filters = Sequence[tuple[str, str]]
Counts = dict[int, int]

EXPORT_PAGE = 5000
_METRICS = tuple(m.value for m in Metric)


@dataclass(frozen=True, slots=True)
class Activity:
    invitations_sent: int  # delivered within the period
    invitations_answered: int  # of those, how many got at least one answer
    answers: int  # answers given within the period
    comments: int  # of those, how many carry a follow-up comment (text, voice, photo...)

    @property
    def response_rate(self) -> float | None:
        return self.invitations_answered / self.invitations_sent if self.invitations_sent else None

    @property
    def comment_rate(self) -> float | None:
        return self.comments / self.answers if self.answers else None


@dataclass(frozen=True, slots=True)
class RecentComment:
    answered_at: datetime
    metric: Metric
    score: int
    comment: str
    context: dict[str, str]


@dataclass(frozen=True, slots=True)
class ExportRow:
    answered_at: datetime
    survey: str
    metric: str
    score: int
    category: str
    comment: str | None
    comment_kind: str | None
    customer_id: int
    invitation_id: int
    context: dict[str, str]


def _filter_joins(filters: Filters, column: str = "a.invitation_id") -> tuple[str, list[str]]:
    sql, params = [], []
    for i, (key, value) in enumerate(filters):
        sql.append(
            f" JOIN invitation_context f{i} ON f{i}.invitation_id = {column}"
            # NOCASE (ASCII letters; index invitation_context_kv_nocase): kettle finds Kettle.
            f" AND f{i}.key = ? AND f{i}.value = ? COLLATE NOCASE"
        )
        params += [key, value]
    return "".join(sql), params


class Analytics:
    """Read-only aggregation over the survey repository, plus scheduled-report bookkeeping."""

    def __init__(self, repo: SqliteRepo) -> None:
        self._repo = repo

    @property
    def repo(self) -> SqliteRepo:
        return self._repo

    # --- score distributions -------------------------------------------------------------

    async def distributions(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[Metric, Counts]:
        """Score distribution of every metric over [start, end)."""
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT a.metric, a.score, count(*) FROM answers a"
            f"{joins} WHERE a.metric IN (?, ?, ?) AND a.answered_at >= ? AND a.answered_at < ?"
            " GROUP BY a.metric, a.score"
        )
        out: dict[Metric, Counts] = {m: {} for m in Metric}
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [*params, *_METRICS, to_db(start), to_db(end)])
            for metric, score, count in await cursor.fetchall():
                out[Metric(metric)][score] = count
        return out

    async def distribution(
        self, metric: Metric, start: datetime, end: datetime, filters: Filters = ()
    ) -> Counts:
        joins, params = _filter_joins(filters)
        sql = (
            f"SELECT a.score, count(*) FROM answers a{joins}"
            " WHERE a.metric = ? AND a.answered_at >= ? AND a.answered_at < ? GROUP BY a.score"
        )
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [*params, metric.value, to_db(start), to_db(end)])
            return {score: count for score, count in await cursor.fetchall()}

    async def bucketed(
        self, metrics: Sequence[Metric], edges: Sequence[datetime], filters: Filters = ()
    ) -> dict[Metric, list[Counts]]:
        """Per metric, one distribution per bucket [edges[i], edges[i+1])."""
        out: dict[Metric, list[Counts]] = {m: [{} for _ in edges[1:]] for m in metrics}
        if len(edges) < 2 or not metrics:
            return out
        values = ", ".join("(?, ?, ?)" for _ in edges[1:])
        bounds: list[object] = []
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            bounds += [i, to_db(lo), to_db(hi)]
        joins, params = _filter_joins(filters)
        marks = ", ".join("?" for _ in metrics)
        # CROSS JOIN keeps the buckets as the outer loop: one index range scan per bucket.
        sql = (
            f"WITH b(i, lo, hi) AS (VALUES {values})"
            " SELECT b.i, a.metric, a.score, count(*) FROM b CROSS JOIN answers a"
            f"{joins} WHERE a.metric IN ({marks}) AND a.answered_at >= b.lo"
            " AND a.answered_at < b.hi GROUP BY b.i, a.metric, a.score"
        )
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [*bounds, *params, *(m.value for m in metrics)])
            for i, metric, score, count in await cursor.fetchall():
                out[Metric(metric)][i][score] = count
        return out

    async def by_segment(
        self, metric: Metric, field: str, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[str | None, Counts]:
        """Distribution per value of a context field; None collects answers without the field."""
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT g.value, a.score, count(*) FROM answers a"
            " LEFT JOIN invitation_context g ON g.invitation_id = a.invitation_id AND g.key = ?"
            f"{joins} WHERE a.metric = ? AND a.answered_at >= ? AND a.answered_at < ?"
            " GROUP BY g.value, a.score"
        )
        out: dict[str | None, Counts] = defaultdict(dict)
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [field, *params, metric.value, to_db(start), to_db(end)])
            for value, score, count in await cursor.fetchall():
                out[value][score] = count
        return dict(out)

    # --- activity and comments -----------------------------------------------------------

    async def activity(self, start: datetime, end: datetime, filters: Filters = ()) -> Activity:
        inv_joins, inv_params = _filter_joins(filters, "i.id")
        ans_joins, ans_params = _filter_joins(filters)
        async with self._repo.reading() as db:
            cursor = await db.execute(
                "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM answers x"
                f" WHERE x.invitation_id = i.id)), 0) FROM invitations i{inv_joins}"
                " WHERE i.sent_at >= ? AND i.sent_at < ?"
                # Refused for good before any message existed (403, chat not found): not sent.
                " AND NOT (i.status = 'failed' AND i.message_id IS NULL)",
                [*inv_params, to_db(start), to_db(end)],
            )
            sent, answered = await one_row(cursor)
            cursor = await db.execute(
                f"SELECT count(*), count(a.commented_at) FROM answers a{ans_joins}"
                " WHERE a.answered_at >= ? AND a.answered_at < ?",
                [*ans_params, to_db(start), to_db(end)],
            )
            answers, comments = await one_row(cursor)
        return Activity(sent, answered, answers, comments)

    async def recent_comments(
        self, start: datetime, end: datetime, filters: Filters = (), limit: int = 5
    ) -> list[RecentComment]:
        """The latest detractor comments with text, newest first."""
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT a.answered_at, a.metric, a.score, a.comment, i.context FROM answers a"
            f" JOIN invitations i ON i.id = a.invitation_id{joins}"
            " WHERE a.category = 'detractor' AND a.comment IS NOT NULL"
            " AND a.answered_at >= ? AND a.answered_at < ?"
            " ORDER BY a.answered_at DESC LIMIT ?"
        )
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [*params, to_db(start), to_db(end), limit])
            rows = await cursor.fetchall()
        return [
            RecentComment(from_db(r[0]), Metric(r[1]), r[2], r[3], json.loads(r[4])) for r in rows
        ]

    # --- export --------------------------------------------------------------------------

    async def context_keys(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[str]:
        """Every context field that occurs on an answer of the period (the export's columns)."""
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT DISTINCT c.key FROM answers a"
            f" JOIN invitation_context c ON c.invitation_id = a.invitation_id{joins}"
            " WHERE a.answered_at >= ? AND a.answered_at < ? ORDER BY c.key"
        )
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [*params, to_db(start), to_db(end)])
            return [r[0] for r in await cursor.fetchall()]

    async def context_values(
        self, key: str, start: datetime, end: datetime, limit: int = 10
    ) -> list[str]:
        """Up to `limit` values of one context field on answers of the period, most used first
        (what a manager could have meant when a filter on `key` matched nothing)."""
        sql = (
            "SELECT c.value FROM answers a"
            " JOIN invitation_context c ON c.invitation_id = a.invitation_id AND c.key = ?"
            " WHERE a.answered_at >= ? AND a.answered_at < ?"
            " GROUP BY c.value ORDER BY count(*) DESC, c.value LIMIT ?"
        )
        async with self._repo.reading() as db:
            cursor = await db.execute(sql, [key, to_db(start), to_db(end), limit])
            return [r[0] for r in await cursor.fetchall()]

    async def export_rows(
        self, start: datetime, end: datetime, filters: Filters = (), page: int = EXPORT_PAGE
    ) -> AsyncIterator[ExportRow]:
        """Answers in time order, streamed page by page (keyset pagination): memory stays flat
        and the connection is free for customers' answers between pages."""
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT a.id, a.answered_at, a.survey, a.metric, a.score, a.category, a.comment,"
            " a.comment_kind, a.customer_id, a.invitation_id, i.context FROM answers a"
            f" JOIN invitations i ON i.id = a.invitation_id{joins}"
            " WHERE a.answered_at >= ? AND a.answered_at < ? AND (a.answered_at, a.id) > (?, ?)"
            " ORDER BY a.answered_at, a.id LIMIT ?"
        )
        after = (to_db(start), 0)
        while True:
            async with self._repo.reading() as db:
                cursor = await db.execute(
                    sql, [*params, to_db(start), to_db(end), after[0], after[1], page]
                )
                rows = list(await cursor.fetchall())
            for r in rows:
                yield ExportRow(
                    from_db(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], json.loads(r[10])
                )
            if len(rows) < page:
                return
            after = (rows[-1][1], rows[-1][0])

    # --- scheduled reports ---------------------------------------------------------------

    async def last_report_end(self, job: str, before: datetime) -> datetime | None:
        """End of the latest period a report of `job` was sent for, up to `before`."""
        async with self._repo.reading() as db:
            cursor = await db.execute(
                "SELECT max(period_end) FROM report_runs"
                " WHERE job = ? AND sent_at IS NOT NULL AND period_end <= ?",
                (job, to_db(before)),
            )
            (value,) = await one_row(cursor)
        return from_db(value)

    async def claim_report(
        self,
        job: str,
        fire_time: datetime,
        chat_id: int,
        start: datetime,
        end: datetime,
        now: datetime,
    ) -> bool:
        """True when this run's report still has to go to this chat (never sent before)."""
        async with self._repo.transaction() as db:
            await db.execute(
                "INSERT INTO report_runs (job, fire_time, chat_id, period_start, period_end,"
                " claimed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (job, to_db(fire_time), chat_id, to_db(start), to_db(end), to_db(now)),
            )
            cursor = await db.execute(
                "SELECT sent_at FROM report_runs WHERE job = ? AND fire_time = ? AND chat_id = ?",
                (job, to_db(fire_time), chat_id),
            )
            (sent_at,) = await one_row(cursor)
        return sent_at is None

    async def mark_report_sent(
        self, job: str, fire_time: datetime, chat_id: int, now: datetime
    ) -> None:
        async with self._repo.transaction() as db:
            await db.execute(
                "UPDATE report_runs SET sent_at = ?"
                " WHERE job = ? AND fire_time = ? AND chat_id = ?",
                (to_db(now), job, to_db(fire_time), chat_id),
            )

    async def report_sent(self, job: str, fire_time: datetime) -> bool:
        """Whether the run at `fire_time` reached at least one chat."""
        async with self._repo.reading() as db:
            cursor = await db.execute(
                "SELECT 1 FROM report_runs WHERE job = ? AND fire_time = ? AND sent_at IS NOT NULL",
                (job, to_db(fire_time)),
            )
            return await cursor.fetchone() is not None
