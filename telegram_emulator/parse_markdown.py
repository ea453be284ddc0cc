"""Telegram's MarkdownV2 and legacy Markdown parse modes."""

from __future__ import annotations

from .entities import Span, byte_offset, make_entity
from .errors import Json, entity_error

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}


def _mdv2_closes(kind: str, text: str, i: int) -> bool:
    char = text[i]
    nxt = text[i + 1 : i + 2]
    match kind:
        case "bold":
            return char == "*"
        case "italic":
            return char == "_" and nxt != "_"
        case "underline":
            return text.startswith("__", i)
        case "strikethrough":
            return char == "~"
        case "spoiler":
            return text.startswith("||", i)
        case "code":
            return char == "`"
        case "pre":
            return text.startswith("```", i)
        case _:  # text_link, custom_emoji
            return char == "]"


def parse_markdown_v2(text: str) -> tuple[str, list[Json]]:
    """Telegram's MarkdownV2: reserved characters must be escaped, entities must be closed."""
    out: list[str] = []
    entities: list[Json] = []
    stack: list[Span] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        in_code = bool(stack) and stack[-1].kind in ("code", "pre")
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not in_code:
            # Block quotes are lines starting with ">"; consecutive lines form one quote.
            if char == ">":
                if quote_start is None:
                    quote_start = len(out)
                i += 1
                continue
            if quote_start is not None:
                end = len(out) - 1 if out and out[-1] == "\n" else len(out)
                if end > quote_start:
                    entities.append(make_entity("blockquote", quote_start, end))
                quote_start = None
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        reserved = "`" if in_code else _MDV2_RESERVED
        if char not in reserved:
            out.append(char)
            i += 1
            continue
        begin = i
        if stack and _mdv2_closes(stack[-1].kind, text, i):
            span = stack.pop()
            extra: Json = {}
            if span.kind in ("text_link", "custom_emoji"):
                if text[i + 1 : i + 2] != "(":
                    if span.kind == "custom_emoji":
                        raise entity_error("Custom emoji entity must contain a tg://emoji URL")
                    url = "".join(out[span.start :])
                else:
                    i += 2
                    url_start = i
                    url_chars: list[str] = []
                    while i < n and text[i] != ")":
                        if text[i] == "\\" and i + 1 < n:
                            i += 1
                        url_chars.append(text[i])
                        i += 1
                    if i >= n:
                        offset = byte_offset(text, url_start)
                        raise entity_error(f"Can't find end of a URL at byte offset {offset}")
                    url = "".join(url_chars)
                if span.kind == "custom_emoji":
                    extra["custom_emoji_id"] = url.removeprefix("tg://emoji?id=")
                else:
                    extra["url"] = url
            elif span.kind == "pre":
                i += 2
                if span.attrs.get("language"):
                    extra["language"] = span.attrs["language"]
            elif span.kind in ("underline", "spoiler"):
                i += 1  # two-character closers
            if len(out) > span.start:
                entities.append(make_entity(span.kind, span.start, len(out), **extra))
            i += 1
            continue
        attrs: dict[str, str] = {}
        if char == "_" and text.startswith("__", i):
            kind, i = "underline", i + 2
        elif char == "_":
            kind, i = "italic", i + 1
        elif char == "*":
            kind, i = "bold", i + 1
        elif char == "~":
            kind, i = "strikethrough", i + 1
        elif char == "|" and text.startswith("||", i):
            kind, i = "spoiler", i + 2
        elif char == "[":
            kind, i = "text_link", i + 1
        elif char == "!" and text.startswith("![", i):
            kind, i = "custom_emoji", i + 2
        elif text.startswith("```", i):
            kind, i = "pre", i + 3
            lang_end = i
            while lang_end < n and not text[lang_end].isspace() and text[lang_end] != "`":
                lang_end += 1
            if lang_end > i and lang_end < n and text[lang_end] != "`":
                attrs["language"] = text[i:lang_end]
                i = lang_end
            if text.startswith(("\r\n", "\n\r"), i):
                i += 2
            elif text[i : i + 1] in ("\n", "\r"):
                i += 1
        elif char == "`":
            kind, i = "code", i + 1
        else:
            raise entity_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        stack.append(Span(kind, len(out), byte_offset(text, begin), attrs))
    if stack:
        span = stack[-1]
        raise entity_error(
            f"Can't find end of {_MDV2_NAMES[span.kind]} entity at byte offset {span.byte_offset}"
        )
    if quote_start is not None and len(out) > quote_start:
        entities.append(make_entity("blockquote", quote_start, len(out)))
    return "".join(out), entities


def parse_markdown(text: str) -> tuple[str, list[Json]]:
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    entities: list[Json] = []
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}
    while i < n:
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.append(text[i + 1])
            i += 2
            continue
        if char not in kinds:
            out.append(char)
            i += 1
            continue
        begin = i
        closing = "]" if char == "[" else char
        kind = kinds[char]
        i += 1
        if text.startswith("``", i) and char == "`":
            kind, closing = "pre", "```"
            i += 2
        end = text.find(closing, i)
        if end < 0:
            raise entity_error(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        start = len(out)
        out.extend(text[i:end])
        i = end + len(closing)
        extra: Json = {}
        if kind == "text_link":
            url = ""
            if text[i : i + 1] == "(":
                url_end = text.find(")", i)
                if url_end >= 0:
                    url = text[i + 1 : url_end]
                    i = url_end + 1
            if not url:
                continue
            extra["url"] = url
        if len(out) > start:
            entities.append(make_entity(kind, start, len(out), **extra))
    return "".join(out), entities
