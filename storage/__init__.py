"""The only place with SQL: records, the repository Protocols, and the SQLite backend."""
