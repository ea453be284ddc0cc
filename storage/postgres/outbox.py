"""TODO: port of storage/sqlite/outbox.py."""

from __future__ import annotations

from typing import Any

from .database import Database


class Outbox:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database


class Expiry:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database
