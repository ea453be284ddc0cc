"""JSON views of messages and calls, as the control API (and a live event stream) show them."""

from __future__ import annotations

from typing import Any

from .errors import Json
from .requests import Call, UploadedFile


def button_view(button: Json) -> Json:
    """An inline button: its label plus what pressing it does (callback_data, url, ...)."""
    return {"label": button.get("text"), **{k: v for k, v in button.items() if k != "text"}}


def media_view(message: Json) -> Json | None:
    """The photo, voice note or document a message carries, if any."""
    if message.get("photo"):
        largest = message["photo"][-1]
        return {"kind": "photo", **largest}
    for kind in ("voice", "document"):
        if kind in message:
            return {"kind": kind, **message[kind]}
    return None


def message_view(message: Json, *, bot_id: int) -> Json:
    """A message as a person reading the chat sees it: who wrote it, the text, the buttons."""
    sender = message.get("from") or {}
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    replied = message.get("reply_to_message")
    view: Json = {
        "message_id": message["message_id"],
        "chat_id": message["chat"]["id"],
        "date": message["date"],
        "sender": "bot" if sender.get("id") == bot_id else "user",
        "from": sender,
        "text": message.get("text", message.get("caption")),
        "entities": message.get("entities", message.get("caption_entities", [])),
        "inline_keyboard": [[button_view(button) for button in row] for row in keyboard],
        "edited": "edit_date" in message,
        "edit_date": message.get("edit_date"),
        "reply_to_message_id": replied["message_id"] if replied else None,
        "message_thread_id": message.get("message_thread_id"),
        "media": media_view(message),
    }
    if "forward_origin" in message:
        view["forward_origin"] = message["forward_origin"]
    if "forum_topic_created" in message:
        view["forum_topic_created"] = message["forum_topic_created"]
    return view


def jsonable(value: Any) -> Any:
    """Request parameters with uploaded files described instead of included."""
    if isinstance(value, UploadedFile):
        return {"filename": value.filename, "content_type": value.content_type, "size": value.size}
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def call_view(index: int, call: Call) -> Json:
    """One recorded Bot API call: what the bot asked and what it was answered."""
    return {
        "index": index,
        "method": call.method,
        "chat_id": call.chat_id,
        "params": jsonable(call.params),
        "ok": call.ok,
        "result": call.result,
        "error_code": call.error_code,
        "description": call.description,
        "at": call.at,
    }
