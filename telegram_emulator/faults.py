"""Fault injection and limits a user imposes: ``fail_next``, blocking and unblocking the bot."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .errors import DEFAULT_DESCRIPTIONS, Json
from .state import EmulatorState


@dataclass(slots=True)
class Failure:
    method: str  # lower case
    chat_id: int | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    disconnect: bool
    migrate_to_chat_id: int | None = None


class FaultsMixin(EmulatorState):
    """Failures to answer instead of running a method, and users who blocked the bot."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures: list[Failure] = []

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
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (for ``chat_id`` only, if given) with an
        error instead of running them. 429 gets ``parameters.retry_after`` (default 1);
        ``disconnect`` drops the connection without an answer (a network error for the client);
        ``migrate_to_chat_id`` answers as Telegram does for a group upgraded to that supergroup.
        """
        if migrate_to_chat_id is not None:
            description = description or "Bad Request: group chat was upgraded to a supergroup chat"
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            Failure(
                method=method.lower(),
                chat_id=chat_id,
                error_code=error_code,
                description=description or DEFAULT_DESCRIPTIONS.get(error_code, "Bad Request"),
                retry_after=retry_after,
                remaining=times,
                disconnect=disconnect,
                migrate_to_chat_id=migrate_to_chat_id,
            )
        )

    def pending_failures(self) -> list[Json]:
        """Failures injected by ``fail_next`` and not used up yet."""
        return [
            {
                "method": failure.method,
                "chat_id": failure.chat_id,
                "error_code": failure.error_code,
                "description": failure.description,
                "retry_after": failure.retry_after,
                "times": failure.remaining,
                "disconnect": failure.disconnect,
                "migrate_to_chat_id": failure.migrate_to_chat_id,
            }
            for failure in self._failures
        ]

    def _take_failure(self, method: str, params: Json) -> Failure | None:
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
