"""Customers on PostgreSQL, as in storage/sqlite/customers.py.

What differs with several processes: opting out and erasing first lock the customer's
invitations, then the customer's row (erasure.py's `lock_customer`): an answer another process
is recording holds its invitation's row, and a creation of an invitation the customer's row
(creation.py), so either is applied wholly before the opt-out or erasure, or wholly after it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

import asyncpg

from survey_flows.models import Customer

from ..records import Erased
from ..rows import ColumnTypes, from_row
from ..states import Prompt
from ..timestamps import from_db, to_db
from .database import Database, changed
from .erasure import erase, lock_customer

_CUSTOMER_TYPES: ColumnTypes = {"opted_out_at": from_db, "unreachable_at": from_db}


def _customer(row: asyncpg.Record) -> Customer:
    return from_row(Customer, row, _CUSTOMER_TYPES)


class Customers:
    """The people surveyed, by Telegram id."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_customer(self, telegram_id: int) -> Customer | None:
        async with self._db.reading() as conn:
            row = await conn.fetchrow("SELECT * FROM customers WHERE telegram_id = $1", telegram_id)
        return _customer(row) if row else None

    async def get_customers(self, telegram_ids: Collection[int]) -> dict[int, Customer]:
        """Many customers in one read (the delivery worker's batch), by Telegram id."""
        ids = sorted(set(telegram_ids))
        if not ids:
            return {}
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM customers WHERE telegram_id = ANY($1::bigint[])", ids
            )
        return {row["telegram_id"]: _customer(row) for row in rows}

    async def touch_customer(
        self,
        telegram_id: int,
        now: datetime,
        *,
        name: str | None,
        username: str | None,
        language: str | None,
    ) -> Customer:
        """As in SQLite: create or refresh from what Telegram tells; the shop's name is kept."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO customers (telegram_id, name, username, language, created_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (telegram_id) DO UPDATE SET"
                " name = coalesce(customers.name, excluded.name),"
                " username = coalesce(excluded.username, customers.username),"
                " language = coalesce(customers.language, excluded.language),"
                " unreachable_at = NULL RETURNING *",
                telegram_id,
                name,
                username,
                language,
                to_db(now),
            )
        assert row is not None  # an upsert's RETURNING always has its row
        return _customer(row)

    async def remember_profile(
        self,
        telegram_id: int,
        *,
        name: str | None,
        username: str | None,
        stored: Customer | Literal[False] | None = False,
    ) -> bool:
        """As in SQLite. The UPDATE re-checks erased_at and opted_out_at itself, so a profile
        read before another process erased the customer writes nothing back."""
        if stored is False:
            stored = await self.get_customer(telegram_id)
        if stored is None or stored.opted_out_at is not None:
            return False
        new_name = stored.name is None and name is not None
        new_username = username is not None and username != stored.username
        if not (new_name or new_username):
            return False
        written = await self._db.write(
            "UPDATE customers SET name = coalesce(name, $1), username = coalesce($2, username)"
            " WHERE telegram_id = $3 AND erased_at IS NULL AND opted_out_at IS NULL",
            name,
            username,
            telegram_id,
        )
        return written == 1

    async def last_invited_at(self, customer_id: int) -> datetime | None:
        async with self._db.reading() as conn:
            value: str | None = await conn.fetchval(
                "SELECT last_invited_at FROM customers WHERE telegram_id = $1", customer_id
            )
        return from_db(value)

    async def opt_out(self, telegram_id: int, now: datetime) -> int:
        """Opt the customer out and cancel what is scheduled or going on; returns how many."""
        async with self._db.transaction() as conn:
            await lock_customer(conn, telegram_id)
            await conn.execute(
                "INSERT INTO customers (telegram_id, created_at, opted_out_at) VALUES ($1, $2, $2)"
                " ON CONFLICT (telegram_id) DO UPDATE SET"
                " opted_out_at = coalesce(customers.opted_out_at, excluded.opted_out_at)",
                telegram_id,
                to_db(now),
            )
            status = await conn.execute(
                "UPDATE invitations SET status = 'cancelled', note = 'opted_out',"
                f" prompt_sent = {Prompt.SHOWN}, finished_at = $1"
                " WHERE customer_id = $2 AND status IN ('scheduled', 'active')",
                to_db(now),
                telegram_id,
            )
            # Opted out: not even a pending thank-you goes out.
            await conn.execute(
                f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN} WHERE customer_id = $1"
                f" AND status = 'completed' AND prompt_sent = {Prompt.DUE}",
                telegram_id,
            )
        return changed(status)

    async def opt_in(self, telegram_id: int) -> bool:
        written = await self._db.write(
            "UPDATE customers SET opted_out_at = NULL"
            " WHERE telegram_id = $1 AND opted_out_at IS NOT NULL",
            telegram_id,
        )
        return written == 1

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> None:
        """The customer blocked the bot: stop every pending send to them."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE customers SET unreachable_at = $1 WHERE telegram_id = $2",
                to_db(now),
                telegram_id,
            )
            await conn.execute(
                "UPDATE invitations SET status = 'failed', note = 'unreachable',"
                f" prompt_sent = {Prompt.SHOWN}, finished_at = $1"
                " WHERE customer_id = $2 AND status IN ('scheduled', 'active')",
                to_db(now),
                telegram_id,
            )

    async def erase_customer(
        self, now: datetime, *, telegram_id: int | None = None, external_id: str | None = None
    ) -> Erased | None:
        """Erase the customer known by a Telegram id or by the shop's id (storage/postgres/
        erasure.py says what goes and what it locks), in one transaction; None when unknown."""
        async with self._db.transaction() as conn:
            return await erase(conn, now, telegram_id=telegram_id, external_id=external_id)
