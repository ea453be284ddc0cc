"""Customers: who they are, their language, opt-out, whether Telegram can reach them, erasure."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

import aiosqlite

from survey_flows.models import Customer

from ..records import Erased
from ..rows import ColumnTypes, from_row
from ..states import Prompt
from ..timestamps import from_db, to_db
from .database import Database
from .erasure import erase
from .rows import fetch_all, fetch_first, one_row

_CUSTOMER_TYPES: ColumnTypes = {"opted_out_at": from_db, "unreachable_at": from_db}


def _customer(row: aiosqlite.Row) -> Customer:
    return from_row(Customer, row, _CUSTOMER_TYPES)


class Customers:
    """The people surveyed, by Telegram id."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_customer(self, telegram_id: int) -> Customer | None:
        async with self._db.reading() as db:
            row = await fetch_first(
                db, "SELECT * FROM customers WHERE telegram_id = ?", (telegram_id,)
            )
            return _customer(row) if row else None

    async def get_customers(self, telegram_ids: Collection[int]) -> dict[int, Customer]:
        """Many customers in one read (the delivery worker's batch), by Telegram id."""
        ids = list(set(telegram_ids))
        found: dict[int, Customer] = {}
        if not ids:
            return found
        async with self._db.reading() as db:
            for start in range(0, len(ids), 500):  # under SQLite's limit of bound parameters
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT * FROM customers WHERE telegram_id IN ({marks})"
                for row in await fetch_all(db, sql, chunk):
                    customer = _customer(row)
                    found[customer.telegram_id] = customer
        return found

    async def touch_customer(
        self,
        telegram_id: int,
        now: datetime,
        *,
        name: str | None,
        username: str | None,
        language: str | None,
    ) -> Customer:
        """Create or refresh a customer from what Telegram tells about them; they can be reached.

        A name the shop's event gave is kept; Telegram's fills in only where there is none."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO customers (telegram_id, name, username, language, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
                " name = coalesce(name, excluded.name),"
                " username = coalesce(excluded.username, username),"
                " language = coalesce(language, excluded.language), unreachable_at = NULL",
                (telegram_id, name, username, language, to_db(now)),
            )
            cursor = await db.execute(
                "SELECT * FROM customers WHERE telegram_id = ?", (telegram_id,)
            )
            return _customer(await one_row(cursor))

    async def remember_profile(
        self,
        telegram_id: int,
        *,
        name: str | None,
        username: str | None,
        stored: Customer | Literal[False] | None = False,
    ) -> bool:
        """A known customer's own update: their Telegram name where none is stored (the shop's
        wins) and their current @username. An update that tells nothing new writes nothing;
        someone who is not a customer is not stored, nor is anything of someone who asked to be
        forgotten or opted out (until they opt back in). True when it wrote.

        `stored` is the customer's row when the caller has just read it (None: no such
        customer); the row is then not read again."""
        if stored is False:
            stored = await self.get_customer(telegram_id)
        if stored is None or stored.opted_out_at is not None:
            return False
        new_name = stored.name is None and name is not None
        new_username = username is not None and username != stored.username
        if not (new_name or new_username):
            return False
        changed = await self._db.write(
            "UPDATE customers SET name = coalesce(name, ?), username = coalesce(?, username)"
            " WHERE telegram_id = ? AND erased_at IS NULL AND opted_out_at IS NULL",
            (name, username, telegram_id),
        )
        return changed == 1

    async def last_invited_at(self, customer_id: int) -> datetime | None:
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT last_invited_at FROM customers WHERE telegram_id = ?", (customer_id,)
            )
            row = await cursor.fetchone()
            return from_db(row["last_invited_at"]) if row else None

    async def opt_out(self, telegram_id: int, now: datetime) -> int:
        """Opt the customer out and cancel what is scheduled or going on; returns how many."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO customers (telegram_id, created_at, opted_out_at) VALUES (?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET"
                " opted_out_at = coalesce(opted_out_at, excluded.opted_out_at)",
                (telegram_id, to_db(now), to_db(now)),
            )
            cursor = await db.execute(
                "UPDATE invitations SET status = 'cancelled', note = 'opted_out',"
                f" prompt_sent = {Prompt.SHOWN}, finished_at = ?"
                " WHERE customer_id = ? AND status IN ('scheduled', 'active')",
                (to_db(now), telegram_id),
            )
            # Opted out: not even a pending thank-you goes out.
            await db.execute(
                f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN} WHERE customer_id = ?"
                f" AND status = 'completed' AND prompt_sent = {Prompt.DUE}",
                (telegram_id,),
            )
            return cursor.rowcount

    async def opt_in(self, telegram_id: int) -> bool:
        changed = await self._db.write(
            "UPDATE customers SET opted_out_at = NULL"
            " WHERE telegram_id = ? AND opted_out_at IS NOT NULL",
            (telegram_id,),
        )
        return changed == 1

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> None:
        """The customer blocked the bot: stop every pending send to them."""
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE customers SET unreachable_at = ? WHERE telegram_id = ?",
                (to_db(now), telegram_id),
            )
            await db.execute(
                "UPDATE invitations SET status = 'failed', note = 'unreachable',"
                f" prompt_sent = {Prompt.SHOWN}, finished_at = ?"
                " WHERE customer_id = ? AND status IN ('scheduled', 'active')",
                (to_db(now), telegram_id),
            )

    async def erase_customer(
        self, now: datetime, *, telegram_id: int | None = None, external_id: str | None = None
    ) -> Erased | None:
        """Erase the customer known by a Telegram id or by the shop's id (storage/sqlite/
        erasure.py says what goes), in one transaction; None when unknown."""
        async with self._db.transaction() as db:
            return await erase(db, now, telegram_id=telegram_id, external_id=external_id)
