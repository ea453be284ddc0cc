"""Campaigns, as in storage/sqlite/campaigns.py: the audience in one query, invitations in
chunks with event ids `campaign:<name>:<run id>:<telegram id>`, runs unique per (campaign,
fire time).

What differs, because several processes may work at once:
- A chunk is one INSERT ... SELECT over the chunk's arrays, and it first locks the chunk's
  customer rows (in id order, so two chunks never deadlock). An opt-out, a block or another
  invitation of one of them (every path that makes one upserts the customer row first) then
  waits for the chunk's commit, or the chunk waits for theirs and its rules see it: nobody who
  opted out or was just surveyed is invited, and no two processes invite one customer at once.
- Two processes completing the same run (a leader's cron and a `campaign run` by hand) invite
  each customer once: the event id is unique, and each adds only what it inserted to the
  run's count.
And one on purpose: a customer never surveyed (last_invited_at NULL) is invited. SQLite's
invite() drops them, its `NOT (... NULL > :recent ...)` being NULL, though select() counts
them as invited (tests/test_campaigns.py holds a strict xfail for it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from ..records import AudienceQuery, CampaignRun, Selection, Skip
from ..rows import ColumnTypes, from_row
from ..timestamps import from_db, to_db
from .analytics import _folds
from .database import Database

CAMPAIGN_EVENT_TYPE = "campaign"


def event_prefix(campaign: str, run_id: int) -> str:
    return f"campaign:{campaign}:{run_id}:"


class _Args(list[object]):
    """The values of a statement built piece by piece; `add` returns the placeholder."""

    def add(self, value: object, cast: str = "") -> str:
        self.append(value)
        return f"${len(self)}{cast}"


# As SQLite's _RECENT, over the window's start `{recent}` (a placeholder, text); never NULL,
# so `NOT (...)` keeps a customer who was never invited (last_invited_at NULL).
_RECENT = (
    "(coalesce(c.last_invited_at > {recent}, false) OR EXISTS (SELECT 1 FROM invitations r"
    " WHERE r.customer_id = c.telegram_id"
    " AND (r.status IN ('scheduled', 'active', 'completed') OR r.message_id IS NOT NULL)"
    " AND coalesce(r.sent_at, r.send_at) > {recent}))"
)


def _language(query: AudienceQuery, table: str, args: _Args) -> list[str]:
    """The audience's language filter over `<table>.language` (`de` takes `de-AT` too)."""
    if query.language is None:
        return []
    lang = args.add(query.language.lower(), "::text")
    return [f"(lower({table}.language) = {lang} OR lower({table}.language) LIKE {lang} || '-%')"]


def _audience_where(query: AudienceQuery, args: _Args) -> str:
    """The audience's filters over `customers c`; a context value matches as SQLite's NOCASE
    does (ASCII letters in any case), as the managers' filters do (analytics._folds)."""
    where = ["true", *_language(query, "c", args)]
    for key, value in query.context:
        where.append(
            "c.telegram_id IN (SELECT i.customer_id FROM invitation_context ic"
            " JOIN invitations i ON i.id = ic.invitation_id"
            f" WHERE ic.key = {args.add(key)} AND {_folds('ic.value', args.add(value, '::text'))})"
        )
    if query.since is not None:
        since = args.add(to_db(query.since))
        where.append(
            "(EXISTS (SELECT 1 FROM invitations i WHERE i.customer_id = c.telegram_id"
            f" AND i.created_at >= {since} AND i.event_type <> '{CAMPAIGN_EVENT_TYPE}')"
            " OR EXISTS (SELECT 1 FROM answers a WHERE a.customer_id = c.telegram_id"
            f" AND a.answered_at >= {since}))"
        )
    return " AND ".join(where)


_RUN_TYPES: ColumnTypes = {
    "fire_time": from_db,
    "manual": bool,
    "claimed_at": from_db,
    "finished_at": from_db,
}


def _run(row: asyncpg.Record) -> CampaignRun:
    return from_row(CampaignRun, row, _RUN_TYPES)


# One chunk: $1 telegram ids, $2 their send times, $3 the run's event prefix, $4 survey,
# $5 context (JSON), $6 now, $7 the recontact window's start (or NULL), $8 campaign, $9 run id.
_INVITE = f"""
WITH new AS (
    INSERT INTO invitations (event_id, event_type, survey, customer_id, context, created_at,
        send_at, due_at, status)
    SELECT $3 || c.telegram_id, '{CAMPAIGN_EVENT_TYPE}', $4, c.telegram_id, $5, $6,
        chunk.send_at, chunk.send_at, 'scheduled'
    FROM unnest($1::bigint[], $2::text[]) AS chunk (customer, send_at)
    JOIN customers c ON c.telegram_id = chunk.customer
    WHERE c.opted_out_at IS NULL AND c.unreachable_at IS NULL
    AND NOT ($7::text IS NOT NULL AND {_RECENT.format(recent="$7::text")})
    ORDER BY c.telegram_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id
), context AS (
    -- The campaign's name as context, so managers can filter: /nps campaign=<name>.
    INSERT INTO invitation_context (invitation_id, key, value)
    SELECT id, 'campaign', $8 FROM new
), counted AS (
    UPDATE campaign_runs SET invited = invited + (SELECT count(*) FROM new) WHERE id = $9
)
SELECT count(*) FROM new
"""


