"""Rows the SQL guarantees (an aggregate's one row, the id of a row just inserted), typed so,
fetched in one trip to aiosqlite's thread."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite


async def one_row(cursor: aiosqlite.Cursor) -> aiosqlite.Row:
    """The row of a query that always returns exactly one, such as SELECT count(*)."""
    row = await cursor.fetchone()
    if row is None:
        raise LookupError("a query that always returns a row returned none")
    return row


def inserted_id(cursor: aiosqlite.Cursor) -> int:
    """The rowid of the row the cursor's INSERT just added."""
    if cursor.lastrowid is None:
        raise LookupError("the INSERT added no row")
    return cursor.lastrowid


async def fetch_first(
    db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> aiosqlite.Row | None:
    """The first row of a query, or None, in one trip to the connection's thread (execute and
    fetch together): the reads on a customer's press are many, each trip a thread handoff."""
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def fetch_all(
    db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> list[aiosqlite.Row]:
    """Every row of a query in one trip to the connection's thread."""
    return list(await db.execute_fetchall(sql, params))
