"""Rows the SQL guarantees (an aggregate's one row, the id of a row just inserted), typed so,
and rows as the records they hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
# How a column becomes its field: a table per record, field name -> function of the value.
ColumnTypes = Mapping[str, Callable[[Any], Any]]


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


def from_row(
    cls: type[R],
    row: aiosqlite.Row,
    types: ColumnTypes,
    /,
    **values: Any,
) -> R:
    """A `cls` of the row's columns named as its fields, each turned by `types[name]` where
    SQLite stores it otherwise (a timestamp's text, an enum's value); `values` are the fields
    no one column holds. A field with a default and no column keeps its default."""
    columns = set(row.keys())
    found = {name: row[name] for name in _field_names(cls) if name in columns}
    for name, turn in types.items():
        found[name] = turn(found[name])
    return cls(**(found | values))


def or_none(turn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`turn` for a nullable column: NULL stays None."""
    return lambda value: None if value is None else turn(value)


@cache
def _field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))
