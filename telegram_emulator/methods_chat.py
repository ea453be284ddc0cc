"""Bot API methods about the bot and chats: getMe, getUpdates, commands, members, files."""

from __future__ import annotations

import asyncio
import copy
import json
import re

from .errors import POLL_CONFLICT, ApiError, Json, bad_request
from .messages import MessagesMixin

# What Telegram sends when allowed_updates is empty or was never set.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class ChatMethods(MessagesMixin):
    """Handlers of getUpdates and the methods that read or set bot and chat settings."""

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

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if not all(isinstance(v, int) for v in (offset or 0, limit, timeout)):
            raise bad_request("wrong parameter type")
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

    @staticmethod
    def _commands_key(params: Json) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_key = json.dumps(scope, sort_keys=True) if isinstance(scope, dict) else str(scope)
        return scope_key, str(params.get("language_code") or "")

    def _set_my_commands(self, params: Json) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self._commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: Json) -> list[Json]:
        return self._commands.get(self._commands_key(params), [])

    def my_commands(
        self, scope: Json | None = None, language_code: str | None = None
    ) -> list[Json]:
        """The menu the bot set for a scope (default: {"type": "default"}) and language."""
        key = self._commands_key({"scope": scope, "language_code": language_code})
        return copy.deepcopy(self._commands.get(key, []))

    def all_commands(self) -> list[Json]:
        """Every menu the bot set: scope, language_code ("" = any) and commands."""
        return [
            {"scope": json.loads(scope), "language_code": lang, "commands": copy.deepcopy(cmds)}
            for (scope, lang), cmds in sorted(self._commands.items())
        ]

    def _delete_my_commands(self, params: Json) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _get_chat(self, params: Json) -> Json:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id == 0:
            raise bad_request("chat not found")
        chat = self._chat(chat_id)
        self._check_bot_in(chat, sending=False)
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
            raise bad_request("chat not found")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
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
            raise bad_request("the chat is not a forum")
        name = params.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID")
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
            raise bad_request("invalid file_id")
        return {**self._file_object(stored), "file_path": stored.path}
