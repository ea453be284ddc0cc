"""Durations written as in config: "0s", "30m", "2h", "1d", "2w", or combined like "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta

from .errors import InvalidDefinition

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> timedelta:
    cleaned = text.strip().lower() if isinstance(text, str) else ""
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidDefinition(f"duration must look like 0s, 30m, 2h, 1d or 1h30m, got {text!r}")
    try:
        return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned)))
    except OverflowError:
        raise InvalidDefinition(f"duration {text!r} is too long") from None


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)
