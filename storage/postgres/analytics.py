"""Analytics queries on PostgreSQL: as storage/sqlite/analytics.py, the same figures to the digit.

What differs is the dialect, and three things SQLite gives for free and PostgreSQL must be told:
- a filter's value matches as SQLite's NOCASE does, folding ASCII letters only (`_folds`):
  PostgreSQL's lower() folds every letter its locale knows, so "Чайник" would find "чайник" here
  and not on SQLite;
- text is ordered bytewise (`COLLATE "C"`) where the order shows (the export's columns, the
  values suggested), as SQLite's BINARY does, whatever the database's locale;
- rows SQLite returns in the order of the index it reads are ordered explicitly (comments by
  time, ties of the recent comments newest id first, as SQLite's backward index scan gives them).
Buckets are arrays unnested into rows instead of a VALUES list: one statement text however many
buckets, so asyncpg prepares it once.
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

_METRICS = [m.value for m in Metric]
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


class _Args:
    """A query's arguments, each added where its placeholder goes: `args(v)` -> "$n"."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _folds(column: str, arg: str) -> str:
    """`column = arg COLLATE NOCASE`: lower() finds the rows through the index on lower(value),
    the ASCII-only fold keeps exactly those SQLite would match. The fold is wrapped in CASE so
    that the planner guesses it keeps half the rows, not the 1/200 it assumes for an equality
    it has no statistics of: that guess made it start every filtered figure from all the
    context rows (recent comments 100 times slower)."""
    fold = "translate({}, '" + _UPPER + "', '" + _LOWER + "')"
    exact = f"CASE WHEN {fold.format(column)} = {fold.format(arg)} THEN true END"
    return f"lower({column}) = lower({arg}) AND {exact}"


def _filter_joins(filters: Filters, args: _Args, column: str = "a.invitation_id") -> str:
    sql = []
    for i, (key, value) in enumerate(filters):
        sql.append(
            f" JOIN invitation_context f{i} ON f{i}.invitation_id = {column}"
            f" AND f{i}.key = {args(key)} AND {_folds(f'f{i}.value', args(value) + '::text')}"
        )
    return "".join(sql)


def _add(out: dict[Metric, Counts], rows: Sequence[Any]) -> None:
    for metric, score, count in rows:
        if metric in _METRICS and count:
            counts = out[Metric(metric)]
            counts[score] = counts.get(score, 0) + count


