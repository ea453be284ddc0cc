"""TODO: port of storage/sqlite/campaigns.py."""

from __future__ import annotations

from typing import Any

from .database import Database


class Campaigns:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database
