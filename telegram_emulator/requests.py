"""Reading Bot API requests: form, multipart, JSON or query parameters and attached files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import Json, bad_request

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


def _normalize(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if key == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise bad_request(f"can't parse {key} JSON object") from None
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
            raise bad_request("wrong file identifier/HTTP URL specified")
        used.add(name)
        return files[name]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, files, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_attachments(v, files, used) for v in value]
    return value


async def read_params(request: web.Request) -> Json:
    raw: Json = dict(request.query.items())
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
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
