"""Message entities: spans, byte and UTF-16 offsets shared by the markup parsers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Json


@dataclass(slots=True)
class Span:
    kind: str
    start: int
    byte_offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def byte_offset(text: str, index: int) -> int:
    # Telegram reports positions in UTF-8 bytes of the original text.
    return len(text[:index].encode("utf-8", "surrogatepass"))


def make_entity(kind: str, start: int, end: int, **extra: Any) -> Json:
    return {"type": kind, "offset": start, "length": end - start, **extra}


def to_utf16(text: str, entities: list[Json]) -> list[Json]:
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    converted = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        converted.append({**entity, "offset": prefix[start], "length": prefix[end] - prefix[start]})
    converted.sort(key=lambda e: (e["offset"], -e["length"]))
    return converted
