"""The one factory of a repository: a PostgreSQL url, or the path of a SQLite file."""

from __future__ import annotations

from pathlib import Path

from survey_flows.pacing import Recontact

from .base import SurveyRepo

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


async def open_storage(target: str | Path, *, recontact: Recontact | None = None) -> SurveyRepo:
    """The database at `target` (created and migrated as needed) with its repositories; every
    invitation made through them obeys `recontact`. Backends are imported only when chosen:
    a SQLite install never loads asyncpg."""
    if is_postgres(target):
        from .postgres import open_postgres

        return await open_postgres(str(target), recontact=recontact)
    from .sqlite import open_sqlite

    return await open_sqlite(target, recontact=recontact)
