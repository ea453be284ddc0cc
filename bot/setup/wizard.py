"""`survey-bot init`: a config.toml without hunting for ids.

It asks for the token (or takes `--token`), checks it with getMe, writes config.toml from
config.example.toml (comments kept) with a fresh `[api] token`, and prints a one-time code. Then
it reads the bot's updates itself until the staff group and a manager have sent `/claim <code>`,
records them in the file and says what it did. With `--no-wait` (or after Ctrl-C) the running bot
accepts the same code until it expires. Run again on an existing config to add a manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramConflictError, TelegramUnauthorizedError
from aiogram.types import Message, User

from bot.config import ENV_TOKEN, ConfigError, load_config
from bot.setup import claims, config_file
from bot.views.texts import language_of, t

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
POLL_SECONDS = 20
CHECK_TIMEOUT = 15.0


class SetupError(Exception):
    """Why init cannot go on, in one line."""


@dataclass(frozen=True, slots=True)
class InitOptions:
    config: Path
    token: str | None = None
    api_base: str | None = None
    interactive: bool = True
    wait: bool = True
    example: Path = EXAMPLE


def _now() -> datetime:
    return datetime.now(UTC)


async def init(
    options: InitOptions,
    env: Mapping[str, str],
    out: TextIO,
    ask: Callable[[str], str] = input,
    clock: Callable[[], datetime] = _now,
) -> int:
    """The whole of `survey-bot init`; returns the exit code. Raises SetupError (one line)."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    path = options.config
    token, api_base, me = await _token_and_bot(options, env, say, ask)
    if not path.exists():
        from_env = options.token is None and bool(env.get(ENV_TOKEN))
        text = config_file.initial_config(
            options.example.read_text(encoding="utf-8"),
            token="" if from_env else token,  # a token kept in the environment stays there
            api_base=api_base,
            api_token=secrets.token_urlsafe(32),
        )
        try:
            config_file.write(path, text, {**env, ENV_TOKEN: token})
        except (OSError, ConfigError) as exc:
            raise SetupError(f"cannot write {path}: {exc}") from None
        say(f"Wrote {path} (from {options.example.name}; a new [api] token; alerts off until")
        say("a staff group is claimed). Edit it any time: every comment is kept.")
    else:
        say(f"{path} exists: keeping it; a new code adds a manager or changes the staff group.")
    code = claims.issue(path, clock())
    until = (clock() + claims.CODE_TTL).strftime("%H:%M UTC")
    say("")
    say(f"Your one-time code: {code}  (valid until {until})")
    say(f"1. Add @{me.username} to your support group and send there:  /claim {code}")
    say(f"   (with other bots in the group: /claim@{me.username} {code})")
    say(f"2. Then send /claim {code} to @{me.username} in a private chat to become a manager.")
    if not options.wait:
        say("Not waiting (--no-wait): the running bot (survey-bot run) accepts the code too.")
        return 0
    say("Waiting for both claims (Ctrl-C stops waiting; the running bot then accepts the code)...")
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base), timeout=CHECK_TIMEOUT)
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        return await _wait_for_claims(_Claiming(bot, me, path, env, say, clock))
    finally:
        await session.close()


