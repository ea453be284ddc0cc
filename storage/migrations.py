"""The numbered migrations, one list for both dialects, and the refusal of a newer database.

Each backend package holds `migrations/NNN_name.sql` under the same numbers (a test checks that
the two lists match): a database is at version N on either backend after the same steps.
"""

from __future__ import annotations

from importlib import resources


class SchemaTooNew(Exception):
    """The database was migrated by a newer survey-bot than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the database is at schema version {found}, newer than this survey-bot knows"
            f" ({known}): upgrade survey-bot, or point it at another database"
        )
        self.found, self.known = found, known


def numbered(package: str) -> list[tuple[int, str]]:
    """(number, SQL) of every migration of the backend `package`, in order."""
    folder = resources.files(package) / "migrations"
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def pending(migrations: list[tuple[int, str]], version: int) -> list[tuple[int, str]]:
    """The migrations a database at `version` still needs; SchemaTooNew if it is ahead."""
    known = migrations[-1][0] if migrations else 0
    if version > known:
        raise SchemaTooNew(version, known)
    return [(number, sql) for number, sql in migrations if number > version]


def latest_version() -> int:
    """The schema version this code migrates to (both dialects share the numbers)."""
    return numbered("storage.sqlite")[-1][0]
