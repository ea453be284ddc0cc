"""Campaigns: who an audience is, who of it can be invited, bulk invitations, and run records.

The selection is one SQL query over indexed columns (migration 011); invitations are inserted
in chunks, one transaction each, with event ids `campaign:<name>:<run id>:<telegram id>`, so a
repeated or resumed run inserts nobody twice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite

from ..records import AudienceQuery, CampaignRun, Selection, Skip
from ..rows import ColumnTypes, from_row
from ..timestamps import from_db, to_db
from .database import Database
from .rows import one_row

CAMPAIGN_EVENT_TYPE = "campaign"


def event_prefix(campaign: str, run_id: int) -> str:
    return f"campaign:{campaign}:{run_id}:"


# A survey of theirs was or will be sent within the recontact window (as the repository's
# invitation creation counts it), or the delivery worker recorded one (min_gap's rule).
_RECENT = (
    # coalesce: a customer never sent a survey has no last_invited_at; NULL would drop them.
    "(coalesce(c.last_invited_at > :recent, 0) OR EXISTS (SELECT 1 FROM invitations r"
    " WHERE r.customer_id = c.telegram_id"
    " AND (r.status IN ('scheduled', 'active', 'completed') OR r.message_id IS NOT NULL)"
    " AND coalesce(r.sent_at, r.send_at) > :recent))"
)


def _language(query: AudienceQuery, table: str, params: dict[str, object]) -> list[str]:
    """The audience's language filter over `<table>.language` (`de` takes `de-AT` too)."""
    if query.language is None:
        return []
    params["lang"] = query.language.lower()
    return [f"(lower({table}.language) = :lang OR lower({table}.language) LIKE :lang || '-%')"]


def _audience_where(query: AudienceQuery, params: dict[str, object]) -> str:
    """The audience's filters over `customers c`, as SQL with named parameters."""
    where = ["1", *_language(query, "c", params)]
    for n, (key, value) in enumerate(query.context):
        where.append(
            "c.telegram_id IN (SELECT i.customer_id FROM invitation_context ic"
            " JOIN invitations i ON i.id = ic.invitation_id"
            f" WHERE ic.key = :ck{n} AND ic.value = :cv{n} COLLATE NOCASE)"
        )
        params[f"ck{n}"], params[f"cv{n}"] = key, value
    if query.since is not None:
        where.append(
            "(EXISTS (SELECT 1 FROM invitations i WHERE i.customer_id = c.telegram_id"
            f" AND i.created_at >= :since AND i.event_type <> '{CAMPAIGN_EVENT_TYPE}')"
            " OR EXISTS (SELECT 1 FROM answers a WHERE a.customer_id = c.telegram_id"
            " AND a.answered_at >= :since))"
        )
        params["since"] = to_db(query.since)
    return " AND ".join(where)


_RUN_TYPES: ColumnTypes = {
    "fire_time": from_db,
    "manual": bool,
    "claimed_at": from_db,
    "finished_at": from_db,
}


def _run(row: aiosqlite.Row) -> CampaignRun:
    return from_row(CampaignRun, row, _RUN_TYPES)


