"""People writing to the bot: updates made by the emulator, fed through the real dispatcher, and
what the bot answered read back from the emulator's chats."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from telegram_emulator import BotAPIEmulator


class Chats:
    def __init__(self, emulator: BotAPIEmulator, bot: Bot, dp: Dispatcher) -> None:
        self.emulator, self.bot, self.dp = emulator, bot, dp

    async def say(
        self, user_id: int, text: str, *, chat_id: int | None = None, **user: Any
    ) -> list[str]:
        """`user_id` writes `text` (in their private chat, or in group `chat_id`); returns the
        texts the bot sent in answer, in order."""
        before = len(self.emulator.calls)
        if chat_id is None:
            raw = self.emulator.user_message(user_id, text, **user)
        else:
            raw = self.emulator.group_message(chat_id, user_id, text, **user)
        assert "update_id" in raw, "the emulator did not deliver the message to the bot"
        update = Update.model_validate(raw, context={"bot": self.bot})
        await self.dp.feed_update(self.bot, update)
        return [
            str(call.params.get("text"))
            for call in self.emulator.calls[before:]
            if call.method == "sendMessage" and call.ok
        ]

    def shown(self, chat_id: int) -> list[str]:
        """The texts the chat shows now, oldest first."""
        return [m.get("text", "") for m in self.emulator.messages(chat_id)]
