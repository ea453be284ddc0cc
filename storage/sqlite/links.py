"""Customers the shop knows by its own id: who they are, deep-link tokens, and redeeming one.

Tokens arrive here already hashed (bot/intake/links.py); the token itself is never stored.
Events that wait for a link are stored by intake (`invitations.py`) and released here.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from survey_flows.pacing import Recontact

from ..records import ExternalCustomer, LinkOutcome, Redeemed
from ..timestamps import from_db, to_db
from .database import Database
from .linking import release_awaiting
from .rows import fetch_first


class Links:
    """The shop's ids of customers and the deep links that tie them to a chat."""

    def __init__(self, database: Database, recontact: Recontact) -> None:
        self._db, self._recontact = database, recontact

    async def external_customer(self, external_id: str) -> ExternalCustomer | None:
        async with self._db.reading() as db:
            row = await fetch_first(
                db,
                "SELECT external_id, telegram_id, linked_at, (SELECT count(*) FROM awaiting_link"
                " a WHERE a.external_id = e.external_id) AS waiting"
                " FROM external_customers e WHERE external_id = ?",
                (external_id,),
            )
            if row is None:
                return None
            return ExternalCustomer(
                row["external_id"], row["telegram_id"], from_db(row["linked_at"]), row["waiting"]
            )

    async def add_link_token(
        self, external_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Store a new token's hash for a known customer; False when the shop's id is unknown."""
        changed = await self._db.write(
            "INSERT INTO link_tokens (token_hash, external_id, created_at, expires_at)"
            " SELECT ?, external_id, ?, ? FROM external_customers WHERE external_id = ?",
            (token_hash, to_db(now), to_db(expires_at), external_id),
        )
        return changed == 1

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
        async with self._db.transaction() as db:
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
            released = await release_awaiting(db, external_id, telegram_id, now, self._recontact)
            return Redeemed(LinkOutcome.LINKED, released, await _language(db, telegram_id))


async def _language(db: aiosqlite.Connection, telegram_id: int) -> str | None:
    cursor = await db.execute(
        "SELECT language FROM customers WHERE telegram_id = ?", (telegram_id,)
    )
    row = await cursor.fetchone()
    return row["language"] if row else None
