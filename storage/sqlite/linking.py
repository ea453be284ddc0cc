"""Linking the shop's id of a customer to a Telegram chat, inside an open transaction.

Shared by intake (an event that names both ids links them) and deep links (a customer opened
one): either way, the events that waited for the link become invitations in the same
transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from survey_flows.pacing import Recontact

from ..records import AwaitingLink, NewEvent
from ..timestamps import from_db, to_db
from .creation import insert_invitation
from .rows import fetch_all, fetch_first


async def link_chat(
    db: aiosqlite.Connection,
    external_id: str,
    telegram_id: int,
    now: datetime,
    event: NewEvent,
    recontact: Recontact,
) -> int:
    """An event gave both ids, which links them (the newest link of the shop's id wins); what
    waited for the link is released. Returns how many."""
    await db.execute(
        "INSERT INTO external_customers (external_id, telegram_id, name, username, language,"
        " created_at, linked_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (external_id) DO UPDATE SET telegram_id = excluded.telegram_id,"
        " linked_at = CASE WHEN telegram_id IS excluded.telegram_id THEN linked_at"
        "  ELSE excluded.linked_at END,"
        " name = coalesce(excluded.name, name),"
        " username = coalesce(excluded.username, username),"
        " language = coalesce(excluded.language, language)",
        (
            external_id,
            telegram_id,
            event.customer_name,
            event.customer_username,
            event.customer_language,
            to_db(now),
            to_db(now),
        ),
    )
    return await release_awaiting(db, external_id, telegram_id, now, recontact)


async def release_awaiting(
    db: aiosqlite.Connection,
    external_id: str,
    telegram_id: int,
    now: datetime,
    recontact: Recontact,
) -> int:
    """Every event awaiting this customer's link becomes an invitation due now."""
    rows = await fetch_all(
        db, "SELECT * FROM awaiting_link WHERE external_id = ? ORDER BY id", (external_id,)
    )
    for row in rows:
        await db.execute("DELETE FROM awaiting_link WHERE id = ?", (row["id"],))
        event = NewEvent(
            event_id=row["event_id"],
            event_type=row["event_type"],
            survey=row["survey"],
            customer_id=telegram_id,
            customer_name=None,
            customer_language=None,
            context=json.loads(row["context"]),
            # Due when the event came: one that waited longer than [delivery] expire_after
            # is not sent (the delivery worker's stale rule), so an old link opened months
            # later does not bring a pile of surveys about forgotten orders.
            send_at=min(now, from_db(row["created_at"]) or now),
            fingerprint=row["fingerprint"],
            external_id=external_id,
        )
        await insert_invitation(db, event, telegram_id, now, recontact)
    return len(rows)


async def awaiting_event(db: aiosqlite.Connection, event_id: str) -> aiosqlite.Row | None:
    """The row of an event stored to wait for its customer's link, if any."""
    return await fetch_first(
        db,
        "SELECT event_id, external_id, fingerprint, created_at FROM awaiting_link"
        " WHERE event_id = ?",
        (event_id,),
    )


def awaiting_of(row: aiosqlite.Row) -> AwaitingLink:
    return AwaitingLink(row["event_id"], row["external_id"], from_db(row["created_at"]))
