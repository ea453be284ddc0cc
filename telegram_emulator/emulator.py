"""A local Telegram Bot API emulator: an aiohttp server that speaks the Bot API as aiogram uses it.

Why it exists: end-to-end tests (and the coming ``survey-bot demo`` sandbox) run the real bot
process against it, so every request goes through aiogram's real session, encoding and error
handling. It imports nothing from the project: only the standard library and aiohttp.

Typical use::

    emulator = BotAPIEmulator()
    base_url = await emulator.start()                       # "http://127.0.0.1:<port>"
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    emulator.user_message(42, "/start")                     # queued for getUpdates
    sent = await emulator.wait_for_call("sendMessage", chat_id=42)
    query_id = emulator.press_button(42, sent.result, "s:5")  # a callback_query update
    await emulator.wait_for_call("answerCallbackQuery",
                                 predicate=lambda c: c.params["callback_query_id"] == query_id)
    await emulator.stop()

Public API (all on ``BotAPIEmulator``):
    ``__init__(token="123456:TEST", *, bot_username="survey_test_bot", bot_name="Survey Test Bot",
    privacy_mode=True, clock=time.time)``; ``token=None`` accepts any token.
    Server: ``await start(host="127.0.0.1", port=0) -> base_url``, ``await stop()``,
    ``make_app() -> aiohttp.web.Application``, ``base_url``, ``bot_user``.
    Calls: ``calls: list[Call]``, ``calls_of(method, *, chat_id=None)``,
    ``await wait_for_call(method, *, chat_id=None, predicate=None, timeout=10.0, after=0)``,
    ``await wait_for_poll(timeout=10.0)`` (a getUpdates is waiting: the bot is listening).
    Chat state: ``messages(chat_id)``, ``last_bot_message(chat_id)``, ``reply_keyboard(chat_id)``,
    ``pinned_message_id(chat_id)``, ``file_bytes(file_id)``.
    Updates: ``user_message(user_id, text, ...)``, ``group_message(chat_id, user_id, text, ...)``,
    ``press_button(user_id, message, callback_data, *, chat_id=None) -> query id``,
    ``tap(user_id, label, *, chat_id=None) -> query id``,
    ``add_group(chat_id, *, title=None, is_forum=False)``.
    Failures: ``fail_next(method, *, error_code, description, retry_after, times, chat_id,
    disconnect)``, ``block_user(user_id)``, ``unblock_user(user_id)``,
    ``set_member_status(chat_id, user_id, status)``. Also ``pending_updates``.
Module level: ``format_text(text, parse_mode) -> (plain text, entities)`` (raises ``ApiError``),
``main()`` for ``python -m telegram_emulator --port 8081``.

Behaviour worth knowing:
- Requests may be form-encoded, multipart (``attach://name`` file parts), JSON or query string;
  JSON-valued fields (reply_markup, entities, ...) may arrive as strings and are decoded.
  ``Call.params`` holds decoded values; uploaded files appear as ``UploadedFile``.
- Texts are parsed like Telegram does (HTML, MarkdownV2, Markdown): stored messages hold the plain
  text plus entities, limits apply after parsing, and bad markup is a 400 "can't parse entities".
  As in Telegram, an ``&`` that starts no known entity is kept literally; a bare ``<`` is an error.
- Editing a text or caption without reply_markup removes the inline keyboard, as in Telegram;
  an edit that changes nothing is a 400 "message is not modified".
- getUpdates is real long polling; a second concurrent getUpdates ends the first with 409.
- With ``privacy_mode`` (Telegram's default) a group message reaches the bot only if it is a
  command, a reply to the bot or mentions it; hidden messages are stored but not queued.
- ``press_button`` refuses callback data that the message does not currently show, as a user can
  only press buttons that are there.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import inspect
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

__all__ = ["ApiError", "BotAPIEmulator", "Call", "UploadedFile", "format_text", "main"]

Json = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
MAX_UPLOAD = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: POLL_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Fields whose values are JSON when sent as form data (aiogram serialises objects to strings).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "media",
        "message_ids",
        "permissions",
        "reaction",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "duration",
        "icon_color",
        "until_date",
        "width",
        "height",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "disable_web_page_preview",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "revoke_messages",
    }
)
# What Telegram sends when allowed_updates is empty or was never set.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request, as it arrived."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request and the answer the emulator gave."""

    method: str  # canonical spelling, e.g. "sendMessage", whatever case the client used
    params: Json
    response: Json
    at: float

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error_code(self) -> int | None:
        return self.response.get("error_code")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")


