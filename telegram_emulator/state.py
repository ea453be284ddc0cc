"""The emulator's state: chats and messages, users, stored files, queued updates, calls."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import Json
from .media import png_size
from .requests import Call, UploadedFile

logger = logging.getLogger(__name__)

Listener = Callable[[str, Any], None]


@dataclass(slots=True)
class Chat:
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
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    filename: str
    mime_type: str
    path: str


def callback_buttons(message: Json) -> list[Json]:
    markup = message.get("reply_markup") or {}
    return [
        button
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


class EmulatorState:
    """What the emulator knows: the bot, chats, users, files, queued updates and recorded calls.

    The method handlers, the user actions and the control API are mixins or helpers over it.
    """

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
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, Json] = {}
        self._blocked: set[int] = set()
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._last_query_id = 0
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._listeners: list[Listener] = []

    # --- events ------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, data)`` on every event; returns the function that unsubscribes.

        Kinds: "call" (a Bot API request was answered; data is ``Call``) and "update" (an update
        was queued for the bot; data is the update). A live view (server-sent events) builds on
        this; listeners must be quick and must not raise.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, kind: str, data: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, data)
            except Exception:
                logger.exception("an emulator event listener failed on %s", kind)

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

    def chat_ids(self) -> list[int]:
        """Every chat the emulator knows, in the order they appeared."""
        return list(self._chats)

    def chat_info(self, chat_id: int) -> Json | None:
        """The chat as the Bot API describes it (id, type, title or name); None if unknown."""
        chat = self._chats.get(chat_id)
        return self._chat_object(chat) if chat else None

    def members(self, chat_id: int) -> dict[int, str]:
        """Statuses set for a group's members (user id -> member, administrator, ...)."""
        chat = self._chats.get(chat_id)
        return dict(chat.members) if chat else {}

    def is_blocked(self, user_id: int) -> bool:
        """Whether the user has blocked the bot."""
        return user_id in self._blocked

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by the bot."""
        return copy.deepcopy(self._updates)

    # --- bookkeeping ---------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        # Wake every waiter, then start a fresh event for the next call.
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()
        self._publish("call", call)

    def _notify_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

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

    def _chat(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = Chat(chat_id, title=None if chat_id > 0 else f"Group {chat_id}")
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

    def _chat_object(self, chat: Chat) -> Json:
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
        self._publish("update", copy.deepcopy(update))
        return copy.deepcopy(update)

    def _store_file(self, kind: str, upload: UploadedFile) -> StoredFile:
        number = len(self._files) + 1
        extension = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        stored = StoredFile(
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
    def _file_object(stored: StoredFile) -> Json:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }

    def _photo_size(self, stored: StoredFile) -> Json:
        width, height = png_size(stored.data) or (800, 600)
        return {**self._file_object(stored), "width": width, "height": height}
