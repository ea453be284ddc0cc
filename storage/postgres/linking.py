"""Linking the shop's id of a customer to a Telegram chat inside an open transaction, as in
storage/sqlite/linking.py (intake and deep links both come here; what waited for the link
becomes invitations in the same transaction).

Both paths write the shop's customer row (external_customers) first, so its row lock orders
them between processes; the waiting events are taken with `DELETE ... RETURNING`, so an
event is released by the one transaction that deleted it, never twice.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from survey_flows.pacing import Recontact

from ..records import AwaitingLink, NewEvent
from ..timestamps import from_db, to_db
from .creation import insert_invitation


async def link_chat(
    conn: asyncpg.Connection,
    external_id: str,
    telegram_id: int,
    now: datetime,
    event: NewEvent,
    recontact: Recontact,
) -> int:
    """An event gave both ids, which links them (the newest link of the shop's id wins); what
    waited for the link is released. Returns how many."""
    await conn.execute(
        "INSERT INTO external_customers AS e (external_id, telegram_id, name, username,"
        " language, created_at, linked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (external_id) DO UPDATE SET telegram_id = excluded.telegram_id,"
        " linked_at = CASE WHEN e.telegram_id IS NOT DISTINCT FROM excluded.telegram_id"
        "  THEN e.linked_at ELSE excluded.linked_at END,"
        " name = coalesce(excluded.name, e.name),"
        " username = coalesce(excluded.username, e.username),"
        " language = coalesce(excluded.language, e.language)",
        external_id,
        telegram_id,
        event.customer_name,
        event.customer_username,
        event.customer_language,
        to_db(now),
        to_db(now),
    )
    return await release_awaiting(conn, external_id, telegram_id, now, recontact)


async def release_awaiting(
    conn: asyncpg.Connection,
    external_id: str,
    telegram_id: int,
    now: datetime,
    recontact: Recontact,
) -> int:
    """Every event awaiting this customer's link becomes an invitation due now."""
    rows = await conn.fetch(
        "DELETE FROM awaiting_link WHERE external_id = $1"
        " RETURNING id, event_id, event_type, survey, context, fingerprint, created_at",
        external_id,
    )
    for row in sorted(rows, key=lambda r: r["id"]):
        event = NewEvent(
            event_id=row["event_id"],
            event_type=row["event_type"],
            survey=row["survey"],
            customer_id=telegram_id,
            customer_name=None,
            customer_language=None,
            context=json.loads(row["context"]),
            # Due when the event came, as in SQLite: the delivery worker's stale rule then
            # keeps an old link opened months later from sending forgotten surveys.
            send_at=min(now, from_db(row["created_at"]) or now),
            fingerprint=row["fingerprint"],
            external_id=external_id,
        )
        await insert_invitation(conn, event, telegram_id, now, recontact)
    return len(rows)


async def awaiting_event(conn: asyncpg.Connection, event_id: str) -> asyncpg.Record | None:
    """The row of an event stored to wait for its customer's link, if any."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT event_id, external_id, fingerprint, created_at FROM awaiting_link"
        " WHERE event_id = $1",
        event_id,
    )
    return row


def awaiting_of(row: asyncpg.Record) -> AwaitingLink:
    return AwaitingLink(row["event_id"], row["external_id"], from_db(row["created_at"]))
