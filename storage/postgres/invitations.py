"""Intake on PostgreSQL, as in storage/sqlite/invitations.py: an event's invitation stored
once, for a Telegram chat or for the shop's id alone.

What differs: each creation first takes its event_id's lock (creation.lock_event), and looks
for a waiting row before an invitation: a concurrent link turns the one into the other in one
commit, so in this order a later statement's snapshot cannot miss both.
"""

from __future__ import annotations

import json
from datetime import datetime

from survey_flows.errors import EventConflict
from survey_flows.models import Invitation
from survey_flows.pacing import Recontact

from ..records import AwaitingLink, NewEvent
from ..timestamps import to_db
from .creation import insert_invitation, lock_event, replayed_invitation
from .database import Database
from .invitation_rows import invitation_by_id
from .linking import awaiting_event, awaiting_of, link_chat


class Invitations:
    """Creating invitations (every creation obeys `recontact`) and reading one back."""

    def __init__(self, database: Database, recontact: Recontact) -> None:
        self._db, self._recontact = database, recontact

    async def create_invitation(self, event: NewEvent, now: datetime) -> tuple[Invitation, bool]:
        """As in SQLite: stored once, a replay returns the stored one, another body under the
        same event_id (also one awaiting a link) raises EventConflict, a shop's id in the event
        links it, and breaking `recontact` stores it suppressed."""
        if event.customer_id is None:
            raise ValueError("create_invitation needs a telegram id; see create_for_external")
        async with self._db.transaction() as conn:
            await lock_event(conn, event.event_id)
            if await awaiting_event(conn, event.event_id) is not None:
                raise EventConflict(event.event_id, None)
            existing = await replayed_invitation(conn, event)
            if existing is not None:
                return existing, False
            if event.external_id is not None:
                await link_chat(
                    conn, event.external_id, event.customer_id, now, event, self._recontact
                )
            created = await insert_invitation(conn, event, event.customer_id, now, self._recontact)
            return created, True

    async def create_for_external(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation | AwaitingLink, bool]:
        """An event that names only the shop's id: an invitation for the linked chat, else a row
        awaiting the link. Replays and conflicts behave as in create_invitation, across both."""
        external_id = event.external_id
        if external_id is None:
            raise ValueError("create_for_external needs the shop's id")
        async with self._db.transaction() as conn:
            await lock_event(conn, event.event_id)
            waiting = await awaiting_event(conn, event.event_id)
            if waiting is not None:
                if waiting["fingerprint"] != event.fingerprint:
                    raise EventConflict(event.event_id, None)
                return awaiting_of(waiting), False
            existing = await replayed_invitation(conn, event)
            if existing is not None:
                return existing, False
            # The upsert locks the shop's customer row: a link being redeemed meanwhile
            # either committed before (its chat is read below) or waits for this commit
            # (and releases the row stored here).
            telegram_id = await conn.fetchval(
                "INSERT INTO external_customers AS e (external_id, name, username, language,"
                " created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (external_id) DO UPDATE"
                " SET name = coalesce(excluded.name, e.name),"
                " username = coalesce(excluded.username, e.username),"
                " language = coalesce(excluded.language, e.language)"
                " RETURNING telegram_id",
                external_id,
                event.customer_name,
                event.customer_username,
                event.customer_language,
                to_db(now),
            )
            if telegram_id is not None:
                created = await insert_invitation(conn, event, telegram_id, now, self._recontact)
                return created, True
            await conn.execute(
                "INSERT INTO awaiting_link (event_id, external_id, event_type, survey, context,"
                " fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                event.event_id,
                external_id,
                event.event_type,
                event.survey,
                json.dumps(event.context, ensure_ascii=False, sort_keys=True),
                event.fingerprint,
                to_db(now),
            )
            return AwaitingLink(event.event_id, external_id, now), True

    async def get_invitation(self, invitation_id: int) -> Invitation | None:
        async with self._db.reading() as conn:
            return await invitation_by_id(conn, invitation_id)
