"""What users do: write in private chats and groups, press buttons, join groups."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .entities import make_entity, to_utf16
from .errors import Json
from .faults import FaultsMixin
from .requests import UploadedFile
from .state import Chat, callback_buttons


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageOptions:
    """What a user's message may carry besides its text (the keywords of `user_message`)."""

    chat_id: int | None = None  # a group's (negative) id; None: the user's private chat
    first_name: str | None = None  # the sender's profile: each field given replaces the known one
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    reply_to: int | Json | None = None  # a message id in that chat, or a message dict
    message_thread_id: int | None = None
    photo: bytes | None = None
    voice: bytes | None = None
    voice_duration: int = 1
    caption: str | None = None


class UsersMixin(FaultsMixin):
    """Updates a test or the control API injects on behalf of users."""

    def add_group(self, chat_id: int, *, title: str | None = None, is_forum: bool = False) -> None:
        """Declare a group (negative id) with a title; forums accept createForumTopic."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._chat(chat_id)
        chat.title = title or chat.title
        chat.is_forum = is_forum

    def user_message(self, user_id: int, text: str | None = None, **options: Any) -> Json:
        """A user sends a message (private chat unless chat_id is given); returns the update.

        ``options`` are the fields of MessageOptions (an unknown one is a TypeError). ``reply_to``
        is a message id in that chat or a message dict. A private message from a user who blocked
        the bot unblocks it, as pressing "Restart" does. A group message hidden by privacy mode is
        stored but not queued; its returned update then has no "update_id".
        """
        opts = MessageOptions(**options)
        if text is None and opts.photo is None and opts.voice is None:
            raise ValueError("a message needs text, a photo or a voice note")
        user = self._register_user(
            user_id, opts.first_name, opts.last_name, opts.username, opts.language_code
        )
        chat = self._chat(user_id if opts.chat_id is None else opts.chat_id)
        if chat.private and chat.id != user_id:
            raise ValueError("a private chat's id is its user's id")
        replied = self._replied_message(chat, opts.reply_to)
        if chat.private and user_id in self._blocked:
            self.unblock_user(user_id)
        message: Json = {
            "message_id": chat.next_message_id(),
            "date": self._now(),
            "chat": self._chat_object(chat),
            "from": copy.deepcopy(user),
        }
        self._place_in_thread(message, chat, replied, opts.message_thread_id)
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = to_utf16(text, [make_entity("bot_command", 0, len(command))])
        self._attach_media(message, opts)
        chat.messages[message["message_id"]] = message
        if chat.private or self._bot_sees(message):
            return self._enqueue("message", message)
        return {"message": copy.deepcopy(message)}

    def _place_in_thread(
        self, message: Json, chat: Chat, replied: Json | None, thread_id: int | None
    ) -> None:
        """A reply, and a message in a topic (a reply stays in the topic of what it answers)."""
        if replied is not None:
            message["reply_to_message"] = replied
            thread_id = thread_id or replied.get("message_thread_id")
        if thread_id is None:
            return
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        if chat.is_forum:  # a topic a person opened is one the bot may write to
            chat.topics.setdefault(
                thread_id, {"message_thread_id": thread_id, "name": f"Topic {thread_id}"}
            )

    def _attach_media(self, message: Json, opts: MessageOptions) -> None:
        if opts.photo is not None:
            stored = self._store_file("photo", UploadedFile("photo.jpg", "image/jpeg", opts.photo))
            message["photo"] = [self._photo_size(stored)]
        if opts.voice is not None:
            stored = self._store_file("voice", UploadedFile("voice.ogg", "audio/ogg", opts.voice))
            message["voice"] = {**self._file_object(stored), "duration": opts.voice_duration}
        if opts.caption is not None:
            message["caption"] = opts.caption

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
        buttons = callback_buttons(stored)
        if not any(button["callback_data"] == callback_data for button in buttons):
            shown = [(b["text"], b["callback_data"]) for b in buttons]
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button {callback_data!r}; "
                f"it shows {shown}"
            )
        return str(self._press(user_id, stored, callback_data)["callback_query"]["id"])

    def tap(self, user_id: int, label: str, *, chat_id: int | None = None) -> str:
        """Press the button labelled ``label`` on the newest message showing one."""
        chat_id = user_id if chat_id is None else chat_id
        for stored in reversed(self.messages(chat_id)):
            for button in callback_buttons(stored):
                if button["text"] == label:
                    update = self._press(user_id, stored, button["callback_data"])
                    return str(update["callback_query"]["id"])
        raise ValueError(f"no message in chat {chat_id} shows a button labelled {label!r}")

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers: member, administrator, creator, left or kicked."""
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ValueError(f"unsupported status {status!r}")
        self._chat(chat_id).members[user_id] = status

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

    def _replied_message(self, chat: Chat, reply_to: int | Json | None) -> Json | None:
        if reply_to is None:
            return None
        message_id = reply_to["message_id"] if isinstance(reply_to, dict) else reply_to
        if message_id not in chat.messages:
            raise ValueError(f"chat {chat.id} has no message {message_id} to reply to")
        replied = copy.deepcopy(chat.messages[message_id])
        replied.pop("reply_to_message", None)  # Telegram does not nest replies further
        return replied

    def _press(self, user_id: int, message: Json, callback_data: str) -> Json:
        """Queue the callback_query update of a press and return it."""
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
        return self._enqueue("callback_query", query)
