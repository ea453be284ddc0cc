"""Telegram's HTML parse mode: text with tags to plain text and entities."""

from __future__ import annotations

from .entities import Span, byte_offset, make_entity
from .errors import Json, entity_error


def _decode_html_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode ``&lt;``, ``&#60;``, ``&#x3c;`` (``;`` optional) like Telegram; None if none."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        digits = "0123456789"
        base = 10
        if j < n and text[j] == "x":
            j += 1
            digits, base = "0123456789abcdefABCDEF", 16
        start = j
        while j < n and text[j] in digits:
            j += 1
        if j == start:
            return None
        code = int(text[start:j], base)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        start = j
        while j < n and text[j].isascii() and text[j].isalpha():
            j += 1
        char = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[start:j], "")
        if not char:
            return None
    if j < n and text[j] == ";":
        j += 1
    return char, j


_HTML_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes from ``text[i:]`` up to and including ``>``."""
    attrs: dict[str, str] = {}
    n = len(text)
    offset = byte_offset(text, begin)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise entity_error(f"Unclosed start tag at byte offset {offset}")
        if text[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                continue
            raise entity_error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {offset}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise entity_error(f'Unclosed start tag "{tag}" at byte offset {offset}')
        if text[i] in "'\"":
            quote = text[i]
            i += 1
            value: list[str] = []
            while i < n and text[i] != quote:
                decoded = _decode_html_entity(text, i) if text[i] == "&" else None
                if decoded:
                    value.append(decoded[0])
                    i = decoded[1]
                else:
                    value.append(text[i])
                    i += 1
            if i >= n:
                raise entity_error(f"Unclosed start tag at byte offset {offset}")
            i += 1
            attrs[name] = "".join(value)
        else:
            token_start = i
            while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                i += 1
            if i >= n or not (text[i].isspace() or text[i] == ">"):
                raise entity_error(
                    f"Unexpected end of name token at byte offset {byte_offset(text, token_start)}"
                )
            attrs[name] = text[token_start:i].lower()


def _close_html_tag(tag: Span, stack: list[Span], out: list[str], entities: list[Json]) -> None:
    start, end = tag.start, len(out)
    if tag.kind == "code" and stack and stack[-1].kind == "pre" and "language" in tag.attrs:
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        stack[-1].attrs["language"] = tag.attrs["language"]
        return
    if end == start:
        return  # Telegram drops empty entities
    kind = _HTML_KINDS[tag.kind]
    extra: Json = {}
    if kind == "text_link":
        url = tag.attrs.get("href") or "".join(out[start:end])
        user_id = url.removeprefix("tg://user?id=")
        if user_id != url and user_id.isdigit():
            kind = "text_mention"
            extra["user"] = {"id": int(user_id), "is_bot": False, "first_name": f"User {user_id}"}
        else:
            extra["url"] = url
    elif kind == "pre" and tag.attrs.get("language"):
        extra["language"] = tag.attrs["language"]
    elif kind == "blockquote" and "expandable" in tag.attrs:
        kind = "expandable_blockquote"
    elif kind == "custom_emoji":
        extra["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(make_entity(kind, start, end, **extra))


def parse_html(text: str) -> tuple[str, list[Json]]:
    """Telegram's HTML parse mode; raises ApiError(400) with Telegram's wording on bad markup."""
    out: list[str] = []  # one code point per item, so len(out) is the current offset
    entities: list[Json] = []
    stack: list[Span] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded:
                out.append(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise entity_error(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise entity_error(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
            tag = stack.pop()
            if end_name and end_name != tag.kind:
                raise entity_error(
                    f"Unmatched end tag at byte offset {byte_offset(text, begin)}, "
                    f'expected "</{tag.kind}>", found "</{end_name}>"'
                )
            _close_html_tag(tag, stack, out, entities)
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise entity_error(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
        name = text[i:j].lower()
        if name not in _HTML_KINDS:
            raise entity_error(
                f'Unsupported start tag "{name}" at byte offset {byte_offset(text, begin)}'
            )
        attrs, i = _parse_html_attributes(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            offset = byte_offset(text, begin)
            raise entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "code" and attrs.get("class", "").startswith("language-"):
            attrs["language"] = attrs["class"].removeprefix("language-")
        stack.append(Span(name, len(out), byte_offset(text, begin), attrs))
    if stack:
        raise entity_error(f"Can't find end tag corresponding to start tag {stack[-1].kind}")
    return "".join(out), entities
