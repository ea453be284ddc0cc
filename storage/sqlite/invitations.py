"""Intake: an event's invitation stored once, for a Telegram chat or for the shop's id alone."""

from __future__ import annotations

import json
from datetime import datetime

from survey_flows.errors import EventConflict
from survey_flows.models import Invitation
from survey_flows.pacing import Recontact

from ..records import AwaitingLink, NewEvent
from ..timestamps import to_db
from .creation import insert_invitation, replayed_invitation
from .database import Database
from .invitation_rows import invitation_by_id
from .linking import awaiting_event, awaiting_of, link_chat
from .rows import one_row


class Invitations:
    """Creating invitations (every creation obeys `recontact`) and reading one back."""

    def __init__(self, database: Database, recontact: Recontact) -> None:
        self._db, self._recontact = database, recontact

    async def create_invitation(self, event: NewEvent, now: datetime) -> tuple[Invitation, bool]:
        """Store an event's invitation once; the same event_id again returns the stored one.

        The same event_id with another body (another digest) raises EventConflict, also when
        it waits for a link. An event that
        names the shop's id too links that id to this chat (and releases what waited for it). A
        new event that would survey the customer again within `recontact` is stored as
        suppressed (never sent, kept for statistics).
        """
        if event.customer_id is None:
            raise ValueError("create_invitation needs a telegram id; see create_for_external")
        async with self._db.transaction() as db:
            existing = await replayed_invitation(db, event)
            if existing is not None:
                return existing, False
            if await awaiting_event(db, event.event_id) is not None:
                raise EventConflict(event.event_id, None)
            if event.external_id is not None:
                await link_chat(
                    db, event.external_id, event.customer_id, now, event, self._recontact
                )
            created = await insert_invitation(db, event, event.customer_id, now, self._recontact)
            return created, True

    async def create_for_external(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation | AwaitingLink, bool]:
        """An event that names only the shop's id: an invitation for the linked chat, else a row
        awaiting the link. Replays and conflicts behave as in create_invitation, across both."""
        external_id = event.external_id
        if external_id is None:
            raise ValueError("create_for_external needs the shop's id")
        async with self._db.transaction() as db:
            existing = await replayed_invitation(db, event)
            if existing is not None:
                return existing, False
            waiting = await awaiting_event(db, event.event_id)
            if waiting is not None:
                if waiting["fingerprint"] != event.fingerprint:
                    raise EventConflict(event.event_id, None)
                return awaiting_of(waiting), False
            await db.execute(
                "INSERT INTO external_customers (external_id, name, username, language,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (external_id) DO UPDATE SET"
                " name = coalesce(excluded.name, name),"
                " username = coalesce(excluded.username, username),"
                " language = coalesce(excluded.language, language)",
                (
                    external_id,
                    event.customer_name,
                    event.customer_username,
                    event.customer_language,
                    to_db(now),
                ),
            )
            cursor = await db.execute(
                "SELECT telegram_id FROM external_customers WHERE external_id = ?", (external_id,)
            )
            (telegram_id,) = await one_row(cursor)
            if telegram_id is not None:
                created = await insert_invitation(db, event, telegram_id, now, self._recontact)
                return created, True
            await db.execute(
                "INSERT INTO awaiting_link (event_id, external_id, event_type, survey, context,"
                " fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.event_id,
                    external_id,
                    event.event_type,
                    event.survey,
                    json.dumps(event.context, ensure_ascii=False, sort_keys=True),
                    event.fingerprint,
                    to_db(now),
                ),
            )
            return AwaitingLink(event.event_id, external_id, now), True

    async def get_invitation(self, invitation_id: int) -> Invitation | None:
        async with self._db.reading() as db:
            return await invitation_by_id(db, invitation_id)
