"""Bot API methods that send, edit, answer, forward, copy, pin and delete messages."""

from __future__ import annotations

import copy

from .errors import NOT_MODIFIED, QUERY_TOO_OLD, Json, bad_request
from .messages import MessagesMixin
from .state import Chat

CALLBACK_ANSWER_LIMIT = 200


class SendMethods(MessagesMixin):
    """Handlers of the methods that change what a chat shows."""

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

    def _editable(self, params: Json) -> tuple[Chat, Json]:
        chat = self._target_chat(params)
        message = self._stored_message(chat, params, "message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return chat, message

    def _inline_markup(self, params: Json) -> Json | None:
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return {"inline_keyboard": markup["inline_keyboard"]} if markup else None

    def _edit(self, params: Json, *, caption: bool) -> Json | bool:
        text, entities = self._text(params, caption=caption)
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers true for them
        _chat, message = self._editable(params)
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        if caption and not any(k in message for k in ("photo", "document", "voice")):
            raise bad_request("there is no caption in the message to edit")
        if not caption and "text" not in message:
            raise bad_request("there is no text in the message to edit")
        current = (message.get(key, ""), message.get(entities_key, []), message.get("reply_markup"))
        if current == (text, entities, markup):
            raise bad_request(NOT_MODIFIED)
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
            raise bad_request(NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = self._now()
        return message

    def _answer_callback_query(self, params: Json) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        text = params.get("text") or ""
        if self._queries.get(query_id, True):
            raise bad_request(QUERY_TOO_OLD)
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        self._queries[query_id] = True
        return True

    def _source_message(self, params: Json, missing: str) -> Json:
        source_id = params.get("from_chat_id")
        source = self._chats.get(source_id) if isinstance(source_id, int) else None
        if source is None:
            raise bad_request(missing)
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
