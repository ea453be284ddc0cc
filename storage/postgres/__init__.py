"""The PostgreSQL backend (asyncpg, a pool, advisory locks for several processes)."""

from .repo import PostgresRepo, open_postgres

__all__ = ["PostgresRepo", "open_postgres"]
