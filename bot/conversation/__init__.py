"""The customer's side of a survey: a press, a message or a recheck in, a typed outcome out
(the outcomes are in bot.conversation.outcomes)."""

from bot.conversation.service import Conversation, Signals

__all__ = ["Conversation", "Signals"]
