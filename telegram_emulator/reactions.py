"""setMessageReaction: the bot marks a message with an emoji, as in Telegram.

Only the emoji Telegram offers as reactions are accepted (others: 400 REACTION_INVALID); the
reactions a message carries are kept for tests and the control API (``reactions(chat_id,
message_id)``). An empty list removes the bot's reaction.
"""

from __future__ import annotations

from .errors import Json, bad_request
from .messages import MessagesMixin

# Telegram's reaction emoji (ReactionTypeEmoji in the Bot API documentation).
_EMOJI = (
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔"
    " 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄"
    " 😘 💊 🙊 😎 👾 🤷 😡"
)
_JOINED = {  # emoji made of several code points: ❤‍🔥 👨‍💻 🤷‍♂ 🤷‍♀
    "\u2764\u200d\U0001f525",
    "\U0001f468\u200d\U0001f4bb",
    "\U0001f937\u200d\u2642",
    "\U0001f937\u200d\u2640",
}
ALLOWED = frozenset(_EMOJI.split(" ")) | _JOINED


class ReactionMethods(MessagesMixin):
    _reaction_store: dict[tuple[int, int], list[str]]

    def _reactions_of(self) -> dict[tuple[int, int], list[str]]:
        # Kept beside the messages, not in them: a stored message is what getUpdates repeats.
        if not hasattr(self, "_reaction_store"):
            self._reaction_store = {}
        return self._reaction_store

    def _set_message_reaction(self, params: Json) -> bool:
        chat = self._target_chat(params)
        message = self._stored_message(chat, params, "message to react not found")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction types JSON object")
        emoji = []
        for item in reaction:
            if not isinstance(item, dict) or item.get("type") != "emoji":
                raise bad_request("REACTION_INVALID")
            if item.get("emoji") not in ALLOWED:
                raise bad_request("REACTION_INVALID")
            emoji.append(item["emoji"])
        if len(emoji) > 1:
            raise bad_request("REACTIONS_TOO_MANY")
        self._reactions_of()[(chat.id, message["message_id"])] = emoji
        return True

    def reactions(self, chat_id: int, message_id: int) -> list[str]:
        """The emoji the bot set on a message (empty if none)."""
        return list(self._reactions_of().get((chat_id, message_id), []))
