"""Checking and storing what the bot sends: chat targets, texts, markup, replies, files."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from .errors import BLOCKED, ApiError, Json, bad_request
from .formatting import format_text
from .requests import UploadedFile
from .state import Chat, EmulatorState, StoredFile

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
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


def _rows(markup: Json, field: str) -> list[list[Any]]:
    """A keyboard's rows of buttons, checked to be an array of arrays."""
    rows = markup[field]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" must be an Array of Arrays')
    return rows


class MessagesMixin(EmulatorState):
    """Validation and storage shared by the Bot API method handlers."""

    def _target_chat(self, params: Json, key: str = "chat_id") -> Chat:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise bad_request(f"{key} is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id == 0:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        chat = self._chat(chat_id)
        self._check_bot_in(chat, sending=True)
        return chat

    def _check_bot_in(self, chat: Chat, *, sending: bool) -> None:
        """A group the bot was removed from answers 403, as in Telegram (reading a group it
        merely left still works, as for a public group; writing does not)."""
        status = chat.members.get(self.bot_user["id"])
        if status == "kicked":
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if status == "left" and sending:
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")

    def _stored_message(self, chat: Chat, params: Json, missing: str) -> Json:
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not isinstance(message_id, int) or message_id not in chat.messages:
            raise bad_request(missing)
        return chat.messages[message_id]

    def _text(self, params: Json, *, caption: bool = False) -> tuple[str, list[Json]]:
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        raw = params.get(key)
        if raw is None or raw == "":
            if caption:
                return "", []
            raise bad_request("message text is empty")
        raw = raw if isinstance(raw, str) else json.dumps(raw)
        explicit = params.get(entities_key)
        if explicit:
            if not isinstance(explicit, list):
                raise bad_request(f"can't parse {entities_key} JSON object")
            text, entities = raw, explicit
        else:
            text, entities = format_text(raw, params.get("parse_mode"))
        if caption:
            if len(text) > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
        elif not text.strip():
            raise bad_request("message text is empty")
        elif len(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        return text, entities

    def _markup(self, params: Json) -> Json | None:
        """Validate reply_markup; returns it, or None when absent or an empty inline keyboard."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = _rows(markup, "inline_keyboard")
            if sum(len(row) for row in rows) > 100:
                raise bad_request("reply markup is too long")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return markup if any(rows) else None
        if "keyboard" in markup:
            for row in _rows(markup, "keyboard"):
                for button in row:
                    self._check_reply_button(button)
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_reply_button(button: Any) -> None:
        label = button.get("text") if isinstance(button, dict) else button
        if not isinstance(label, str) or not label:
            raise bad_request("can't parse keyboard button: Text must be non-empty")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        actions = [key for key in _BUTTON_ACTIONS if button.get(key) is not None]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in actions:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in actions:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
                raise bad_request("BUTTON_URL_INVALID")

    def _new_message(self, chat: Chat, params: Json, content: Json) -> Json:
        """Store a bot message; validates markup, reply and thread before taking an id."""
        markup = self._markup(params)
        replied = self._reply_target(chat, params)
        thread_id = params.get("message_thread_id")
        if thread_id is None and replied is not None:
            thread_id = replied.get("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise bad_request("message thread not found")
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
    def _apply_markup(chat: Chat, message: Json, markup: Json | None) -> None:
        # Only inline keyboards belong to a message; reply keyboards change the user's input area.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        elif markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _reply_target(self, chat: Chat, params: Json) -> Json | None:
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
        raise bad_request("message to be replied not found")

    def _with_text(self, content: Json, text: str, entities: list[Json], *, caption: bool) -> Json:
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        content.pop(key, None)
        content.pop(entities_key, None)
        if text:
            content[key] = text
        if entities:
            content[entities_key] = entities
        return content

    def _input_file(self, params: Json, key: str) -> StoredFile:
        value = params.get(key)
        if value is None or value == "":
            raise bad_request(f"there is no {key} in the request")
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            return self._store_file(key, value)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or key
            return self._store_file(key, UploadedFile(name, "application/octet-stream", b""))
        raise bad_request("wrong file identifier/HTTP URL specified")
