"""A local Telegram Bot API emulator: an aiohttp server that speaks the Bot API as aiogram uses it.

Why it exists: end-to-end tests (and the coming ``survey-bot demo`` sandbox) run the real bot
process against it, so every request goes through aiogram's real session, encoding and error
handling. It imports nothing from the project: only the standard library and aiohttp.

Typical use::

    emulator = BotAPIEmulator()
    base_url = await emulator.start()                       # "http://127.0.0.1:<port>"
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    emulator.user_message(42, "/start")                     # queued for getUpdates
    sent = await emulator.wait_for_call("sendMessage", chat_id=42)
    query_id = emulator.press_button(42, sent.result, "s:5")  # a callback_query update
    await emulator.wait_for_call("answerCallbackQuery",
                                 predicate=lambda c: c.params["callback_query_id"] == query_id)
    await emulator.stop()

Public API (all on ``BotAPIEmulator``):
    ``__init__(token="123456:TEST", *, bot_username="survey_test_bot", bot_name="Survey Test Bot",
    privacy_mode=True, clock=time.time, limits=None)``; ``token=None`` accepts any token;
    ``limits=FloodLimits()`` enforces Telegram's flood limits (429 with retry_after; ``flood``
    counts the refusals).
    Server: ``await start(host="127.0.0.1", port=0) -> base_url``, ``await stop()``,
    ``make_app() -> aiohttp.web.Application``, ``base_url``, ``bot_user``.
    Calls: ``calls: list[Call]``, ``calls_of(method, *, chat_id=None)``,
    ``await wait_for_call(method, *, chat_id=None, predicate=None, timeout=10.0, after=0)``,
    ``await wait_for_poll(timeout=10.0)`` (a getUpdates is waiting: the bot is listening).
    Chat state: ``messages(chat_id)``, ``last_bot_message(chat_id)``, ``reply_keyboard(chat_id)``,
    ``pinned_message_id(chat_id)``, ``file_bytes(file_id)``, ``reactions(chat_id, message_id)``
    (the emoji the bot set with setMessageReaction).
    Updates: ``user_message(user_id, text, ...)``, ``group_message(chat_id, user_id, text, ...)``,
    ``press_button(user_id, message, callback_data, *, chat_id=None) -> query id``,
    ``tap(user_id, label, *, chat_id=None) -> query id``,
    ``add_group(chat_id, *, title=None, is_forum=False)``.
    Failures: ``fail_next(method, *, error_code, description, retry_after, times, chat_id,
    disconnect)``, ``block_user(user_id)``, ``unblock_user(user_id)``,
    ``set_member_status(chat_id, user_id, status)``. Also ``pending_updates``.
    Menus: ``my_commands(scope=None, language_code=None)`` (what getMyCommands answers),
    ``all_commands()`` (every scope and language set).
    Webhook: ``webhook`` (the one the bot set, or None: ``url``, ``secret_token``,
    ``allowed_updates``, ``attempts``).
Events: ``subscribe(listener) -> unsubscribe``; ``listener(kind, data)`` hears every "call",
"update" and "webhook" (an update the bot accepted over its webhook; what a live view builds on).
Package level: ``format_text(text, parse_mode) -> (plain text, entities)`` (raises ``ApiError``),
``Call``, ``UploadedFile``, ``ApiError``; ``cli.main()`` runs ``python -m telegram_emulator``.

The control API (``/control/...`` on the same server: act as a user over HTTP, without Python)
and a walk-through with curl are in ``telegram_emulator/README.md``.

Modules, by concern: ``server`` (the class, HTTP plumbing), ``state`` (chats, users, files,
updates, calls), ``users`` (what users do), ``faults`` (fail_next, blocking), ``limits`` (flood
limits), ``reactions``, ``messages``, ``methods_send``, ``methods_chat``, ``webhook`` (Bot API
methods), ``requests`` (reading parameters), ``errors``, ``entities``, ``parse_html``,
``parse_markdown``, ``formatting`` (parse modes), ``media``, ``control``, ``control_input``,
``views`` (the control API), ``cli``.

Behaviour worth knowing:
- Requests may be form-encoded, multipart (``attach://name`` file parts), JSON or query string;
  JSON-valued fields (reply_markup, entities, ...) may arrive as strings and are decoded.
  ``Call.params`` holds decoded values; uploaded files appear as ``UploadedFile``.
- Texts are parsed like Telegram does (HTML, MarkdownV2, Markdown): stored messages hold the plain
  text plus entities, limits apply after parsing, and bad markup is a 400 "can't parse entities".
  As in Telegram, an ``&`` that starts no known entity is kept literally; a bare ``<`` is an error.
- Editing a text or caption without reply_markup removes the inline keyboard, as in Telegram;
  an edit that changes nothing is a 400 "message is not modified".
- getUpdates is real long polling; a second concurrent getUpdates ends the first with 409.
- setWebhook switches to pushed updates: each is POSTed to the url with the secret header, in
  order, and retried until the bot answers 2xx; getUpdates is then a 409, as in Telegram.
- With ``privacy_mode`` (Telegram's default) a group message reaches the bot only if it is a
  command, a reply to the bot or mentions it; hidden messages are stored but not queued.
- ``press_button`` refuses callback data that the message does not currently show, as a user can
  only press buttons that are there.
"""

from .errors import ApiError
from .formatting import format_text
from .limits import FloodLimits
from .requests import Call, UploadedFile
from .server import BotAPIEmulator

__all__ = ["ApiError", "BotAPIEmulator", "Call", "FloodLimits", "UploadedFile", "format_text"]
