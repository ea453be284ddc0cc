"""Customers the shop knows by its own id, deep-link tokens, and redeeming one, as in
storage/sqlite/links.py (tokens arrive hashed; events waiting for a link are released here).

What differs: redeeming reads the token and then decides, so it locks the token's row first
(`FOR UPDATE`): two users opening one link at once on two processes get one LINKED and one
INVALID, never a link that the second silently took over.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from survey_flows.pacing import Recontact

from ..records import ExternalCustomer, LinkOutcome, Redeemed
from ..timestamps import from_db, to_db
from .database import Database
from .linking import release_awaiting


class Links:
    """The shop's ids of customers and the deep links that tie them to a chat."""

    def __init__(self, database: Database, recontact: Recontact) -> None:
        self._db, self._recontact = database, recontact

    async def external_customer(self, external_id: str) -> ExternalCustomer | None:
        async with self._db.reading() as conn:
            row = await conn.fetchrow(
                "SELECT external_id, telegram_id, linked_at, (SELECT count(*) FROM awaiting_link"
                " a WHERE a.external_id = e.external_id) AS waiting"
                " FROM external_customers e WHERE external_id = $1",
                external_id,
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
            " SELECT $1::text, external_id, $2::text, $3::text FROM external_customers"
            " WHERE external_id = $4",
            token_hash,
            to_db(now),
            to_db(expires_at),
            external_id,
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
        """As in SQLite: in one transaction the token is used, the shop's name and language are
        copied into the customer, and every event that waited becomes an invitation due now."""
        async with self._db.transaction() as conn:
            token = await conn.fetchrow(
                "SELECT external_id, expires_at, used_by FROM link_tokens WHERE token_hash = $1"
                " FOR UPDATE",
                token_hash,
            )
            if token is None:
                return Redeemed(LinkOutcome.INVALID)
            if token["used_by"] is not None:
                if token["used_by"] != telegram_id:
                    return Redeemed(LinkOutcome.INVALID)
                return Redeemed(LinkOutcome.ALREADY, 0, await _language(conn, telegram_id))
            if from_db(token["expires_at"]) <= now:
                return Redeemed(LinkOutcome.INVALID)
            external_id = token["external_id"]
            await conn.execute(
                "UPDATE link_tokens SET used_by = $1, used_at = $2 WHERE token_hash = $3",
                telegram_id,
                to_db(now),
                token_hash,
            )
            # The shop's customer row locked here orders this link against intake's
            # (linking.py) before anything waiting is released.
            await conn.execute(
                "UPDATE external_customers SET telegram_id = $1, linked_at = $2"
                " WHERE external_id = $3",
                telegram_id,
                to_db(now),
                external_id,
            )
            # What the shop said wins; Telegram's name fills in where the shop gave none.
            await conn.execute(
                "INSERT INTO customers (telegram_id, name, username, language, created_at)"
                " SELECT $1::bigint, coalesce(e.name, $2::text), coalesce($3::text, e.username),"
                " coalesce(e.language, $4::text), $5::text"
                " FROM external_customers e WHERE e.external_id = $6"
                " ON CONFLICT (telegram_id) DO UPDATE SET"
                " name = coalesce((SELECT name FROM external_customers WHERE external_id = $6),"
                "  customers.name, excluded.name),"
                " username = coalesce(excluded.username, customers.username),"
                " language = coalesce((SELECT language FROM external_customers"
                "  WHERE external_id = $6), customers.language, excluded.language),"
                " unreachable_at = NULL",
                telegram_id,
                name,
                username,
                language,
                to_db(now),
                external_id,
            )
            released = await release_awaiting(conn, external_id, telegram_id, now, self._recontact)
            return Redeemed(LinkOutcome.LINKED, released, await _language(conn, telegram_id))


async def _language(conn: asyncpg.Connection, telegram_id: int) -> str | None:
    language: str | None = await conn.fetchval(
        "SELECT language FROM customers WHERE telegram_id = $1", telegram_id
    )
    return language
