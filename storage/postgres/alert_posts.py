"""TODO: port of storage/sqlite/alert_posts.py."""

from __future__ import annotations

from typing import Any

from .database import Database


class AlertPosts:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database


class AlertTimers:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database
