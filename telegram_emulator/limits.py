"""Telegram's flood limits, enforced when the emulator is started with ``limits=FloodLimits()``.

What Telegram documents (Bots FAQ and the Bot API's ``allow_paid_broadcast``): about 30 messages a
second across all chats, no more than 20 a minute in one group, about one a second in one chat
with short bursts allowed, and up to 1,000 a second for sends that pass ``allow_paid_broadcast``.
Windows are rolling, as Telegram's are: at most ``per_second`` messages in any one second, not
per calendar second, so a bot that sends 30 at once and 30 more a moment after the second ticks
over is refused. A refused call gets 429 with ``retry_after`` (whole seconds until the window has
room), and is not run: nothing is sent.

Off by default, so tests that are not about limits do not need to pace themselves.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .errors import ApiError, Json

# Methods that put a message into a chat (or change one) and so count against the limits.
LIMITED_PREFIXES = ("send", "edit", "copy", "forward")


@dataclass(frozen=True, slots=True)
class FloodLimits:
    per_second: int = 30  # all chats together, any rolling second
    paid_per_second: int = 1000  # sends with allow_paid_broadcast (the bot pays Stars for them)
    group_per_minute: int = 20  # one group or channel, any rolling `group_window` seconds
    group_window: float = 60.0
    # One private chat: a burst of `private_burst`, then one message per `private_every` seconds.
    private_burst: int = 4
    private_every: float = 1.0


@dataclass(slots=True)
class _Window:
    """Times of the calls let through in the last `length` seconds."""

    size: int
    length: float
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0: it fits now)."""
        while self.times and self.times[0] <= now - self.length:
            self.times.popleft()
        if len(self.times) < self.size:
            return 0.0
        return self.times[0] + self.length - now


@dataclass(slots=True)
class _Bucket:
    """A token bucket: `burst` calls at once, then one per `every` seconds."""

    burst: int
    every: float
    tokens: float = -1.0
    at: float = 0.0

    def wait(self, now: float) -> float:
        if self.tokens < 0:
            self.tokens, self.at = float(self.burst), now
        self.tokens = min(self.burst, self.tokens + (now - self.at) / self.every)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.every


class FloodControl:
    """Counts the limited calls the emulator answered and refuses those over a limit."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._free = _Window(limits.per_second, 1.0)
        self._paid = _Window(limits.paid_per_second, 1.0)
        self._groups: dict[int | str, _Window] = {}
        self._private: dict[int | str, _Bucket] = {}
        self.refused = 0  # how many calls got a 429

    def check(self, method: str, params: Json, now: float) -> None:
        """Raise a 429 ApiError if this call is over a limit; otherwise count it."""
        chat_id = params.get("chat_id")
        if chat_id is None or not method.startswith(LIMITED_PREFIXES):
            return
        paid = bool(params.get("allow_paid_broadcast")) and method.startswith(("send", "copy"))
        overall = self._paid if paid else self._free
        private = isinstance(chat_id, int) and chat_id > 0
        if private:
            chat: _Window | _Bucket = self._private.setdefault(
                chat_id, _Bucket(self.limits.private_burst, self.limits.private_every)
            )
        else:
            chat = self._groups.setdefault(
                chat_id, _Window(self.limits.group_per_minute, self.limits.group_window)
            )
        wait = max(overall.wait(now), chat.wait(now))
        if wait > 0:
            self.refused += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        overall.times.append(now)
        if isinstance(chat, _Window):
            chat.times.append(now)
        else:
            chat.tokens -= 1
