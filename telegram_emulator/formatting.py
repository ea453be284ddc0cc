"""``format_text``: a Bot API text and parse_mode to plain text and UTF-16 entities."""

from __future__ import annotations

from .entities import to_utf16
from .errors import Json, bad_request
from .parse_html import parse_html
from .parse_markdown import parse_markdown, parse_markdown_v2


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[Json]]:
    """Plain text and entities (UTF-16 offsets, as in the Bot API), trimmed like Telegram trims."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, entities = parse_html(text)
    elif mode == "markdownv2":
        plain, entities = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, entities = parse_markdown(text)
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        plain, entities = text, []
    stripped = plain.lstrip()
    lead = len(plain) - len(stripped)
    stripped = stripped.rstrip()
    kept: list[Json] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, len(stripped))
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, to_utf16(stripped, kept)
