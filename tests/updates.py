"""Telegram updates built by hand, for handler tests that feed the real dispatcher."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from aiogram.types import CallbackQuery, Chat, Message, Update, User

# Update, query and (unless a test names one) message ids: unique across the test session.
_ids = itertools.count(1_000_000)


def chat(chat_id: int) -> Chat:
    """A user's private chat for a positive id, a staff supergroup for a negative one."""
    return Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")


def person(user_id: int, name: str = "X", **details: Any) -> User:
    return User(id=user_id, is_bot=False, first_name=name, **details)


def press(
    user: User, data: str, at: datetime, *, chat_id: int | None = None, message_id: int = 1
) -> Update:
    """`user` presses a button with `data` under message `message_id` (in their private chat
    unless `chat_id` names another)."""
    shown_in = chat(user.id if chat_id is None else chat_id)
    message = Message(message_id=message_id, date=at, chat=shown_in, text="q")
    query = CallbackQuery(
        id=str(next(_ids)), from_user=user, chat_instance="ci", message=message, data=data
    )
    return Update(update_id=next(_ids), callback_query=query)


def message(
    user: User,
    text: str | None,
    at: datetime,
    *,
    chat_id: int | None = None,
    message_id: int | None = None,
    reply_to: int | None = None,
    **media: Any,
) -> Update:
    """`user` writes `text` (or sends `media`) in their private chat unless `chat_id` names
    another, as a reply to message `reply_to` when given."""
    written_in = chat(user.id if chat_id is None else chat_id)
    replied = None if reply_to is None else Message(message_id=reply_to, date=at, chat=written_in)
    written = Message(
        message_id=next(_ids) if message_id is None else message_id,
        date=at,
        chat=written_in,
        from_user=user,
        text=text,
        reply_to_message=replied,
        **media,
    )
    return Update(update_id=next(_ids), message=written)
