"""Analytics queries: aggregation in SQL, a dozen numbers out instead of a million rows.

Every method reads through the database's read-only connection (`Database.snapshot`) and returns
score distributions (score -> count) that `survey_flows.metrics` turns into NPS / CSAT / CES, or
alert figures. Filters are (context key, value) pairs matched through `invitation_context`.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from survey_flows.models import Metric

from ..records import Activity, Counts, ExportRow, Filters, RecentComment
from ..timestamps import from_db, to_db
from ..totals import EXPORT_PAGE, alert_summary, whole_days
from .database import Database
from .rows import one_row

_METRICS = tuple(m.value for m in Metric)


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
    """Read-only aggregation: what managers see in /nps, /stats, the report and the export."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- score distributions -------------------------------------------------------------

    async def distributions(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[Metric, Counts]:
        """Score distribution of every metric over [start, end)."""
        if not filters:
            return await self._distributions_by_day(start, end)
        joins, params = _filter_joins(filters)
        sql = (
            "SELECT a.metric, a.score, count(*) FROM answers a"
            f"{joins} WHERE a.metric IN (?, ?, ?) AND a.answered_at >= ? AND a.answered_at < ?"
            " GROUP BY a.metric, a.score"
        )
        out: dict[Metric, Counts] = {m: {} for m in Metric}
        async with self._db.snapshot() as db:
            cursor = await db.execute(sql, [*params, *_METRICS, to_db(start), to_db(end)])
            for metric, score, count in await cursor.fetchall():
                out[Metric(metric)][score] = count
        return out

    async def _distributions_by_day(self, start: datetime, end: datetime) -> dict[Metric, Counts]:
        """Unfiltered: whole UTC days from answer_days (kept by triggers), the ends counted."""
        out: dict[Metric, Counts] = {m: {} for m in Metric}
        days = whole_days(start, end)
        if days is None:
            raw = [(start, end)]
        else:
            first, last = days
            raw = [(start, first), (last, end)]
        async with self._db.snapshot() as db:
            rows: list[Any] = []
            if days is not None:
                cursor = await db.execute(
                    "SELECT metric, score, sum(n) FROM answer_days WHERE day >= ? AND day < ?"
                    " GROUP BY metric, score",
                    (days[0].date().isoformat(), days[1].date().isoformat()),
                )
                rows += await cursor.fetchall()
            for lo, hi in raw:
                if lo >= hi:
                    continue
                cursor = await db.execute(
                    "SELECT metric, score, count(*) FROM answers WHERE metric IN (?, ?, ?)"
                    " AND answered_at >= ? AND answered_at < ? GROUP BY metric, score",
                    [*_METRICS, to_db(lo), to_db(hi)],
                )
                rows += await cursor.fetchall()
        for metric, score, count in rows:
            if metric in _METRICS and count:
                counts = out[Metric(metric)]
                counts[score] = counts.get(score, 0) + count
        return out

    async def distribution(
        self, metric: Metric, start: datetime, end: datetime, filters: Filters = ()
    ) -> Counts:
        if not filters:
            return (await self._distributions_by_day(start, end))[metric]
        joins, params = _filter_joins(filters)
        sql = (
            f"SELECT a.score, count(*) FROM answers a{joins}"
            " WHERE a.metric = ? AND a.answered_at >= ? AND a.answered_at < ? GROUP BY a.score"
        )
        async with self._db.snapshot() as db:
            cursor = await db.execute(sql, [*params, metric.value, to_db(start), to_db(end)])
            return {score: count for score, count in await cursor.fetchall()}

    async def first_answer(
        self,
        start: datetime,
        end: datetime,
        filters: Filters = (),
        metrics: Sequence[Metric] = tuple(Metric),
    ) -> datetime | None:
        """When the first answer in [start, end) was given: where a trend chart starts."""
        joins, params = _filter_joins(filters)
        marks = ", ".join("?" for _ in metrics)
        async with self._db.snapshot() as db:
            cursor = await db.execute(
                f"SELECT min(a.answered_at) FROM answers a{joins} WHERE a.metric IN ({marks})"
                " AND a.answered_at >= ? AND a.answered_at < ?",
                [*params, *(m.value for m in metrics), to_db(start), to_db(end)],
            )
            first: str | None = (await one_row(cursor))[0]
            return from_db(first)

    async def bucketed(
        self, metrics: Sequence[Metric], edges: Sequence[datetime], filters: Filters = ()
    ) -> dict[Metric, list[Counts]]:
        """Per metric, one distribution per bucket [edges[i], edges[i+1]).

        Unfiltered, a bucket's whole UTC days come from answer_days and only its partial days
        from the answers themselves."""
        out: dict[Metric, list[Counts]] = {m: [{} for _ in edges[1:]] for m in metrics}
        if len(edges) < 2 or not metrics:
            return out
        raw: list[tuple[int, datetime, datetime]] = []
        days: list[tuple[int, str, str]] = []
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            whole = None if filters else whole_days(lo, hi)
            if whole is None:
                raw.append((i, lo, hi))
                continue
            days.append((i, whole[0].date().isoformat(), whole[1].date().isoformat()))
            raw += [(i, lo, whole[0]), (i, whole[1], hi)]
        raw = [(i, lo, hi) for i, lo, hi in raw if lo < hi]
        joins, params = _filter_joins(filters)
        marks = ", ".join("?" for _ in metrics)
        names = [m.value for m in metrics]
        rows: list[Any] = []
        async with self._db.snapshot() as db:
            if raw:
                values = ", ".join("(?, ?, ?)" for _ in raw)
                bounds = [x for i, lo, hi in raw for x in (i, to_db(lo), to_db(hi))]
                # CROSS JOIN keeps the buckets as the outer loop: one index range scan each.
                cursor = await db.execute(
                    f"WITH b(i, lo, hi) AS (VALUES {values})"
                    " SELECT b.i, a.metric, a.score, count(*) FROM b CROSS JOIN answers a"
                    f"{joins} WHERE a.metric IN ({marks}) AND a.answered_at >= b.lo"
                    " AND a.answered_at < b.hi GROUP BY b.i, a.metric, a.score",
                    [*bounds, *params, *names],
                )
                rows += await cursor.fetchall()
            if days:
                values = ", ".join("(?, ?, ?)" for _ in days)
                cursor = await db.execute(
                    f"WITH b(i, lo, hi) AS (VALUES {values})"
                    " SELECT b.i, d.metric, d.score, sum(d.n) FROM b CROSS JOIN answer_days d"
                    f" WHERE d.day >= b.lo AND d.day < b.hi AND d.metric IN ({marks})"
                    " GROUP BY b.i, d.metric, d.score",
                    [*(x for day in days for x in day), *names],
                )
                rows += await cursor.fetchall()
        for i, metric, score, count in rows:
            if count:
                counts = out[Metric(metric)][i]
                counts[score] = counts.get(score, 0) + count
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
        async with self._db.snapshot() as db:
            cursor = await db.execute(sql, [field, *params, metric.value, to_db(start), to_db(end)])
            for value, score, count in await cursor.fetchall():
                out[value][score] = count
        return dict(out)

    # --- activity and comments -----------------------------------------------------------

    async def activity(self, start: datetime, end: datetime, filters: Filters = ()) -> Activity:
        inv_joins, inv_params = _filter_joins(filters, "i.id")
        ans_joins, ans_params = _filter_joins(filters)
        days = None if filters else whole_days(start, end)
        # Unfiltered: whole UTC days from invitation_days and answer_days (kept by triggers,
        # migrations 015 and 019), only the partial days at the ends counted row by row.
        raw = [(start, end)] if days is None else [(start, days[0]), (days[1], end)]
        sent = answered = answers = comments = 0
        async with self._db.snapshot() as db:
            if days is not None:
                span = (days[0].date().isoformat(), days[1].date().isoformat())
                cursor = await db.execute(
                    "SELECT coalesce(sum(sent), 0), coalesce(sum(answered), 0)"
                    " FROM invitation_days WHERE day >= ? AND day < ?",
                    span,
                )
                sent, answered = await one_row(cursor)
                cursor = await db.execute(
                    "SELECT coalesce(sum(n), 0), coalesce(sum(comments), 0)"
                    " FROM answer_days WHERE day >= ? AND day < ?",
                    span,
                )
                answers, comments = await one_row(cursor)
            for lo, hi in raw:
                if lo >= hi:
                    continue
                cursor = await db.execute(
                    "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM answers x"
                    f" WHERE x.invitation_id = i.id)), 0) FROM invitations i{inv_joins}"
                    " WHERE i.sent_at >= ? AND i.sent_at < ?"
                    # Refused for good before any message existed (403, chat not found): not
                    # sent. Migration 019 counts the same way.
                    " AND NOT (i.status = 'failed' AND i.message_id IS NULL)",
                    [*inv_params, to_db(lo), to_db(hi)],
                )
                part = await one_row(cursor)
                sent, answered = sent + part[0], answered + part[1]
                cursor = await db.execute(
                    f"SELECT count(*), count(a.commented_at) FROM answers a{ans_joins}"
                    " WHERE a.answered_at >= ? AND a.answered_at < ?",
                    [*ans_params, to_db(lo), to_db(hi)],
                )
                part = await one_row(cursor)
                answers, comments = answers + part[0], comments + part[1]
        return Activity(sent, answered, answers, comments)

    async def comments(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[tuple[str, str, str | None]]:
        """(comment, category, customer language) of every text comment in [start, end);
        erased customers' comments are gone already."""
        joins, params = _filter_joins(filters)
        async with self._db.snapshot() as db:
            cursor = await db.execute(
                "SELECT a.comment, a.category, c.language FROM answers a"
                f"{joins} LEFT JOIN customers c ON c.telegram_id = a.customer_id"
                " WHERE a.answered_at >= ? AND a.answered_at < ? AND a.comment IS NOT NULL"
                " AND coalesce(a.comment_kind, 'text') = 'text'",
                [*params, to_db(start), to_db(end)],
            )
            return [(r[0], r[1], r[2]) for r in await cursor.fetchall()]

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
        async with self._db.snapshot() as db:
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
            # IN (not a join): each invitation's keys are read once, from its primary key.
            "SELECT DISTINCT c.key FROM invitation_context c WHERE c.invitation_id IN"
            f" (SELECT a.invitation_id FROM answers a{joins}"
            " WHERE a.answered_at >= ? AND a.answered_at < ?) ORDER BY c.key"
        )
        async with self._db.snapshot() as db:
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
        async with self._db.snapshot() as db:
            cursor = await db.execute(sql, [key, to_db(start), to_db(end), limit])
            return [r[0] for r in await cursor.fetchall()]

    async def export_pages(
        self, start: datetime, end: datetime, filters: Filters = (), page: int = EXPORT_PAGE
    ) -> AsyncIterator[list[ExportRow]]:
        """Answers in time order, a page at a time (keyset pagination): memory stays flat and
        the reader is free for other figures between pages."""
        joins, params = _filter_joins(filters)
        sql = (
            # Stored times are UTC with microseconds (timestamps.to_db): cut, not parsed.
            "SELECT a.id, a.answered_at, substr(a.answered_at, 1, 19) || '+00:00', a.survey,"
            " a.metric, a.score, a.category, a.comment, a.comment_kind, a.customer_id,"
            " a.invitation_id, i.context FROM answers a"
            f" JOIN invitations i ON i.id = a.invitation_id{joins}"
            " WHERE a.answered_at >= ? AND a.answered_at < ?"
            " AND (a.answered_at, a.id) > (?, ?) ORDER BY a.answered_at, a.id LIMIT ?"
        )
        after = (to_db(start), 0)
        loads = json.loads
        while True:
            async with self._db.snapshot() as db:
                cursor = await db.execute(
                    sql, [*params, to_db(start), to_db(end), after[0], after[1], page]
                )
                rows = list(await cursor.fetchall())
            if rows:
                yield [
                    ExportRow(r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], loads(r[11]))
                    for r in rows
                ]
            if len(rows) < page:
                return
            after = (rows[-1][1], rows[-1][0])

    # --- alerts ---------------------------------------------------------------------------

    async def alert_figures(self, since: datetime, until: datetime) -> dict[str, Any]:
        """Alerts raised in [since, until): counts, median times, share rechecked as solved."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT created_at, taken_at, resolved_at, recheck_solved, reopened_at FROM alerts"
                " WHERE created_at >= ? AND created_at < ?",
                (to_db(since), to_db(until)),
            )
            rows = list(await cursor.fetchall())
            cursor = await db.execute("SELECT count(*) FROM alerts WHERE status != 'resolved'")
            open_now = (await one_row(cursor))[0]
        return alert_summary(rows, open_now)

    async def reason_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Alerts resolved in [since, until), by the reason staff picked ("" for none)."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT coalesce(reason, ''), count(*) FROM alerts"
                " WHERE resolved_at >= ? AND resolved_at < ? GROUP BY 1 ORDER BY 2 DESC, 1",
                (to_db(since), to_db(until)),
            )
            return {reason: n for reason, n in await cursor.fetchall()}

    async def reasons_bucketed(self, edges: list[datetime]) -> list[dict[str, int]]:
        """Per bucket [edges[i], edges[i+1]): alerts resolved, by reason."""
        out: list[dict[str, int]] = [{} for _ in edges[1:]]
        async with self._db.reading() as db:
            for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
                cursor = await db.execute(
                    "SELECT coalesce(reason, ''), count(*) FROM alerts"
                    " WHERE resolved_at >= ? AND resolved_at < ? GROUP BY 1",
                    (to_db(lo), to_db(hi)),
                )
                out[i] = {reason: n for reason, n in await cursor.fetchall()}
        return out