class Analytics:
    """Read-only aggregation: what managers see in /nps, /stats, the report and the export."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- score distributions -------------------------------------------------------------

    async def distributions(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[Metric, Counts]:
        if not filters:
            return await self._distributions_by_day(start, end)
        args = _Args()
        sql = (
            f"SELECT a.metric, a.score, count(*) FROM answers a{_filter_joins(filters, args)}"
            f" WHERE a.metric = ANY({args(_METRICS)}::text[])"
            f" AND a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))}"
            " GROUP BY a.metric, a.score"
        )
        out: dict[Metric, Counts] = {m: {} for m in Metric}
        async with self._db.snapshot() as db:
            _add(out, await db.fetch(sql, *args.values))
        return out

    async def _distributions_by_day(self, start: datetime, end: datetime) -> dict[Metric, Counts]:
        """Whole UTC days from answer_days (kept by triggers), the ends counted row by row."""
        out: dict[Metric, Counts] = {m: {} for m in Metric}
        days = whole_days(start, end)
        raw = [(start, end)] if days is None else [(start, days[0]), (days[1], end)]
        async with self._db.snapshot() as db:
            if days is not None:
                rows = await db.fetch(
                    "SELECT metric, score, sum(n)::bigint FROM answer_days"
                    " WHERE day >= $1 AND day < $2 GROUP BY metric, score",
                    days[0].date().isoformat(),
                    days[1].date().isoformat(),
                )
                _add(out, rows)
            for lo, hi in raw:
                if lo >= hi:
                    continue
                rows = await db.fetch(
                    "SELECT metric, score, count(*) FROM answers WHERE metric = ANY($1::text[])"
                    " AND answered_at >= $2 AND answered_at < $3 GROUP BY metric, score",
                    _METRICS,
                    to_db(lo),
                    to_db(hi),
                )
                _add(out, rows)
        return out

    async def distribution(
        self, metric: Metric, start: datetime, end: datetime, filters: Filters = ()
    ) -> Counts:
        if not filters:
            return (await self._distributions_by_day(start, end))[metric]
        args = _Args()
        sql = (
            f"SELECT a.score, count(*) FROM answers a{_filter_joins(filters, args)}"
            f" WHERE a.metric = {args(metric.value)} AND a.answered_at >= {args(to_db(start))}"
            f" AND a.answered_at < {args(to_db(end))} GROUP BY a.score"
        )
        async with self._db.snapshot() as db:
            return {score: count for score, count in await db.fetch(sql, *args.values)}

    async def first_answer(
        self,
        start: datetime,
        end: datetime,
        filters: Filters = (),
        metrics: Sequence[Metric] = tuple(Metric),
    ) -> datetime | None:
        args = _Args()
        sql = (
            # Not min(): with a join PostgreSQL would aggregate every answer of the period,
            # where walking the time index stops at the first.
            f"SELECT a.answered_at FROM answers a{_filter_joins(filters, args)}"
            f" WHERE a.metric = ANY({args([m.value for m in metrics])}::text[])"
            f" AND a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))}"
            " ORDER BY a.answered_at LIMIT 1"
        )
        async with self._db.snapshot() as db:
            first: str | None = await db.fetchval(sql, *args.values)
        return from_db(first)

    async def bucketed(
        self, metrics: Sequence[Metric], edges: Sequence[datetime], filters: Filters = ()
    ) -> dict[Metric, list[Counts]]:
        """As SQLite: unfiltered, a bucket's whole UTC days come from answer_days."""
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
        names = [m.value for m in metrics]
        rows: list[Any] = []
        async with self._db.snapshot() as db:
            if raw:
                args = _Args()
                buckets = (
                    f"unnest({args([i for i, _, _ in raw])}::int[],"
                    f" {args([to_db(lo) for _, lo, _ in raw])}::text[],"
                    f" {args([to_db(hi) for _, _, hi in raw])}::text[]) AS b(i, lo, hi)"
                )
                # LATERAL keeps the buckets as the outer loop, one index range scan each (as
                # SQLite's CROSS JOIN): joined, PostgreSQL compared every answer to every bucket.
                rows += await db.fetch(
                    f"SELECT b.i, x.* FROM {buckets} CROSS JOIN LATERAL"
                    f" (SELECT a.metric, a.score, count(*) FROM answers a"
                    f"{_filter_joins(filters, args)} WHERE a.metric = ANY({args(names)}::text[])"
                    " AND a.answered_at >= b.lo AND a.answered_at < b.hi"
                    " GROUP BY a.metric, a.score) AS x",
                    *args.values,
                )
            if days:
                rows += await db.fetch(
                    "SELECT b.i, x.* FROM unnest($1::int[], $2::text[], $3::text[]) AS b(i, lo, hi)"
                    " CROSS JOIN LATERAL (SELECT d.metric, d.score, sum(d.n)::bigint"
                    " FROM answer_days d WHERE d.day >= b.lo AND d.day < b.hi"
                    " AND d.metric = ANY($4::text[]) GROUP BY d.metric, d.score) AS x",
                    [i for i, _, _ in days],
                    [lo for _, lo, _ in days],
                    [hi for _, _, hi in days],
                    names,
                )
        for i, metric, score, count in rows:
            if count:
                counts = out[Metric(metric)][i]
                counts[score] = counts.get(score, 0) + count
        return out

    async def by_segment(
        self, metric: Metric, field: str, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[str | None, Counts]:
        """Distribution per value of a context field; None collects answers without the field."""
        args = _Args()
        sql = (
            "SELECT g.value, a.score, count(*) FROM answers a"
            f" LEFT JOIN invitation_context g ON g.invitation_id = a.invitation_id"
            f" AND g.key = {args(field)}{_filter_joins(filters, args)}"
            f" WHERE a.metric = {args(metric.value)} AND a.answered_at >= {args(to_db(start))}"
            f" AND a.answered_at < {args(to_db(end))} GROUP BY g.value, a.score"
        )
        out: dict[str | None, Counts] = defaultdict(dict)
        async with self._db.snapshot() as db:
            for value, score, count in await db.fetch(sql, *args.values):
                out[value][score] = count
        return dict(out)

    # --- activity and comments -----------------------------------------------------------

    async def activity(self, start: datetime, end: datetime, filters: Filters = ()) -> Activity:
        """As SQLite: unfiltered, whole UTC days from invitation_days and answer_days."""
        days = None if filters else whole_days(start, end)
        raw = [(start, end)] if days is None else [(start, days[0]), (days[1], end)]
        sent = answered = answers = comments = 0
        async with self._db.snapshot() as db:
            if days is not None:
                span = (days[0].date().isoformat(), days[1].date().isoformat())
                sent, answered = await db.fetchrow(
                    "SELECT coalesce(sum(sent), 0)::bigint, coalesce(sum(answered), 0)::bigint"
                    " FROM invitation_days WHERE day >= $1 AND day < $2",
                    *span,
                )
                answers, comments = await db.fetchrow(
                    "SELECT coalesce(sum(n), 0)::bigint, coalesce(sum(comments), 0)::bigint"
                    " FROM answer_days WHERE day >= $1 AND day < $2",
                    *span,
                )
            for lo, hi in raw:
                if lo >= hi:
                    continue
                args = _Args()
                part = await db.fetchrow(
                    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM answers x"
                    f" WHERE x.invitation_id = i.id)) FROM invitations i"
                    f"{_filter_joins(filters, args, 'i.id')}"
                    f" WHERE i.sent_at >= {args(to_db(lo))} AND i.sent_at < {args(to_db(hi))}"
                    # Refused for good before any message existed: not sent (as invitation_days).
                    " AND NOT (i.status = 'failed' AND i.message_id IS NULL)",
                    *args.values,
                )
                sent, answered = sent + part[0], answered + part[1]
                args = _Args()
                part = await db.fetchrow(
                    "SELECT count(*), count(a.commented_at) FROM answers a"
                    f"{_filter_joins(filters, args)} WHERE a.answered_at >= {args(to_db(lo))}"
                    f" AND a.answered_at < {args(to_db(hi))}",
                    *args.values,
                )
                answers, comments = answers + part[0], comments + part[1]
        return Activity(sent, answered, answers, comments)

    async def comments(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[tuple[str, str, str | None]]:
        """(comment, category, customer language) of every text comment in [start, end), in
        the order they were given; erased customers' comments are gone already."""
        args = _Args()
        sql = (
            f"SELECT a.comment, a.category, c.language FROM answers a{_filter_joins(filters, args)}"
            " LEFT JOIN customers c ON c.telegram_id = a.customer_id"
            f" WHERE a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))}"
            " AND a.comment IS NOT NULL AND coalesce(a.comment_kind, 'text') = 'text'"
            " ORDER BY a.answered_at, a.id"
        )
        async with self._db.snapshot() as db:
            return [(r[0], r[1], r[2]) for r in await db.fetch(sql, *args.values)]

    async def recent_comments(
        self, start: datetime, end: datetime, filters: Filters = (), limit: int = 5
    ) -> list[RecentComment]:
        """The latest detractor comments with text, newest first."""
        args = _Args()
        sql = (
            "SELECT a.answered_at, a.metric, a.score, a.comment, i.context FROM answers a"
            f" JOIN invitations i ON i.id = a.invitation_id{_filter_joins(filters, args)}"
            " WHERE a.category = 'detractor' AND a.comment IS NOT NULL"
            f" AND a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))}"
            f" ORDER BY a.answered_at DESC, a.id DESC LIMIT {args(limit)}"
        )
        async with self._db.snapshot() as db:
            rows = await db.fetch(sql, *args.values)
        return [
            RecentComment(from_db(r[0]), Metric(r[1]), r[2], r[3], json.loads(r[4])) for r in rows
        ]

    # --- export --------------------------------------------------------------------------

    async def context_keys(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[str]:
        """Every context field that occurs on an answer of the period (the export's columns)."""
        args = _Args()
        sql = (
            "SELECT c.key FROM invitation_context c WHERE c.invitation_id IN"
            f" (SELECT a.invitation_id FROM answers a{_filter_joins(filters, args)}"
            f" WHERE a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))})"
            ' GROUP BY c.key ORDER BY c.key COLLATE "C"'
        )
        async with self._db.snapshot() as db:
            return [r[0] for r in await db.fetch(sql, *args.values)]

    async def context_values(
        self, key: str, start: datetime, end: datetime, limit: int = 10
    ) -> list[str]:
        """Up to `limit` values of one context field on answers of the period, most used first."""
        async with self._db.snapshot() as db:
            rows = await db.fetch(
                "SELECT c.value FROM answers a"
                " JOIN invitation_context c ON c.invitation_id = a.invitation_id AND c.key = $1"
                " WHERE a.answered_at >= $2 AND a.answered_at < $3"
                ' GROUP BY c.value ORDER BY count(*) DESC, c.value COLLATE "C" LIMIT $4',
                key,
                to_db(start),
                to_db(end),
                limit,
            )
        return [r[0] for r in rows]

    async def export_pages(
        self, start: datetime, end: datetime, filters: Filters = (), page: int = EXPORT_PAGE
    ) -> AsyncIterator[list[ExportRow]]:
        """Answers in time order, a page at a time (keyset pagination, a snapshot per page)."""
        args = _Args()
        joins = _filter_joins(filters, args)
        within = f"a.answered_at >= {args(to_db(start))} AND a.answered_at < {args(to_db(end))}"
        n = len(args.values)  # then the last row seen and the page size
        sql = (
            # Stored times are UTC with microseconds (timestamps.to_db): cut, not parsed.
            "SELECT a.id, a.answered_at, substr(a.answered_at, 1, 19) || '+00:00', a.survey,"
            " a.metric, a.score, a.category, a.comment, a.comment_kind, a.customer_id,"
            " a.invitation_id, i.context FROM answers a"
            f" JOIN invitations i ON i.id = a.invitation_id{joins} WHERE {within}"
            f" AND (a.answered_at, a.id) > (${n + 1}, ${n + 2}::bigint)"
            f" ORDER BY a.answered_at, a.id LIMIT ${n + 3}"
        )
        after: tuple[str | None, int] = (to_db(start), 0)
        loads = json.loads
        while True:
            async with self._db.snapshot() as db:
                rows = await db.fetch(sql, *args.values, *after, page)
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
            rows = await db.fetch(
                "SELECT created_at, taken_at, resolved_at, recheck_solved, reopened_at FROM alerts"
                " WHERE created_at >= $1 AND created_at < $2",
                to_db(since),
                to_db(until),
            )
            open_now = await db.fetchval("SELECT count(*) FROM alerts WHERE status <> 'resolved'")
        return alert_summary(rows, open_now)

    async def reason_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Alerts resolved in [since, until), by the reason staff picked ("" for none)."""
        async with self._db.reading() as db:
            rows = await db.fetch(
                "SELECT coalesce(reason, ''), count(*) FROM alerts"
                " WHERE resolved_at >= $1 AND resolved_at < $2 GROUP BY 1"
                " ORDER BY count(*) DESC, coalesce(reason, '') COLLATE \"C\"",
                to_db(since),
                to_db(until),
            )
        return {reason: n for reason, n in rows}

    async def reasons_bucketed(self, edges: list[datetime]) -> list[dict[str, int]]:
        """Per bucket [edges[i], edges[i+1]): alerts resolved, by reason (one statement)."""
        out: list[dict[str, int]] = [{} for _ in edges[1:]]
        async with self._db.reading() as db:
            rows = await db.fetch(
                "SELECT b.i, coalesce(x.reason, ''), count(*)"
                " FROM unnest($1::int[], $2::text[], $3::text[]) AS b(i, lo, hi)"
                " JOIN alerts x ON x.resolved_at >= b.lo AND x.resolved_at < b.hi"
                " GROUP BY 1, 2",
                list(range(len(edges) - 1)),
                [to_db(lo) for lo in edges[:-1]],
                [to_db(hi) for hi in edges[1:]],
            )
        for i, reason, n in rows:
            out[i][reason] = n
        return out
