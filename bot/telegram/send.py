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
    except TelegramBadRequest as exc:
        if "not modified" in exc.message or "not found" in exc.message:
            return True
        logger.info("edit of message %s in %s refused: %s", message_id, chat_id, exc.message)
        return False
    except (TelegramForbiddenError, TelegramNotFound):
        logger.info("edit of message %s in %s: blocked, or chat gone", message_id, chat_id)
        return True
    except (TelegramMigrateToChat, TelegramUnauthorizedError) as exc:
        logger.info("edit of message %s in %s refused: %s", message_id, chat_id, exc.message)
        return False
    except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
        logger.warning("edit of message %s in %s failed: %s", message_id, chat_id, exc)
        return False
    return True


async def delete_message(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete a message; True when it is gone (or was already). Telegram lets a bot delete its
    own group messages only for 48 hours, so False is an expected answer for older ones."""
    try:
        await bot.delete_message(chat_id=chat_id, message_id=message_id)
    except TelegramBadRequest as exc:
        if "not found" in exc.message:
            return True
        logger.info("delete of message %s in %s refused: %s", message_id, chat_id, exc.message)
        return False
    except (TelegramForbiddenError, TelegramNotFound):
        return True  # the chat is gone or the bot was removed: nothing is shown any more
    except (
        TelegramMigrateToChat,
        TelegramUnauthorizedError,
        TelegramNetworkError,
        TelegramServerError,
        TelegramRetryAfter,
    ) as exc:
        logger.warning("delete of message %s in %s failed: %s", message_id, chat_id, exc)
        return False
    return True


@dataclass(frozen=True, slots=True)
class Delivered:
    """Telegram accepted the message."""

    message: Message


@dataclass(frozen=True, slots=True)
class Blocked:
    """The chat blocked the bot (403), the bot was removed, or the chat no longer exists."""

    error: str


@dataclass(frozen=True, slots=True)
class Migrated:
    """The group became a supergroup: the same message belongs in `to_chat_id`."""

    to_chat_id: int
    error: str


@dataclass(frozen=True, slots=True)
class Unauthorized:
    """The bot's token was revoked: no send can work until someone replaces it."""

    error: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """Any other 400: sending the same again fails the same way."""

    error: str


@dataclass(frozen=True, slots=True)
class Transient:
    """A network or server failure (or a 429) the RateLimiter's retries did not get past: the
    same send may work later."""

    error: str


# The outcome of one send. Callers `match` it, ending with `case _: assert_never(sent)` so that
# mypy names any outcome left unhandled; `isinstance(sent, Delivered)` where only success counts.
Sent: TypeAlias = Delivered | Blocked | Migrated | Unauthorized | Rejected | Transient


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
    except TelegramMigrateToChat as exc:
        # A group upgraded to a supergroup: the same message belongs in the new chat.
        logger.debug("chat %s moved to %s", chat_id, exc.migrate_to_chat_id)
        return Migrated(exc.migrate_to_chat_id, exc.message)
    except (TelegramForbiddenError, TelegramNotFound) as exc:
        # Blocked, kicked, or a chat that no longer exists: the callers log what it means.
        logger.debug("chat %s refused a message: %s", chat_id, exc.message)
        return Blocked(exc.message)
    except TelegramUnauthorizedError as exc:
        logger.debug("message to chat %s: token refused: %s", chat_id, exc.message)
        return Unauthorized(f"unauthorized: {exc.message}")
    except TelegramBadRequest as exc:
        logger.debug("message to chat %s rejected: %s", chat_id, exc.message)
        if "chat not found" in exc.message.lower():
            return Blocked(exc.message)
        return Rejected(exc.message)
    except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
        logger.warning("message to chat %s failed: %s", chat_id, exc)
        return Transient(str(exc))
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
