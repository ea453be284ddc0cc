"""The SQLite backend (aiosqlite, WAL, one writer connection, numbered migrations)."""

from .repo import SqliteRepo, open_sqlite

__all__ = ["SqliteRepo", "open_sqlite"]
