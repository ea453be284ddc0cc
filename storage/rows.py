"""Rows as the records they hold, alike for both backends (aiosqlite's Row, asyncpg's Record)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
# How a column becomes its field: a table per record, field name -> function of the value.
ColumnTypes = Mapping[str, Callable[[Any], Any]]


class Row(Protocol):
    """What both drivers' rows offer: the column names and each value by name."""

    def keys(self) -> Iterable[str]: ...
    def __getitem__(self, key: str, /) -> Any: ...


def from_row(
    cls: type[R],
    row: Row,
    types: ColumnTypes,
    /,
    **values: Any,
) -> R:
    """A `cls` of the row's columns named as its fields, each turned by `types[name]` where
    the database stores it otherwise (a timestamp's text, an enum's value); `values` are the
    fields no one column holds. A field with a default and no column keeps its default."""
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
