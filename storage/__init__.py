"""The only place with SQL: the async repository over SQLite (aiosqlite, WAL, migrations)."""
