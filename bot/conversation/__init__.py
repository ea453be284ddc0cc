"""The customer's side of a survey: a press, a message or a recheck in, a typed outcome out."""

from bot.conversation.outcomes import (
    AskedAgain,
    FollowupSaved,
    LateComment,
    Notice,
    Outcome,
    Refused,
    Relayed,
    ScoreSaved,
    Unrouted,
)
from bot.conversation.service import Conversation, Signals

__all__ = [
    "AskedAgain",
    "Conversation",
    "FollowupSaved",
    "LateComment",
    "Notice",
    "Outcome",
    "Refused",
    "Relayed",
    "ScoreSaved",
    "Signals",
    "Unrouted",
]
