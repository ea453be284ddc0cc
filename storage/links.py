"""Customers the shop knows by its own id: events waiting for a link, deep-link tokens, linking.

Tokens arrive here already hashed (bot/intake/links.py); the token itself is never stored.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from survey_flows.errors import EventConflict
from survey_flows.models import Invitation

from .base import AwaitingLink, ExternalCustomer, LinkOutcome, NewEvent, Redeemed
from .rows import one_row
from .timestamps import from_db, to_db

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager


class LinkStorage:
    if TYPE_CHECKING:

        def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        def reading(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        async def _replayed_invitation(
            self, db: aiosqlite.Connection, event: NewEvent
        ) -> Invitation | None: ...
        async def _insert_invitation(
            self, db: aiosqlite.Connection, event: NewEvent, customer_id: int, now: datetime
        ) -> Invitation: ...

    async def create_for_external(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation | AwaitingLink, bool]:
        """An event that names only the shop's id: an invitation for the linked chat, else a row
        awaiting the link. Replays and conflicts behave as in create_invitation, across both."""
        external_id = event.external_id
        if external_id is None:
            raise ValueError("create_for_external needs the shop's id")
        async with self.transaction() as db:
            existing = await self._replayed_invitation(db, event)
            if existing is not None:
                return existing, False
            waiting = await self._awaiting_event(db, event.event_id)
            if waiting is not None:
                if waiting["fingerprint"] != event.fingerprint:
                    raise EventConflict(event.event_id, None)
                return _awaiting(waiting), False
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
                return await self._insert_invitation(db, event, telegram_id, now), True
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

    async def external_customer(self, external_id: str) -> ExternalCustomer | None:
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT external_id, telegram_id, linked_at, (SELECT count(*) FROM awaiting_link"
                " a WHERE a.external_id = e.external_id) AS waiting"
                " FROM external_customers e WHERE external_id = ?",
                (external_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            return ExternalCustomer(
                row["external_id"], row["telegram_id"], from_db(row["linked_at"]), row["waiting"]
            )

    async def add_link_token(
        self, external_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Store a new token's hash for a known customer; False when the shop's id is unknown."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO link_tokens (token_hash, external_id, created_at, expires_at)"
                " SELECT ?, external_id, ?, ? FROM external_customers WHERE external_id = ?",
                (token_hash, to_db(now), to_db(expires_at), external_id),
            )
            return cursor.rowcount == 1

    async def redeem_link_token(
        self,
        token_hash: str,
        telegram_id: int,
        now: datetime,
        *,
        name: str | None,
        username: str | None,
        language: str | None,
    ) -> Redeemed:
        """Link the chat of the user who opened a link to the link's customer, in one
        transaction: the token is used, the shop's name and language are copied into the
        customer, and every event that waited becomes an invitation due now."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "SELECT external_id, expires_at, used_by FROM link_tokens WHERE token_hash = ?",
                (token_hash,),
            )
            token = await cursor.fetchone()
            if token is None:
                return Redeemed(LinkOutcome.INVALID)
            if token["used_by"] is not None:
                if token["used_by"] != telegram_id:
                    return Redeemed(LinkOutcome.INVALID)
                return Redeemed(LinkOutcome.ALREADY, 0, await _language(db, telegram_id))
            if from_db(token["expires_at"]) <= now:
                return Redeemed(LinkOutcome.INVALID)
            external_id = token["external_id"]
            await db.execute(
                "UPDATE link_tokens SET used_by = ?, used_at = ? WHERE token_hash = ?",
                (telegram_id, to_db(now), token_hash),
            )
            await db.execute(
                "UPDATE external_customers SET telegram_id = ?, linked_at = ?"
                " WHERE external_id = ?",
                (telegram_id, to_db(now), external_id),
            )
            # What the shop said wins; Telegram's name fills in where the shop gave none.
            await db.execute(
                "INSERT INTO customers (telegram_id, name, username, language, created_at)"
                " SELECT ?, coalesce(e.name, ?), coalesce(?, e.username),"
                " coalesce(e.language, ?), ? FROM external_customers e WHERE e.external_id = ?"
                " ON CONFLICT (telegram_id) DO UPDATE SET"
                " name = coalesce((SELECT name FROM external_customers WHERE external_id = ?),"
                "  customers.name, excluded.name),"
                " username = coalesce(excluded.username, customers.username),"
                " language = coalesce((SELECT language FROM external_customers"
                "  WHERE external_id = ?), customers.language, excluded.language),"
                " unreachable_at = NULL",
                (
                    telegram_id,
                    name,
                    username,
                    language,
                    to_db(now),
                    external_id,
                    external_id,
                    external_id,
                ),
            )
            released = await self._release_awaiting(db, external_id, telegram_id, now)
            return Redeemed(LinkOutcome.LINKED, released, await _language(db, telegram_id))

    async def _link_chat(
        self,
        db: aiosqlite.Connection,
        external_id: str,
        telegram_id: int,
        now: datetime,
        event: NewEvent,
    ) -> int:
        """Inside a transaction: an event gave both ids, which links them (the newest link of
        the shop's id wins); what waited for the link is released. Returns how many."""
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
        return await self._release_awaiting(db, external_id, telegram_id, now)

    async def _release_awaiting(
        self, db: aiosqlite.Connection, external_id: str, telegram_id: int, now: datetime
    ) -> int:
        """Every event awaiting this customer's link becomes an invitation due now."""
        cursor = await db.execute(
            "SELECT * FROM awaiting_link WHERE external_id = ? ORDER BY id", (external_id,)
        )
        rows = list(await cursor.fetchall())
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
            await self._insert_invitation(db, event, telegram_id, now)
        return len(rows)

    async def _awaiting_event(
        self, db: aiosqlite.Connection, event_id: str
    ) -> aiosqlite.Row | None:
        cursor = await db.execute(
            "SELECT event_id, external_id, fingerprint, created_at FROM awaiting_link"
            " WHERE event_id = ?",
            (event_id,),
        )
        return await cursor.fetchone()


def _awaiting(row: aiosqlite.Row) -> AwaitingLink:
    return AwaitingLink(row["event_id"], row["external_id"], from_db(row["created_at"]))


async def _language(db: aiosqlite.Connection, telegram_id: int) -> str | None:
    cursor = await db.execute(
        "SELECT language FROM customers WHERE telegram_id = ?", (telegram_id,)
    )
    row = await cursor.fetchone()
    return row["language"] if row else None
