"""Send and edit, turning Telegram's errors into results every caller must handle.

This is the one place that interprets Telegram's send errors; what reaches it was already
retried by the RateLimiter, so every error here is final for this attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeAlias

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReactionTypeEmoji, ReplyParameters

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivered:
    """Telegram accepted the message."""

    message: Message


@dataclass(frozen=True, slots=True)
class Failure:
    """Telegram did not take it; `error` is why, as Telegram said it."""

    error: str


class Blocked(Failure):
    """The chat blocked the bot (403), the bot was removed, or the chat no longer exists."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Migrated(Failure):
    """The group became a supergroup: the same message belongs in `to_chat_id`."""

    to_chat_id: int


class Unauthorized(Failure):
    """The bot's token was revoked: no send can work until someone replaces it."""

    __slots__ = ()


class Rejected(Failure):
    """Any other 400: sending the same again fails the same way."""

    __slots__ = ()


class Transient(Failure):
    """A network or server failure (or a 429) the RateLimiter's retries did not get past: the
    same send may work later."""

    __slots__ = ()


# The outcome of one send. Callers `match` it, ending with `case _: assert_never(sent)` so that
# mypy names any outcome left unhandled; `isinstance(sent, Delivered)` where only success counts.
Sent: TypeAlias = Delivered | Blocked | Migrated | Unauthorized | Rejected | Transient

# The errors that end an attempt (what reaches here was already retried by the RateLimiter); a
# 409 conflict is a second poller, not a send's, and is left to raise.
_FINAL = (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramMigrateToChat,
    TelegramUnauthorizedError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
)


def failure(exc: TelegramAPIError) -> Blocked | Migrated | Unauthorized | Rejected | Transient:
    """What one of the `_FINAL` errors means for the chat: send, edit and delete all read it so."""
    if isinstance(exc, TelegramMigrateToChat):
        return Migrated(exc.message, exc.migrate_to_chat_id)
    if isinstance(exc, TelegramForbiddenError | TelegramNotFound):
        return Blocked(exc.message)  # blocked, kicked, or a chat that no longer exists
    if isinstance(exc, TelegramUnauthorizedError):
        return Unauthorized(f"unauthorized: {exc.message}")
    if isinstance(exc, TelegramBadRequest):
        if "chat not found" in exc.message.lower():
            return Blocked(exc.message)
        return Rejected(exc.message)
    return Transient(str(exc))


async def edit_message(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str | None,
    keyboard: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a message, treating "not modified", "not found" and a blocked chat as done.

    True when the message now shows what was asked (or is gone, so nothing is left to change);
    False when Telegram refused or could not be reached, so the edit may be worth trying again.
    """
    try:
        if text is None:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
        else:
            await bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
    except _FINAL as exc:
        return _settled("edit", chat_id, message_id, failure(exc), ("not modified", "not found"))
    return True


async def delete_message(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete a message; True when it is gone (or was already). Telegram lets a bot delete its
    own group messages only for 48 hours, so False is an expected answer for older ones."""
    try:
        await bot.delete_message(chat_id=chat_id, message_id=message_id)
    except _FINAL as exc:
        return _settled("delete", chat_id, message_id, failure(exc), ("not found",))
    return True


def _settled(
    action: str, chat_id: int, message_id: int, failed: Failure, done: tuple[str, ...]
) -> bool:
    """Whether a failed edit or delete leaves nothing to do: the chat is gone or blocked the bot,
    or Telegram's 400 says one of `done` ("not modified": it shows that already)."""
    if isinstance(failed, Blocked):
        logger.info("%s of message %s in %s: blocked, or chat gone", action, message_id, chat_id)
        return True
    if isinstance(failed, Rejected):
        if any(reason in failed.error for reason in done):
            return True
        logger.info("%s of message %s in %s refused: %s", action, message_id, chat_id, failed.error)
    else:
        logger.warning(
            "%s of message %s in %s failed: %s", action, message_id, chat_id, failed.error
        )
    return False


_MEDIA_SENDERS = {
    "voice": ("send_voice", "voice"),
    "photo": ("send_photo", "photo"),
    "video_note": ("send_video_note", "video_note"),
    "video": ("send_video", "video"),
}


async def send(
    bot: Bot,
    chat_id: int,
    text: str | None = None,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    reply_to: int | None = None,
    media: tuple[str, str] | None = None,
) -> Sent:
    """Send text, or media by its Telegram file id ((kind, file_id)), turning errors into data.

    A 429 or a network error was already retried by the RateLimiter; what reaches here is final.
    """
    reply = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    )
    try:
        if media is not None:
            method, field = _MEDIA_SENDERS[media[0]]
            message = await getattr(bot, method)(
                chat_id=chat_id, reply_parameters=reply, **{field: media[1]}
            )
        elif text is not None:
            message = await bot.send_message(
                chat_id=chat_id, text=text, reply_markup=keyboard, reply_parameters=reply
            )
        else:
            raise TypeError("send() needs a text or media")
    except _FINAL as exc:
        failed = failure(exc)
        if isinstance(failed, Transient):
            logger.warning("message to chat %s failed: %s", chat_id, failed.error)
        else:  # the callers log what it means
            logger.debug("message to chat %s: %r", chat_id, failed)
        return failed
    return Delivered(message)


async def react(bot: Bot, chat_id: int, message_id: int, emoji: str) -> bool:
    """Set the bot's reaction on a message (👍, 👎: Telegram allows only its reaction emoji).

    A reaction is a courtesy: any refusal is logged and reported as False, never raised.
    """
    try:
        await bot.set_message_reaction(
            chat_id=chat_id, message_id=message_id, reaction=[ReactionTypeEmoji(emoji=emoji)]
        )
    except TelegramAPIError as exc:  # every Telegram error, network ones included
        logger.info("reaction on message %s in %s refused: %s", message_id, chat_id, exc)
        return False
    return True