class Campaigns:
    """Campaign runs, their audiences, and the invitations a run makes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- runs ----------------------------------------------------------------------------

    async def claim_run(
        self, campaign: str, fire_time: datetime, now: datetime, *, manual: bool = False
    ) -> CampaignRun:
        """The run of `campaign` at `fire_time`, recorded now unless it already was (by this
        process or another: the second insert waits for the first's commit, then finds it)."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO campaign_runs (campaign, fire_time, manual, claimed_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (campaign, fire_time) DO NOTHING"
                " RETURNING *",
                campaign,
                to_db(fire_time),
                int(manual),
                to_db(now),
            )
            if row is None:  # a statement of its own: it sees the other's committed row
                row = await conn.fetchrow(
                    "SELECT * FROM campaign_runs WHERE campaign = $1 AND fire_time = $2",
                    campaign,
                    to_db(fire_time),
                )
            if row is None:
                raise LookupError(f"campaign run {campaign} at {fire_time} vanished")
            return _run(row)

    async def unfinished_runs(self, campaign: str | None = None) -> list[CampaignRun]:
        """Runs started but not finished (the process stopped halfway), oldest first."""
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM campaign_runs WHERE finished_at IS NULL"
                " AND ($1::text IS NULL OR campaign = $1) ORDER BY id",
                campaign,
            )
            return [_run(r) for r in rows]

    async def runs(self, campaign: str) -> list[CampaignRun]:
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM campaign_runs WHERE campaign = $1 ORDER BY id", campaign
            )
            return [_run(r) for r in rows]

    async def finish_run(self, run_id: int, now: datetime) -> None:
        await self._db.write(
            "UPDATE campaign_runs SET finished_at = coalesce(finished_at, $1) WHERE id = $2",
            to_db(now),
            run_id,
        )

    # --- who -----------------------------------------------------------------------------

    async def select(
        self,
        query: AudienceQuery,
        now: datetime,
        *,
        recontact: timedelta,
        campaign: str,
        run_id: int | None,
    ) -> Selection:
        """The audience split into those to invite now and, per reason, those not."""
        args = _Args()
        prefix = args.add(event_prefix(campaign, run_id) if run_id is not None else None, "::text")
        recent = args.add(to_db(now - recontact) if recontact > timedelta(0) else None, "::text")
        where = _audience_where(query, args)
        sql = (
            "SELECT c.telegram_id, CASE"
            f" WHEN {prefix} IS NOT NULL AND EXISTS (SELECT 1 FROM invitations x"
            f"  WHERE x.event_id = {prefix} || c.telegram_id) THEN 'already_invited'"
            " WHEN c.opted_out_at IS NOT NULL THEN 'opted_out'"
            " WHEN c.unreachable_at IS NOT NULL THEN 'unreachable'"
            f" WHEN {recent} IS NOT NULL AND {_RECENT.format(recent=recent)}"
            " THEN 'surveyed_recently'"
            " ELSE 'invite' END AS verdict"
            f" FROM customers c WHERE {where} ORDER BY c.telegram_id"
        )
        invite: list[int] = []
        skipped: Counter[Skip] = Counter()
        async with self._db.reading() as conn:
            for telegram_id, verdict in await conn.fetch(sql, *args):
                if verdict == "invite":
                    invite.append(telegram_id)
                else:
                    skipped[Skip(verdict)] += 1
            skipped[Skip.NO_CHAT] += await self._without_chat(conn, query)
        return Selection(invite, +skipped)

    async def _without_chat(self, conn: asyncpg.Connection, query: AudienceQuery) -> int:
        """Customers known only by the shop's id (no Telegram chat yet) who match the audience:
        their language, the context of their waiting events, the time of those events."""
        args = _Args()
        where = ["e.telegram_id IS NULL", *_language(query, "e", args)]
        for key, value in query.context:
            field = f"(w.context::jsonb ->> {args.add(key, '::text')})"
            where.append(
                "EXISTS (SELECT 1 FROM awaiting_link w WHERE w.external_id = e.external_id"
                f" AND {_folds(field, args.add(value, '::text'))})"
            )
        if query.since is not None:
            where.append(
                "EXISTS (SELECT 1 FROM awaiting_link w WHERE w.external_id = e.external_id"
                f" AND w.created_at >= {args.add(to_db(query.since))})"
            )
        count = await conn.fetchval(
            f"SELECT count(*) FROM external_customers e WHERE {' AND '.join(where)}", *args
        )
        return int(count)

    # --- inviting ------------------------------------------------------------------------

    async def invite(
        self,
        run: CampaignRun,
        survey: str,
        customers: Sequence[tuple[int, datetime]],
        now: datetime,
        *,
        recontact: timedelta,
    ) -> int:
        """One chunk of (telegram id, send time) in one transaction; returns how many were new.

        The opt-out, reachability and recontact rules are checked again inside the transaction,
        after the chunk's customers are locked (see the module's docstring)."""
        ids = [customer for customer, _ in customers]
        async with self._db.transaction() as conn:
            await conn.execute(
                "SELECT 1 FROM customers WHERE telegram_id = ANY($1::bigint[])"
                " ORDER BY telegram_id FOR UPDATE",
                ids,
            )
            inserted = await conn.fetchval(
                _INVITE,
                ids,
                [to_db(send_at) for _, send_at in customers],
                event_prefix(run.campaign, run.id),
                survey,
                json.dumps({"campaign": run.campaign}, ensure_ascii=False),
                to_db(now),
                to_db(now - recontact) if recontact > timedelta(0) else None,
                run.campaign,
                run.id,
            )
        return int(inserted)