async def _token_and_bot(
    options: InitOptions,
    env: Mapping[str, str],
    say: Callable[[str], None],
    ask: Callable[[str], str],
) -> tuple[str, str, User]:
    """The token and API base to use, and who the token belongs to (getMe)."""
    path = options.config
    if path.exists():
        if options.token is not None:
            raise SetupError(
                f"{path} exists and has its own token: leave out --token, or use another --config"
            )
        try:
            config = load_config(path, env)
        except ConfigError as exc:
            raise SetupError(f"{path}: {exc}") from None
        api_base = options.api_base or config.telegram.api_base
        return config.telegram.token, api_base, await get_me(config.telegram.token, api_base)
    api_base = (options.api_base or "https://api.telegram.org").rstrip("/")
    token: str | None = options.token or env.get(ENV_TOKEN)
    for attempt in range(3):
        if not token:
            if not options.interactive:
                raise SetupError(f"no token: pass --token or set {ENV_TOKEN}")
            token = ask("Bot token from @BotFather (looks like 123456:ABC...): ").strip()
        try:
            me = await get_me(token, api_base)
        except SetupError as exc:
            if not options.interactive or attempt == 2:
                raise
            say(str(exc))
            token = None
            continue
        say(f"Token ok: @{me.username} ({me.first_name}).")
        return token, api_base, me
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def get_me(token: str, api_base: str) -> User:
    """getMe, with the one-line reason when it fails."""
    if ":" not in token:
        raise SetupError("that is not a bot token: it looks like 123456:ABC..., as BotFather gives")
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base), timeout=CHECK_TIMEOUT)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT * 2):
            return await Bot(token, session=session).get_me()
    except TelegramUnauthorizedError:
        raise SetupError("Telegram refused the token (401 Unauthorized)") from None
    except (TelegramAPIError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise SetupError(f"Telegram could not be reached at {api_base}: {reason}") from None
    finally:
        await session.close()


@dataclass(frozen=True, slots=True)
class _Claiming:
    """What answering the claims works with: the bot, the config file they are written to, and
    the terminal's line printer."""

    bot: Bot
    me: User
    path: Path
    env: Mapping[str, str]
    say: Callable[[str], None]
    clock: Callable[[], datetime]


async def _wait_for_claims(claiming: _Claiming) -> int:
    """Answer /claim and /id from the bot's updates until both roles are claimed."""
    bot, path, say, clock = claiming.bot, claiming.path, claiming.say, claiming.clock
    offset: int | None = None
    try:
        while True:
            done = claims.pending(path, clock())
            if done is None:
                if not claims.claim_file(path).exists():
                    break  # both claimed: the code is spent
                say("The code expired before both claims. Run survey-bot init again.")
                return 1
            updates = await bot.get_updates(
                offset=offset,
                timeout=POLL_SECONDS,
                allowed_updates=["message"],
                request_timeout=POLL_SECONDS + int(CHECK_TIMEOUT),
            )
            for update in updates:
                offset = update.update_id + 1
                if update.message is not None:
                    await _on_message(claiming, update.message)
    except TelegramConflictError:
        say("Another program reads this bot's updates (a running survey-bot?): send the /claim")
        say("there; it records the claims the same way.")
        return 0
    finally:
        if offset is not None:  # confirm what was read, so the bot does not answer it again
            with contextlib.suppress(TelegramAPIError, OSError):
                await bot.get_updates(offset=offset, timeout=0)
    config = load_config(path, claiming.env)
    say("")
    say(
        f"Done: {path} has staff_chat_id = {config.telegram.staff_chat_id} and "
        f"manager_ids = {list(config.telegram.manager_ids)}."
    )
    say(f"Start the bot:  survey-bot run --config {path}")
    return 0


async def _on_message(claiming: _Claiming, message: Message) -> None:
    bot, me, path, say = claiming.bot, claiming.me, claiming.path, claiming.say
    user, text = message.from_user, (message.text or "").strip()
    if user is None or not text.startswith("/"):
        return
    command, _, args = text.partition(" ")
    name, _, mention = command[1:].partition("@")
    if mention and mention.lower() != (me.username or "").lower():
        return  # a command for another bot in the group
    lang = language_of(user.language_code)
    if name.lower() == "id":
        await bot.send_message(
            message.chat.id, t(lang, "id", chat_id=message.chat.id, user_id=user.id)
        )
        return
    if name.lower() != "claim":
        return
    if not args.strip():
        await bot.send_message(message.chat.id, t(lang, "claim.usage"))
        return
    claimed = claims.redeem(
        path,
        args.strip(),
        chat_id=message.chat.id,
        chat_type=message.chat.type,
        user_id=user.id,
        now=claiming.clock(),
        env=claiming.env,
    )
    who = f"@{user.username}" if user.username else user.full_name
    if claimed.outcome is claims.Outcome.STAFF_CHAT:
        title = message.chat.title or message.chat.id
        say(f"Staff chat: {title} ({message.chat.id}) -> [telegram] staff_chat_id; alerts on.")
    elif claimed.outcome is claims.Outcome.MANAGER:
        say(f"Manager: {who} ({user.id}) -> [telegram] manager_ids.")
    else:
        say(f"/claim from {who} ({user.id}) in chat {message.chat.id}: {claimed.outcome}")
    reply = claims.reply(claimed, message.chat.id, user.id, lang, running=False)
    try:
        await bot.send_message(message.chat.id, reply)
    except TelegramAPIError as exc:  # the claim is recorded; the answer is a courtesy
        say(f"(could not answer in chat {message.chat.id}: {exc})")
