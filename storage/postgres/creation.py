"""Making an invitation inside an open transaction, as in storage/sqlite/creation.py: replays,
the customer row, recontact; every creation path comes through `insert_invitation`.

With several processes on one database, two things SQLite's single writer gave for free are
taken as locks here:
- one event_id at a time: `lock_event` (a transaction-level advisory lock) is taken before the
  replay checks, so the same event posted twice at once on two processes makes one invitation
  and the second call sees it as a replay (or a conflict), never a UniqueViolation;
- one customer at a time: the customer upsert locks the customer's row until commit, so a
  second creation for that customer waits, and its recontact check (a statement after the
  lock, hence a fresh READ COMMITTED snapshot) sees the first one's invitation.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import asyncpg

from survey_flows.errors import EventConflict
from survey_flows.models import Invitation
from survey_flows.pacing import Recontact

from ..records import NewEvent
from ..row_records import INVITATION_COLUMNS, invitation_of
from ..states import Prompt
from ..timestamps import to_db
from .invitation_rows import invitation_by_id

# The first key of the two-key advisory locks on event ids: a key space of its own, apart from
# the one-key locks of leadership and polling (cluster.py).
_EVENT_LOCKS = 0x5342_0001


async def lock_event(conn: asyncpg.Connection, event_id: str) -> None:
    """Wait for, then hold until the transaction ends, the right to store `event_id`.

    Two ids hashing alike only wait for each other; nothing is wrong, just serialised."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _EVENT_LOCKS, event_id)


async def replayed_invitation(conn: asyncpg.Connection, event: NewEvent) -> Invitation | None:
    """The invitation this event_id made before, if its body's digest is the same (a retry);
    EventConflict if not."""
    row = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS}, fingerprint FROM invitations WHERE event_id = $1",
        event.event_id,
    )
    if row is None:
        return None
    existing = invitation_of(row)
    if row["fingerprint"] != event.fingerprint:
        raise EventConflict(event.event_id, existing.id)
    return existing


async def insert_invitation(
    conn: asyncpg.Connection,
    event: NewEvent,
    customer_id: int,
    now: datetime,
    recontact: Recontact,
) -> Invitation:
    """The customer row (the event's name and language win; its row lock orders this
    customer's creations) and the invitation with its context rows; suppressed (never sent,
    kept for statistics) when it breaks `recontact`."""
    await conn.execute(
        "INSERT INTO customers (telegram_id, name, username, language, timezone, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (telegram_id) DO UPDATE SET"
        " name = coalesce(excluded.name, customers.name),"
        " username = coalesce(customers.username, excluded.username),"
        " language = coalesce(excluded.language, customers.language),"
        " timezone = coalesce(excluded.timezone, customers.timezone)",
        customer_id,
        event.customer_name,
        event.customer_username,
        event.customer_language,
        event.customer_timezone,
        to_db(now),
    )
    suppressed = await recontact_blocks(conn, customer_id, event.survey, event.send_at, recontact)
    invitation_id = await conn.fetchval(
        "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
        " created_at, send_at, due_at, status, fingerprint, note, prompt_sent,"
        " finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " RETURNING id",
        event.event_id,
        event.event_type,
        event.survey,
        customer_id,
        json.dumps(event.context, ensure_ascii=False, sort_keys=True),
        to_db(now),
        to_db(event.send_at),
        to_db(event.send_at),
        "suppressed" if suppressed else "scheduled",
        event.fingerprint,
        "recontact" if suppressed else None,
        int(Prompt.SHOWN if suppressed else Prompt.DUE),
        to_db(now) if suppressed else None,
    )
    if event.context:
        await conn.executemany(
            "INSERT INTO invitation_context (invitation_id, key, value) VALUES ($1, $2, $3)",
            [(invitation_id, k, v) for k, v in event.context.items()],
        )
    created = await invitation_by_id(conn, invitation_id)
    if created is None:
        raise LookupError(f"invitation {invitation_id} vanished inside its own INSERT")
    return created


async def recontact_blocks(
    conn: asyncpg.Connection, customer_id: int, survey: str, send_at: datetime, rule: Recontact
) -> bool:
    """As in SQLite: whether surveying `customer_id` with `survey` at `send_at` breaks `rule`
    (another survey of theirs, sharing a metric when per metric, sent or due within the window
    either side; suppressed, cancelled and never-delivered ones do not count)."""
    if rule.window <= timedelta(0):
        return False
    counted = rule.counted_surveys(survey)
    found = await conn.fetchval(
        "SELECT 1 FROM invitations WHERE customer_id = $1"
        " AND (status IN ('scheduled', 'active', 'completed') OR message_id IS NOT NULL)"
        " AND coalesce(sent_at, send_at) > $2 AND coalesce(sent_at, send_at) < $3"
        " AND ($4::text[] IS NULL OR survey = ANY($4::text[])) LIMIT 1",
        customer_id,
        to_db(send_at - rule.window),
        to_db(send_at + rule.window),
        None if counted is None else sorted(counted),
    )
    return found is not None
