"""Who is who in the demo, its fast clock, and the bot's settings built in code."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, parse_config

TOKEN = "123456:DEMO"
STAFF_CHAT = -1001000000001
YOU_CUSTOMER = 1000  # you, as a customer (a private chat's id is its user's id)
YOU_MANAGER = 2000  # you, as a manager, in your own private chat with the bot
YOU_STAFF = 3000  # you, as a member of the support group
SIM_STAFF = 3001  # the simulated support agent
FIRST_SIM_CUSTOMER = 10_001
# How the staff chat and the alert cards name the people you play, and Olga.
NAMES = {
    YOU_CUSTOMER: ("You", ""),
    YOU_MANAGER: ("You", "(manager)"),
    YOU_STAFF: ("You", "(support)"),
    SIM_STAFF: ("Olga", "(support)"),
}


@dataclass(frozen=True, slots=True)
class Chats:
    """The three chats the page shows, by the key the page uses."""

    customer: int = YOU_CUSTOMER
    staff: int = STAFF_CHAT
    manager: int = YOU_MANAGER

    def by_key(self) -> dict[str, int]:
        return {"customer": self.customer, "staff": self.staff, "manager": self.manager}

    def key_of(self, chat_id: int) -> str | None:
        return next((k for k, v in self.by_key().items() if v == chat_id), None)

    def user_of(self, key: str) -> int:
        """Who types in that chat: you, in the role the chat stands for."""
        return {"customer": YOU_CUSTOMER, "staff": YOU_STAFF, "manager": YOU_MANAGER}[key]


class FastClock:
    """Time that runs `factor` times faster than the wall clock, from the real now.

    The bot takes it as its injected clock, so delays, escalation and periods all run fast; the
    workers never sleep longer than their cap (about a second), so nothing waits in real time.
    """

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self._start = datetime.now(UTC)
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.factor)

    def real_seconds(self, simulated: timedelta) -> float:
        return simulated.total_seconds() / self.factor


def demo_config(data_dir: Path, api_base: str, api_port: int) -> Config:
    """The settings a shop would write in config.toml, for the emulator and a local database."""
    raw = {
        "telegram": {
            "token": TOKEN,
            "api_base": api_base,
            "staff_chat_id": STAFF_CHAT,
            "manager_ids": [YOU_MANAGER],
        },
        "storage": {"path": str(data_dir / "survey-bot.sqlite3")},
        "api": {"host": "127.0.0.1", "port": api_port, "token": secrets.token_urlsafe(24)},
        "triggers": {
            "purchase": {"survey": "csat", "delay": "30m"},
            "delivered": {"survey": "nps", "delay": "1h"},
            "ticket_closed": {"survey": "support", "delay": "10m"},
        },
        "reports": {"timezone": "UTC", "min_answers": 10},
        "alerts": {"escalate_after": "30m", "recheck_after": "4h"},
        # The demo compresses a shop's month into minutes and lets you ask for a survey as often
        # as you like: a 30-day recontact window would leave almost everyone unasked.
        "throttle": {"recontact": "0s"},
        # Reminders a simulated day later would only clutter the chats.
        "delivery": {"remind_after": "0s"},
    }
    return parse_config(raw, {}, data_dir)
