"""TODO: port of storage/sqlite/report_runs.py."""

from __future__ import annotations

from typing import Any

from .database import Database


class ReportRuns:
    def __init__(self, database: Database, *rules: Any) -> None:
        self._db = database
