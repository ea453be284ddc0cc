"""A clock tests can move: the bot takes its time by injection, so tests set it, never wait."""

from __future__ import annotations

from datetime import datetime


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