class ApiError(Exception):
    """Raised inside method handlers; becomes an ``{"ok": false, ...}`` answer."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> Json:
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _entity_error(detail: str) -> ApiError:
    return _bad_request(f"can't parse entities: {detail}")


# ---------------------------------------------------------------------------------------------
# Text formatting: the parsers return plain text and entities with code point offsets.


@dataclass(slots=True)
class _Span:
    kind: str
    start: int
    byte_offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports positions in UTF-8 bytes of the original text.
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _entity(kind: str, start: int, end: int, **extra: Any) -> Json:
    return {"type": kind, "offset": start, "length": end - start, **extra}


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
    offset = _byte_offset(text, begin)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {offset}")
        if text[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise _entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                continue
            raise _entity_error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {offset}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {offset}')
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
                raise _entity_error(f"Unclosed start tag at byte offset {offset}")
            i += 1
            attrs[name] = "".join(value)
        else:
            token_start = i
            while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                i += 1
            if i >= n or not (text[i].isspace() or text[i] == ">"):
                raise _entity_error(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
            attrs[name] = text[token_start:i].lower()


def _close_html_tag(tag: _Span, stack: list[_Span], out: list[str], entities: list[Json]) -> None:
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
    entities.append(_entity(kind, start, end, **extra))


def parse_html(text: str) -> tuple[str, list[Json]]:
    """Telegram's HTML parse mode; raises ApiError(400) with Telegram's wording on bad markup."""
    out: list[str] = []  # one code point per item, so len(out) is the current offset
    entities: list[Json] = []
    stack: list[_Span] = []
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
                raise _entity_error(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _entity_error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            tag = stack.pop()
            if end_name and end_name != tag.kind:
                raise _entity_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag.kind}>", found "</{end_name}>"'
                )
            _close_html_tag(tag, stack, out, entities)
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i:j].lower()
        if name not in _HTML_KINDS:
            raise _entity_error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _parse_html_attributes(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            offset = _byte_offset(text, begin)
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "code" and attrs.get("class", "").startswith("language-"):
            attrs["language"] = attrs["class"].removeprefix("language-")
        stack.append(_Span(name, len(out), _byte_offset(text, begin), attrs))
    if stack:
        raise _entity_error(f"Can't find end tag corresponding to start tag {stack[-1].kind}")
    return "".join(out), entities


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
    stack: list[_Span] = []
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
                    entities.append(_entity("blockquote", quote_start, end))
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
                        raise _entity_error("Custom emoji entity must contain a tg://emoji URL")
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
                        offset = _byte_offset(text, url_start)
                        raise _entity_error(f"Can't find end of a URL at byte offset {offset}")
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
                entities.append(_entity(span.kind, span.start, len(out), **extra))
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
            raise _entity_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        stack.append(_Span(kind, len(out), _byte_offset(text, begin), attrs))
    if stack:
        span = stack[-1]
        raise _entity_error(
            f"Can't find end of {_MDV2_NAMES[span.kind]} entity at byte offset {span.byte_offset}"
        )
    if quote_start is not None and len(out) > quote_start:
        entities.append(_entity("blockquote", quote_start, len(out)))
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
            raise _entity_error(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
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
            entities.append(_entity(kind, start, len(out), **extra))
    return "".join(out), entities


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
        raise _bad_request("unsupported parse_mode")
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
    return stripped, _to_utf16(stripped, kept)


def _to_utf16(text: str, entities: list[Json]) -> list[Json]:
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    converted = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        converted.append({**entity, "offset": prefix[start], "length": prefix[end] - prefix[start]})
    converted.sort(key=lambda e: (e["offset"], -e["length"]))
    return converted


# ---------------------------------------------------------------------------------------------
# Request decoding


def _normalize(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if key == "reply_markup":
                raise _bad_request("can't parse reply keyboard markup JSON object") from None
            raise _bad_request(f"can't parse {key} JSON object") from None
    if key in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername" is a valid chat_id
    if key in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def _resolve_attachments(value: Any, files: dict[str, UploadedFile], used: set[str]) -> Any:
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in files:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        used.add(name)
        return files[name]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, files, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_attachments(v, files, used) for v in value]
    return value


async def _read_params(request: web.Request) -> Json:
    raw: Json = dict(request.query.items())
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON object expected")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
                else:
                    raw[key] = value if isinstance(value, str) else bytes(value).decode()
    used: set[str] = set()
    params = {
        key: _resolve_attachments(_normalize(key, value), files, used) for key, value in raw.items()
    }
    # A file part may also be the field itself (curl -F photo=@cat.png), not via attach://.
    for name, upload in files.items():
        if name not in used:
            params.setdefault(name, upload)
    return params


# ---------------------------------------------------------------------------------------------
# State


@dataclass(slots=True)
class _Chat:
    id: int
    title: str | None = None
    is_forum: bool = False
    messages: dict[int, Json] = field(default_factory=dict)
    last_message_id: int = 0
    pinned: int | None = None
    reply_keyboard: Json | None = None
    topics: dict[int, Json] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)

    @property
    def private(self) -> bool:
        return self.id > 0

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    filename: str
    mime_type: str
    path: str


@dataclass(slots=True)
class _Failure:
    method: str  # lower case
    chat_id: int | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    disconnect: bool


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def _callback_buttons(message: Json) -> list[Json]:
    markup = message.get("reply_markup") or {}
    return [
        button
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


class BotAPIEmulator:
    """An in-process Telegram Bot API server with inspectable state; see the module docstring."""

    def __init__(
        self,
        token: str | None = "123456:TEST",
        *,
        bot_username: str = "survey_test_bot",
        bot_name: str = "Survey Test Bot",
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.privacy_mode = privacy_mode
        self._clock = clock
        prefix = (token or "").split(":", 1)[0]
        self.bot_user: Json = {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.base_url = ""
        self.calls: list[Call] = []
        self._calls_changed = asyncio.Event()
        self._updates: list[Json] = []
        self._updates_changed = asyncio.Event()
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._polls_waiting = 0
        self._poll_waiting = asyncio.Event()
        self._closing = False
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, Json] = {}
        self._blocked: set[int] = set()
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._last_query_id = 0
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._failures: list[_Failure] = []
        self._runner: web.AppRunner | None = None
        handlers: dict[str, Callable[[Json], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._accept,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._accept,
            "logOut": self._accept,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "forwardMessage": self._forward_message,
            "copyMessage": self._copy_message,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._chat_accept,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._chat_accept,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._accept,
            "setMyShortDescription": self._accept,
            "setChatMenuButton": self._accept,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "createForumTopic": self._create_forum_topic,
            "getFile": self._get_file,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # --- server ------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application; mount it or run it with ``web.run_app``."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the base URL for aiogram."""
        self._closing = False
        # Fresh events: asyncio binds them to the loop that first waits on them.
        self._calls_changed = asyncio.Event()
        self._updates_changed = asyncio.Event()
        self._poll_waiting = asyncio.Event()
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once."""
        self._closing = True
        self._notify_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._closing = True
        self._notify_pollers()

    # --- inspection ----------------------------------------------------------------------------

    def calls_of(self, method: str, *, chat_id: int | None = None) -> list[Call]:
        """Recorded calls of one method (any case), optionally only those for one chat."""
        return [call for call in self.calls if self._matches(call, method, chat_id, None)]

    async def wait_for_call(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Call:
        """The first call at index >= ``after`` that matches, waiting for it if needed."""
        index = after
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for call in self.calls[index:]:
                        if self._matches(call, method, chat_id, predicate):
                            return call
                    index = len(self.calls)
                    await self._calls_changed.wait()
        except TimeoutError:
            seen = ", ".join(f"{c.method}({c.chat_id})" for c in self.calls[after:][-10:])
            where = f" for chat {chat_id}" if chat_id is not None else ""
            raise TimeoutError(
                f"the bot made no matching {method} call{where} within {timeout}s; "
                f"latest calls: {seen or 'none'}"
            ) from None

    async def wait_for_poll(self, timeout: float = 10.0) -> None:
        """Wait until a getUpdates long poll is waiting here: the bot is up and listening."""
        try:
            async with asyncio.timeout(timeout):
                await self._poll_waiting.wait()
        except TimeoutError:
            raise TimeoutError(f"the bot did not start long polling within {timeout}s") from None

    def messages(self, chat_id: int) -> list[Json]:
        """What the chat shows now, oldest first: user and bot messages, edits applied."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[key]) for key in sorted(chat.messages)]

    def last_bot_message(self, chat_id: int) -> Json | None:
        bot_messages = [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_user["id"]]
        return bot_messages[-1] if bot_messages else None

    def reply_keyboard(self, chat_id: int) -> Json | None:
        """The reply keyboard (ReplyKeyboardMarkup) the user currently has, if any."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.reply_keyboard) if chat else None

    def pinned_message_id(self, chat_id: int) -> int | None:
        chat = self._chats.get(chat_id)
        return chat.pinned if chat else None

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by the bot."""
        return copy.deepcopy(self._updates)

    # --- injecting what users do ---------------------------------------------------------------

    def add_group(self, chat_id: int, *, title: str | None = None, is_forum: bool = False) -> None:
        """Declare a group (negative id) with a title; forums accept createForumTopic."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._chat(chat_id)
        chat.title = title or chat.title
        chat.is_forum = is_forum

    def user_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to: int | Json | None = None,
        message_thread_id: int | None = None,
        photo: bytes | None = None,
        voice: bytes | None = None,
        voice_duration: int = 1,
        caption: str | None = None,
    ) -> Json:
        """A user sends a message (private chat unless chat_id is given); returns the update.

        ``reply_to`` is a message id in that chat or a message dict. A private message from a user
        who blocked the bot unblocks it, as pressing "Restart" does. A group message hidden by
        privacy mode is stored but not queued; its returned update then has no "update_id".
        """
        if text is None and photo is None and voice is None:
            raise ValueError("a message needs text, a photo or a voice note")
        user = self._register_user(user_id, first_name, last_name, username, language_code)
        chat = self._chat(user_id if chat_id is None else chat_id)
        if chat.private and chat.id != user_id:
            raise ValueError("a private chat's id is its user's id")
        replied = self._replied_message(chat, reply_to)
        if chat.private and user_id in self._blocked:
            self.unblock_user(user_id)
        message: Json = {
            "message_id": chat.next_message_id(),
            "date": self._now(),
            "chat": self._chat_object(chat),
            "from": copy.deepcopy(user),
        }
        if replied is not None:
            message["reply_to_message"] = replied
            message_thread_id = message_thread_id or replied.get("message_thread_id")
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
            if chat.is_forum:  # a topic a person opened is one the bot may write to
                chat.topics.setdefault(
                    message_thread_id,
                    {"message_thread_id": message_thread_id, "name": f"Topic {message_thread_id}"},
                )
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = _to_utf16(text, [_entity("bot_command", 0, len(command))])
        if photo is not None:
            stored = self._store_file("photo", UploadedFile("photo.jpg", "image/jpeg", photo))
            message["photo"] = [self._photo_size(stored)]
        if voice is not None:
            stored = self._store_file("voice", UploadedFile("voice.ogg", "audio/ogg", voice))
            message["voice"] = {**self._file_object(stored), "duration": voice_duration}
        if caption is not None:
            message["caption"] = caption
        chat.messages[message["message_id"]] = message
        if chat.private or self._bot_sees(message):
            return self._enqueue("message", message)
        return {"message": copy.deepcopy(message)}

    def group_message(self, chat_id: int, user_id: int, text: str | None = None, **kw: Any) -> Json:
        """A user writes in a group (negative chat_id); same options as ``user_message``."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self.user_message(user_id, text, chat_id=chat_id, **kw)

    def press_button(
        self, user_id: int, message: int | Json, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """A user presses an inline button; returns the callback query id.

        ``message`` is a message dict (e.g. ``call.result``) or a message id in ``chat_id``
        (default: the user's private chat). The message must currently show that button.
        """
        if isinstance(message, dict):
            chat_id = message["chat"]["id"]
            message_id = message["message_id"]
        else:
            chat_id = user_id if chat_id is None else chat_id
            message_id = message
        chat = self._chats.get(chat_id)
        stored = chat.messages.get(message_id) if chat else None
        if stored is None:
            raise ValueError(f"chat {chat_id} has no message {message_id}")
        buttons = _callback_buttons(stored)
        if not any(button["callback_data"] == callback_data for button in buttons):
            shown = [(b["text"], b["callback_data"]) for b in buttons]
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button {callback_data!r}; "
                f"it shows {shown}"
            )
        return self._press(user_id, stored, callback_data)

    def tap(self, user_id: int, label: str, *, chat_id: int | None = None) -> str:
        """Press the button labelled ``label`` on the newest message showing one."""
        chat_id = user_id if chat_id is None else chat_id
        for stored in reversed(self.messages(chat_id)):
            for button in _callback_buttons(stored):
                if button["text"] == label:
                    return self._press(user_id, stored, button["callback_data"])
        raise ValueError(f"no message in chat {chat_id} shows a button labelled {label!r}")

    def block_user(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to their chat fail with 403 until they write again.

        With ``notify`` a my_chat_member update is queued, as Telegram does.
        """
        self._blocked.add(user_id)
        if notify:
            self._enqueue("my_chat_member", self._member_update(user_id, "member", "kicked"))

    def unblock_user(self, user_id: int, *, notify: bool = True) -> None:
        if user_id not in self._blocked:
            return
        self._blocked.discard(user_id)
        if notify:
            self._enqueue("my_chat_member", self._member_update(user_id, "kicked", "member"))

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers: member, administrator, creator, left or kicked."""
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ValueError(f"unsupported status {status!r}")
        self._chat(chat_id).members[user_id] = status

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        disconnect: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (for ``chat_id`` only, if given) with an
        error instead of running them. 429 gets ``parameters.retry_after`` (default 1);
        ``disconnect`` drops the connection without an answer (a network error for the client).
        """
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            _Failure(
                method=method.lower(),
                chat_id=chat_id,
                error_code=error_code,
                description=description or DEFAULT_DESCRIPTIONS.get(error_code, "Bad Request"),
                retry_after=retry_after,
                remaining=times,
                disconnect=disconnect,
            )
        )

    # --- HTTP plumbing -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        canonical, handler = self._methods.get(name.lower(), (name, None))
        params: Json = {}
        failure: _Failure | None = None
        try:
            if self.token is not None and request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await _read_params(request)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            failure = self._take_failure(canonical, params)
            if failure is not None:
                raise ApiError(
                    failure.error_code, failure.description, retry_after=failure.retry_after
                )
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            response: Json = {"ok": True, "result": copy.deepcopy(result)}
            status = 200
        except ApiError as error:
            response, status = error.response(), error.code
        except Exception:
            # An emulator bug: say so in the log and answer like a Telegram outage.
            logger.exception("emulator failed on %s", canonical)
            response, status = ApiError(500, "Internal Server Error").response(), 500
        self._record(Call(canonical, params, response, self._clock()))
        if failure is not None and failure.disconnect and request.transport is not None:
            request.transport.close()  # the answer below goes nowhere: a dropped connection
        return web.json_response(response, status=status)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            raise web.HTTPNotFound
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        # Wake every waiter, then start a fresh event for the next call.
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    def _notify_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _take_failure(self, method: str, params: Json) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method.lower() and failure.chat_id in (
                None,
                params.get("chat_id"),
            ):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _matches(
        call: Call, method: str, chat_id: int | None, predicate: Callable[[Call], bool] | None
    ) -> bool:
        return (
            call.method.lower() == method.lower()
            and (chat_id is None or call.chat_id == chat_id)
            and (predicate is None or predicate(call))
        )

    # --- state helpers -------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _chat(self, chat_id: int) -> _Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = _Chat(chat_id, title=None if chat_id > 0 else f"Group {chat_id}")
        return self._chats[chat_id]

    def _register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Json:
        user = self._users.setdefault(
            user_id,
            {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User {user_id}",
                "language_code": "en",
            },
        )
        given = {
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        user.update({key: value for key, value in given.items() if value is not None})
        return user

    def _chat_object(self, chat: _Chat) -> Json:
        if chat.private:
            user = self._users.get(chat.id, {"first_name": f"User {chat.id}"})
            info = {"id": chat.id, "type": "private", "first_name": user["first_name"]}
            info.update({k: user[k] for k in ("last_name", "username") if k in user})
            return info
        info = {"id": chat.id, "type": "supergroup", "title": chat.title}
        if chat.is_forum:
            info["is_forum"] = True
        return info

    def _enqueue(self, kind: str, payload: Json) -> Json:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: copy.deepcopy(payload)}
        self._updates.append(update)
        self._notify_pollers()
        return copy.deepcopy(update)

    def _bot_sees(self, message: Json) -> bool:
        if not self.privacy_mode:
            return True
        text = message.get("text") or message.get("caption") or ""
        replied = message.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or f"@{self.bot_user['username']}".lower() in text.lower()
            or replied.get("from", {}).get("id") == self.bot_user["id"]
        )

    def _replied_message(self, chat: _Chat, reply_to: int | Json | None) -> Json | None:
        if reply_to is None:
            return None
        message_id = reply_to["message_id"] if isinstance(reply_to, dict) else reply_to
        if message_id not in chat.messages:
            raise ValueError(f"chat {chat.id} has no message {message_id} to reply to")
        replied = copy.deepcopy(chat.messages[message_id])
        replied.pop("reply_to_message", None)  # Telegram does not nest replies further
        return replied

    def _press(self, user_id: int, message: Json, callback_data: str) -> str:
        user = self._register_user(user_id)
        self._last_query_id += 1
        query_id = str(4_000_000_000_000 + self._last_query_id)
        self._queries[query_id] = False
        query = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(message["chat"]["id"]) + 7_000_000),
            "data": callback_data,
        }
        self._enqueue("callback_query", query)
        return query_id

    def _member_update(self, user_id: int, old: str, new: str) -> Json:
        user = self._register_user(user_id)
        bot = copy.deepcopy(self.bot_user)
        old_member: Json = {"status": old, "user": bot}
        new_member: Json = {"status": new, "user": bot}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        return {
            "chat": self._chat_object(self._chat(user_id)),
            "from": copy.deepcopy(user),
            "date": self._now(),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }

    def _store_file(self, kind: str, upload: UploadedFile) -> _StoredFile:
        number = len(self._files) + 1
        extension = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        stored = _StoredFile(
            file_id=f"{kind}-{number:06d}",
            file_unique_id=f"u{number:06d}",
            kind=kind,
            data=upload.data,
            filename=upload.filename,
            mime_type=upload.content_type or "application/octet-stream",
            path=f"{kind}s/file_{number}.{extension}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    @staticmethod
    def _file_object(stored: _StoredFile) -> Json:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }

    def _photo_size(self, stored: _StoredFile) -> Json:
        width, height = _png_size(stored.data) or (800, 600)
        return {**self._file_object(stored), "width": width, "height": height}

    # --- validation helpers --------------------------------------------------------------------

    def _target_chat(self, params: Json, key: str = "chat_id") -> _Chat:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise _bad_request(f"{key} is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id == 0:
            raise _bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        return self._chat(chat_id)

    def _stored_message(self, chat: _Chat, params: Json, missing: str) -> Json:
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        if not isinstance(message_id, int) or message_id not in chat.messages:
            raise _bad_request(missing)
        return chat.messages[message_id]

    def _text(self, params: Json, *, caption: bool = False) -> tuple[str, list[Json]]:
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        raw = params.get(key)
        if raw is None or raw == "":
            if caption:
                return "", []
            raise _bad_request("message text is empty")
        raw = raw if isinstance(raw, str) else json.dumps(raw)
        explicit = params.get(entities_key)
        if explicit:
            if not isinstance(explicit, list):
                raise _bad_request(f"can't parse {entities_key} JSON object")
            text, entities = raw, explicit
        else:
            text, entities = format_text(raw, params.get("parse_mode"))
        if caption:
            if len(text) > CAPTION_LIMIT:
                raise _bad_request("message caption is too long")
        elif not text.strip():
            raise _bad_request("message text is empty")
        elif len(text) > TEXT_LIMIT:
            raise _bad_request("message is too long")
        return text, entities

    def _markup(self, params: Json) -> Json | None:
        """Validate reply_markup; returns it, or None when absent or an empty inline keyboard."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request('field "inline_keyboard" must be an Array of Arrays')
            if sum(len(row) for row in rows) > 100:
                raise _bad_request("reply markup is too long")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return markup if any(rows) else None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request('field "keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str) or not label:
                        raise _bad_request("can't parse keyboard button: Text must be non-empty")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not isinstance(button.get("text"), str):
            raise _bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        actions = [key for key in _BUTTON_ACTIONS if button.get(key) is not None]
        if not actions:
            raise _bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in actions:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in actions:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
                raise _bad_request("BUTTON_URL_INVALID")

    def _new_message(self, chat: _Chat, params: Json, content: Json) -> Json:
        """Store a bot message; validates markup, reply and thread before taking an id."""
        markup = self._markup(params)
        replied = self._reply_target(chat, params)
        thread_id = params.get("message_thread_id")
        if thread_id is None and replied is not None:
            thread_id = replied.get("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise _bad_request("message thread not found")
        message: Json = {
            "message_id": chat.next_message_id(),
            "date": self._now(),
            "chat": self._chat_object(chat),
            "from": copy.deepcopy(self.bot_user),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        self._apply_markup(chat, message, markup)
        chat.messages[message["message_id"]] = message
        return message

    @staticmethod
    def _apply_markup(chat: _Chat, message: Json, markup: Json | None) -> None:
        # Only inline keyboards belong to a message; reply keyboards change the user's input area.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        elif markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _reply_target(self, chat: _Chat, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not isinstance(reply, dict):
            return None
        message_id = reply.get("message_id")
        if message_id in chat.messages:
            replied = copy.deepcopy(chat.messages[message_id])
            replied.pop("reply_to_message", None)
            return replied
        if reply.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")

    def _with_text(self, content: Json, text: str, entities: list[Json], *, caption: bool) -> Json:
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        content.pop(key, None)
        content.pop(entities_key, None)
        if text:
            content[key] = text
        if entities:
            content[entities_key] = entities
        return content

    def _input_file(self, params: Json, key: str) -> _StoredFile:
        value = params.get(key)
        if value is None or value == "":
            raise _bad_request(f"there is no {key} in the request")
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad_request("file must be non-empty")
            return self._store_file(key, value)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or key
            return self._store_file(key, UploadedFile(name, "application/octet-stream", b""))
        raise _bad_request("wrong file identifier/HTTP URL specified")

    # --- methods -------------------------------------------------------------------------------

    @staticmethod
    def _accept(_params: Json) -> bool:
        return True

    def _chat_accept(self, params: Json) -> bool:
        self._target_chat(params)
        return True

    def _get_me(self, _params: Json) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
        }

    def _get_webhook_info(self, _params: Json) -> Json:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if not all(isinstance(v, int) for v in (offset or 0, limit, timeout)):
            raise _bad_request("wrong parameter type")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None
        # A newer poll ends an older one with 409, as when two bot instances run.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_pollers()
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0), 50)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            self._updates = [u for u in self._updates if self._allowed(u)]
            batch = self._updates[: min(max(limit, 1), 100)]
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            self._polls_waiting += 1
            self._poll_waiting.set()
            try:
                async with asyncio.timeout(remaining):
                    await self._updates_changed.wait()
            except TimeoutError:
                pass
            finally:
                self._polls_waiting -= 1
                if not self._polls_waiting:
                    self._poll_waiting.clear()

    def _allowed(self, update: Json) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _send_message(self, params: Json) -> Json:
        chat = self._target_chat(params)
        text, entities = self._text(params)
        content = self._with_text({}, text, entities, caption=False)
        return self._new_message(chat, params, content)

    def _send_file(self, params: Json, key: str) -> Json:
        chat = self._target_chat(params)
        caption, caption_entities = self._text(params, caption=True)
        stored = self._input_file(params, key)
        if key == "photo":
            content: Json = {"photo": [self._photo_size(stored)]}
        elif key == "voice":
            content = {
                "voice": {
                    **self._file_object(stored),
                    "duration": params.get("duration", 1),
                    "mime_type": "audio/ogg",
                }
            }
        else:
            content = {
                key: {
                    **self._file_object(stored),
                    "file_name": stored.filename,
                    "mime_type": stored.mime_type,
                }
            }
        self._with_text(content, caption, caption_entities, caption=True)
        return self._new_message(chat, params, content)

    def _send_photo(self, params: Json) -> Json:
        return self._send_file(params, "photo")

    def _send_document(self, params: Json) -> Json:
        return self._send_file(params, "document")

    def _send_voice(self, params: Json) -> Json:
        return self._send_file(params, "voice")

    def _editable(self, params: Json) -> tuple[_Chat, Json]:
        chat = self._target_chat(params)
        message = self._stored_message(chat, params, "message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat, message

    def _inline_markup(self, params: Json) -> Json | None:
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        return {"inline_keyboard": markup["inline_keyboard"]} if markup else None

    def _edit(self, params: Json, *, caption: bool) -> Json | bool:
        text, entities = self._text(params, caption=caption)
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers true for them
        _chat, message = self._editable(params)
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        if caption and not any(k in message for k in ("photo", "document", "voice")):
            raise _bad_request("there is no caption in the message to edit")
        if not caption and "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        current = (message.get(key, ""), message.get(entities_key, []), message.get("reply_markup"))
        if current == (text, entities, markup):
            raise _bad_request(NOT_MODIFIED)
        self._with_text(message, text, entities, caption=caption)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = self._now()
        return message

    def _edit_message_text(self, params: Json) -> Json | bool:
        return self._edit(params, caption=False)

    def _edit_message_caption(self, params: Json) -> Json | bool:
        return self._edit(params, caption=True)

    def _edit_message_reply_markup(self, params: Json) -> Json | bool:
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        _chat, message = self._editable(params)
        if message.get("reply_markup") == markup:
            raise _bad_request(NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = self._now()
        return message

    def _answer_callback_query(self, params: Json) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        text = params.get("text") or ""
        if self._queries.get(query_id, True):
            raise _bad_request(QUERY_TOO_OLD)
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._queries[query_id] = True
        return True

    def _source_message(self, params: Json, missing: str) -> Json:
        source_id = params.get("from_chat_id")
        source = self._chats.get(source_id) if isinstance(source_id, int) else None
        if source is None:
            raise _bad_request(missing)
        return self._stored_message(source, params, missing)

    @staticmethod
    def _content_of(message: Json) -> Json:
        keys = ("text", "entities", "photo", "document", "voice", "caption", "caption_entities")
        return {key: copy.deepcopy(message[key]) for key in keys if key in message}

    def _forward_message(self, params: Json) -> Json:
        chat = self._target_chat(params)
        source = self._source_message(params, "message to forward not found")
        content = self._content_of(source)
        if source["chat"]["type"] == "private":
            content["forward_origin"] = {
                "type": "user",
                "date": source["date"],
                "sender_user": copy.deepcopy(source["from"]),
            }
        else:
            content["forward_origin"] = {
                "type": "chat",
                "date": source["date"],
                "sender_chat": copy.deepcopy(source["chat"]),
            }
        return self._new_message(chat, {**params, "reply_markup": None}, content)

    def _copy_message(self, params: Json) -> Json:
        chat = self._target_chat(params)
        source = self._source_message(params, "message to copy not found")
        content = self._content_of(source)
        if params.get("caption") is not None and "text" not in content:
            caption, caption_entities = self._text(params, caption=True)
            self._with_text(content, caption, caption_entities, caption=True)
        message = self._new_message(chat, params, content)
        return {"message_id": message["message_id"]}

    def _pin_chat_message(self, params: Json) -> bool:
        chat = self._target_chat(params)
        chat.pinned = self._stored_message(chat, params, "message to pin not found")["message_id"]
        return True

    def _delete_message(self, params: Json) -> bool:
        chat = self._target_chat(params)
        message = self._stored_message(chat, params, "message to delete not found")
        del chat.messages[message["message_id"]]
        if chat.pinned == message["message_id"]:
            chat.pinned = None
        return True

    @staticmethod
    def _commands_key(params: Json) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_key = json.dumps(scope, sort_keys=True) if isinstance(scope, dict) else str(scope)
        return scope_key, str(params.get("language_code") or "")

    def _set_my_commands(self, params: Json) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be non-empty")
        self._commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: Json) -> list[Json]:
        return self._commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: Json) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _get_chat(self, params: Json) -> Json:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id == 0:
            raise _bad_request("chat not found")
        chat = self._chat(chat_id)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **self._chat_object(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {key: True for key in (*gifts, "gifts_from_channels")},
        }

    def _get_chat_member(self, params: Json) -> Json:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id == 0:
            raise _bad_request("chat not found")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        status = self._chat(chat_id).members.get(user_id, "member")
        user = (
            copy.deepcopy(self.bot_user)
            if user_id == self.bot_user["id"]
            else copy.deepcopy(self._register_user(user_id))
        )
        member: Json = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = [
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_send_welcome_messages",
                "can_pin_messages",
                "can_manage_topics",
            ]
            member.update({"can_be_edited": False, "is_anonymous": False})
            member.update(dict.fromkeys(rights, True))
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _create_forum_topic(self, params: Json) -> Json:
        chat = self._target_chat(params)
        if chat.private or not chat.is_forum:
            raise _bad_request("the chat is not a forum")
        name = params.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_NAME_INVALID")
        icon_color = params.get("icon_color", 7322096)
        thread_id = chat.next_message_id()
        topic = {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}
        chat.topics[thread_id] = topic
        # Telegram opens each topic with a service message whose id is the thread id.
        chat.messages[thread_id] = {
            "message_id": thread_id,
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "date": self._now(),
            "chat": self._chat_object(chat),
            "from": copy.deepcopy(self.bot_user),
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        return topic

    def _get_file(self, params: Json) -> Json:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {**self._file_object(stored), "file_path": stored.path}


def main(argv: list[str] | None = None) -> None:
    """Run the emulator standalone: ``python -m telegram_emulator --port 8081``."""
    parser = argparse.ArgumentParser(description="Local Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST", help='"any" accepts every token')
    parser.add_argument("--username", default="survey_test_bot")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    emulator = BotAPIEmulator(
        None if args.token == "any" else args.token, bot_username=args.username
    )
    logger.info("Bot API emulator at http://%s:%s (token %s)", args.host, args.port, args.token)
    web.run_app(emulator.make_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