class Campaigns:
    """Campaign runs, their audiences, and the invitations a run makes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- runs ----------------------------------------------------------------------------

    async def claim_run(
        self, campaign: str, fire_time: datetime, now: datetime, *, manual: bool = False
    ) -> CampaignRun:
        """The run of `campaign` at `fire_time`, recorded now unless it already was."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO campaign_runs (campaign, fire_time, manual, claimed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (campaign, fire_time) DO NOTHING",
                (campaign, to_db(fire_time), int(manual), to_db(now)),
            )
            cursor = await db.execute(
                "SELECT * FROM campaign_runs WHERE campaign = ? AND fire_time = ?",
                (campaign, to_db(fire_time)),
            )
            return _run(await one_row(cursor))

    async def unfinished_runs(self, campaign: str | None = None) -> list[CampaignRun]:
        """Runs started but not finished (the process stopped halfway), oldest first."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT * FROM campaign_runs WHERE finished_at IS NULL"
                " AND (? IS NULL OR campaign = ?) ORDER BY id",
                (campaign, campaign),
            )
            return [_run(r) for r in await cursor.fetchall()]

    async def runs(self, campaign: str) -> list[CampaignRun]:
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT * FROM campaign_runs WHERE campaign = ? ORDER BY id", (campaign,)
            )
            return [_run(r) for r in await cursor.fetchall()]

    async def finish_run(self, run_id: int, now: datetime) -> None:
        await self._db.write(
            "UPDATE campaign_runs SET finished_at = coalesce(finished_at, ?) WHERE id = ?",
            (to_db(now), run_id),
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
        params: dict[str, object] = {
            "prefix": event_prefix(campaign, run_id) if run_id is not None else None,
            "recent": to_db(now - recontact) if recontact > timedelta(0) else None,
        }
        where = _audience_where(query, params)
        sql = (
            "SELECT c.telegram_id, CASE"
            " WHEN :prefix IS NOT NULL AND EXISTS (SELECT 1 FROM invitations x"
            "  WHERE x.event_id = :prefix || c.telegram_id) THEN 'already_invited'"
            " WHEN c.opted_out_at IS NOT NULL THEN 'opted_out'"
            " WHEN c.unreachable_at IS NOT NULL THEN 'unreachable'"
            f" WHEN :recent IS NOT NULL AND {_RECENT} THEN 'surveyed_recently'"
            " ELSE 'invite' END AS verdict"
            f" FROM customers c WHERE {where} ORDER BY c.telegram_id"
        )
        invite: list[int] = []
        skipped: Counter[Skip] = Counter()
        async with self._db.reading() as db:
            async with db.execute(sql, params) as cursor:
                async for row in cursor:
                    if row[1] == "invite":
                        invite.append(row[0])
                    else:
                        skipped[Skip(row[1])] += 1
            skipped[Skip.NO_CHAT] += await self._without_chat(db, query)
        return Selection(invite, +skipped)

    async def _without_chat(self, db: aiosqlite.Connection, query: AudienceQuery) -> int:
        """Customers known only by the shop's id (no Telegram chat yet) who match the audience:
        their language, the context of their waiting events, the time of those events."""
        params: dict[str, object] = {}
        where = ["e.telegram_id IS NULL", *_language(query, "e", params)]
        for n, (key, value) in enumerate(query.context):
            where.append(
                "EXISTS (SELECT 1 FROM awaiting_link w, json_each(w.context) j"
                f" WHERE w.external_id = e.external_id AND j.key = :ck{n}"
                f" AND j.value = :cv{n} COLLATE NOCASE)"
            )
            params[f"ck{n}"], params[f"cv{n}"] = key, value
        if query.since is not None:
            where.append(
                "EXISTS (SELECT 1 FROM awaiting_link w WHERE w.external_id = e.external_id"
                " AND w.created_at >= :since)"
            )
            params["since"] = to_db(query.since)
        cursor = await db.execute(
            f"SELECT count(*) FROM external_customers e WHERE {' AND '.join(where)}", params
        )
        (count,) = await one_row(cursor)
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
        so someone who opted out since the selection is not invited.
        """
        prefix = event_prefix(run.campaign, run.id)
        context = json.dumps({"campaign": run.campaign}, ensure_ascii=False)
        recent = to_db(now - recontact) if recontact > timedelta(0) else None
        async with self._db.transaction() as db:
            (before,) = await one_row(await db.execute("SELECT total_changes()"))
            await db.executemany(
                "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
                " created_at, send_at, due_at, status)"
                " SELECT :prefix || c.telegram_id, :type, :survey, c.telegram_id, :context,"
                " :now, :send_at, :send_at, 'scheduled' FROM customers c"
                " WHERE c.telegram_id = :customer AND c.opted_out_at IS NULL"
                " AND c.unreachable_at IS NULL"
                f" AND NOT (:recent IS NOT NULL AND {_RECENT})"
                " ON CONFLICT (event_id) DO NOTHING",
                [
                    {
                        "prefix": prefix,
                        "type": CAMPAIGN_EVENT_TYPE,
                        "survey": survey,
                        "context": context,
                        "now": to_db(now),
                        "send_at": to_db(send_at),
                        "customer": customer,
                        "recent": recent,
                    }
                    for customer, send_at in customers
                ],
            )
            (after,) = await one_row(await db.execute("SELECT total_changes()"))
            inserted = int(after) - int(before)
            # The campaign's name as context, so managers can filter: /nps campaign=<name>.
            await db.execute(
                "INSERT INTO invitation_context (invitation_id, key, value)"
                " SELECT i.id, 'campaign', ? FROM json_each(?) j"
                " JOIN invitations i ON i.event_id = ? || j.value WHERE true"
                " ON CONFLICT DO NOTHING",
                (run.campaign, json.dumps([c for c, _ in customers]), prefix),
            )
            await db.execute(
                "UPDATE campaign_runs SET invited = invited + ? WHERE id = ?", (inserted, run.id)
            )
        return inserted
