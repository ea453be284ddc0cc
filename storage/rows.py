"""Rows the SQL guarantees (an aggregate's one row, the id of a row just inserted), typed so."""

from __future__ import annotations

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
