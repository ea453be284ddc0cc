"""Making an invitation inside an open transaction: replays, the customer row, recontact.

Every path that makes one (the API, a released deep link, imports of events) comes through
`insert_invitation`, so none can survey a customer again within `[throttle] recontact`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import aiosqlite

from survey_flows.errors import EventConflict
from survey_flows.models import Invitation
from survey_flows.pacing import Recontact

from ..records import NewEvent
from ..row_records import INVITATION_COLUMNS, invitation_of
from ..states import Prompt
from ..timestamps import to_db
from .invitation_rows import invitation_by_id
from .rows import fetch_first, inserted_id


async def replayed_invitation(db: aiosqlite.Connection, event: NewEvent) -> Invitation | None:
    """The invitation this event_id made before, if its body's digest is the same (a retry);
    EventConflict if not."""
    row = await fetch_first(
        db,
        f"SELECT {INVITATION_COLUMNS}, fingerprint FROM invitations WHERE event_id = ?",
        (event.event_id,),
    )
    if row is None:
        return None
    existing = invitation_of(row)
    if row["fingerprint"] != event.fingerprint:
        raise EventConflict(event.event_id, existing.id)
    return existing


async def insert_invitation(
    db: aiosqlite.Connection,
    event: NewEvent,
    customer_id: int,
    now: datetime,
    recontact: Recontact,
) -> Invitation:
    """The customer row (the event's name and language win) and the invitation with its
    context rows; suppressed (never sent, kept for statistics) when it breaks `recontact`."""
    await db.execute(
        "INSERT INTO customers (telegram_id, name, username, language, timezone, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
        " name = coalesce(excluded.name, name),"
        " username = coalesce(username, excluded.username),"
        " language = coalesce(excluded.language, language),"
        " timezone = coalesce(excluded.timezone, timezone)",
        (
            customer_id,
            event.customer_name,
            event.customer_username,
            event.customer_language,
            event.customer_timezone,
            to_db(now),
        ),
    )
    suppressed = await recontact_blocks(db, customer_id, event.survey, event.send_at, recontact)
    cursor = await db.execute(
        "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
        " created_at, send_at, due_at, status, fingerprint, note, prompt_sent,"
        " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
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
        ),
    )
    invitation_id = inserted_id(cursor)
    await db.executemany(
        "INSERT INTO invitation_context (invitation_id, key, value) VALUES (?, ?, ?)",
        [(invitation_id, k, v) for k, v in event.context.items()],
    )
    created = await invitation_by_id(db, invitation_id)
    if created is None:
        raise LookupError(f"invitation {invitation_id} vanished inside its own INSERT")
    return created


async def recontact_blocks(
    db: aiosqlite.Connection, customer_id: int, survey: str, send_at: datetime, rule: Recontact
) -> bool:
    """Whether surveying `customer_id` with `survey` at `send_at` breaks `rule`: another
    survey of theirs (sharing a metric, when per metric) was or will be sent within the
    window before or after. Suppressed, cancelled and never-delivered ones do not count."""
    if rule.window <= timedelta(0):
        return False
    counted = rule.counted_surveys(survey)
    row = await fetch_first(
        db,
        "SELECT 1 FROM invitations WHERE customer_id = ?"
        " AND (status IN ('scheduled', 'active', 'completed') OR message_id IS NOT NULL)"
        " AND coalesce(sent_at, send_at) > ? AND coalesce(sent_at, send_at) < ?"
        " AND (? IS NULL OR survey IN (SELECT value FROM json_each(?))) LIMIT 1",
        (
            customer_id,
            to_db(send_at - rule.window),
            to_db(send_at + rule.window),
            None if counted is None else 1,
            json.dumps(sorted(counted or ())),
        ),
    )
    return row is not None
