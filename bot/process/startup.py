"""Start-up checks: the token, the staff chat and the port, each failing with one clear line."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.config import Config

logger = logging.getLogger(__name__)

# A check that gets no answer in this time fails: start-up must not hang on a dead network.
CHECK_TIMEOUT = 15.0
NOT_A_MEMBER = frozenset({"left", "kicked"})


class StartupError(Exception):
    """Why the bot cannot start, in one line that names the setting to fix."""


@dataclass(frozen=True, slots=True)
class TelegramChecked:
    """What the online checks found: the bot's username and the staff chat as Telegram sees it."""

    username: str
    staff_chat: str | None  # "Support (-100123), bot is administrator"; None without a staff chat
    bot_username: str | None = None  # without the @, for t.me deep links


async def check_telegram(config: Config) -> TelegramChecked:
    """getMe (the token), then getChat and getChatMember (the staff chat and the bot's place in it).

    Uses its own session without the rate limiter's retries, so a dead network or a wrong token
    is reported at once instead of being retried.
    """
    tg = config.telegram
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.api_base), timeout=CHECK_TIMEOUT)
    bot = Bot(tg.token, session=session)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT * 2):
            return await _check(bot, config)
    except TimeoutError:
        raise StartupError(
            f"Telegram could not be reached at {tg.api_base}: no answer within "
            f"{CHECK_TIMEOUT * 2:.0f}s (telegram.api_base)"
        ) from None
    finally:
        await session.close()


async def _check(bot: Bot, config: Config) -> TelegramChecked:
    tg = config.telegram
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(
            "telegram.token: Telegram refused the token (401 Unauthorized); copy it again from "
            "@BotFather"
        ) from None
    except (TelegramNetworkError, TelegramServerError, OSError) as exc:
        raise StartupError(
            f"Telegram could not be reached at {tg.api_base} (telegram.api_base): {_short(exc)}"
        ) from None
    except TelegramAPIError as exc:
        raise StartupError(f"telegram.token: getMe failed: {_short(exc)}") from None
    username = f"@{me.username}" if me.username else str(me.id)
    if tg.staff_chat_id is None:
        return TelegramChecked(username, None, me.username)
    chat_id = tg.staff_chat_id
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, me.id)
    except (TelegramNetworkError, TelegramServerError, OSError) as exc:
        raise StartupError(
            f"Telegram could not be reached at {tg.api_base} (telegram.api_base): {_short(exc)}"
        ) from None
    except TelegramAPIError as exc:
        raise StartupError(
            f"telegram.staff_chat_id: the bot {username} cannot reach chat {chat_id} "
            f"({_short(exc)}); add the bot to the staff group or correct the id"
        ) from None
    status = str(member.status)
    if status in NOT_A_MEMBER or getattr(member, "is_member", True) is False:
        raise StartupError(
            f"telegram.staff_chat_id: the bot {username} is not a member of chat {chat_id} "
            f"(status: {status}); add the bot to the staff group"
        )
    title = chat.title or str(chat_id)
    return TelegramChecked(username, f"{title} ({chat_id}), bot is {status}", me.username)


def _short(exc: BaseException) -> str:
    """An exception as a short single line: its message, never a traceback."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:200]


def bind_port(host: str, port: int) -> socket.socket:
    """Take [api] host:port before anything else starts, or fail with one line naming it."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartupError(f"api.host: cannot listen on {host!r} ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does on Unix
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"api.port: port {port} on {host} is already in use (another survey-bot or "
                "program listens there); stop it or choose another [api] port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise StartupError(f"api.host: cannot listen on {host!r} ({exc.strerror})") from None
        raise StartupError(f"api.port: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.setblocking(False)
    return sock
