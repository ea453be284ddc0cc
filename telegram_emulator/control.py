"""The control API under /control/: act as users, shape failures and read chats over HTTP (JSON)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from .control_input import BadInput, ControlError, Fields, NotFound
from .errors import Json
from .media import silent_voice_note
from .state import callback_buttons
from .views import call_view, message_view

if TYPE_CHECKING:
    from .server import BotAPIEmulator

logger = logging.getLogger(__name__)

MEMBER_STATUSES = ("member", "administrator", "creator", "left", "kicked")
MAX_VOICE_SECONDS = 600
Endpoint = Callable[[web.Request], Awaitable[Json]]
_dumps = partial(json.dumps, ensure_ascii=False)  # labels such as "4 🙂" stay readable in curl

ENDPOINTS = [
    "GET /control",
    "POST /control/messages",
    "POST /control/voice",
    "POST /control/press",
    "POST /control/groups",
    "POST /control/groups/{chat_id}/members",
    "POST /control/block",
    "POST /control/unblock",
    "POST /control/failures",
    "GET /control/failures",
    "GET /control/chats",
    "GET /control/chats/{chat_id}/messages",
    "GET /control/calls",
    "GET /control/updates",
    "GET /control/commands",
]


def add_control_routes(app: web.Application, emulator: BotAPIEmulator) -> None:
    """Mount the control API on the emulator's aiohttp application."""
    control = ControlAPI(emulator)
    routes: list[tuple[str, str, Endpoint]] = [
        ("GET", "/control", control.index),
        ("GET", "/control/", control.index),
        ("POST", "/control/messages", control.post_message),
        ("POST", "/control/voice", control.post_voice),
        ("POST", "/control/press", control.press),
        ("POST", "/control/groups", control.add_group),
        ("POST", "/control/groups/{chat_id}/members", control.set_member),
        ("POST", "/control/block", control.block),
        ("POST", "/control/unblock", control.unblock),
        ("POST", "/control/failures", control.add_failure),
        ("GET", "/control/failures", control.failures),
        ("GET", "/control/chats", control.chats),
        ("GET", "/control/chats/{chat_id}/messages", control.chat_messages),
        ("GET", "/control/calls", control.calls),
        ("GET", "/control/updates", control.updates),
        ("GET", "/control/commands", control.commands),
    ]
    for method, path, endpoint in routes:
        app.router.add_route(method, path, json_endpoint(endpoint))
    app.router.add_route("*", "/control/{tail:.*}", json_endpoint(control.unknown))


def json_endpoint(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Answer JSON; bad input is a 400 naming the field, an emulator bug a logged 500."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return web.json_response(await endpoint(request), dumps=_dumps)
        except ControlError as error:
            return web.json_response(error.body(), status=error.status, dumps=_dumps)
        except Exception:
            logger.exception("control API failed on %s %s", request.method, request.path)
            body = {"error": "the emulator failed; its log says why", "field": None}
            return web.json_response(body, status=500, dumps=_dumps)

    return handle


def _find_button(buttons: list[Json], key: str, wanted: str | None) -> Json | None:
    """The button whose label (or callback_data) is ``wanted``; a label may also be its first
    word, so "4" presses "4 🙂" (only when one button on the message starts so)."""
    exact = [b for b in buttons if b[key] == wanted]
    if exact or key != "text":
        return exact[0] if exact else None
    by_word = [b for b in buttons if b["text"].split(maxsplit=1)[:1] == [wanted]]
    return by_word[0] if len(by_word) == 1 else None


class ControlAPI:
    """The endpoints; each reads and checks its whole input before it changes anything."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator

    # --- acting as users --------------------------------------------------------------------

    async def post_message(self, request: web.Request) -> Json:
        fields = await Fields.of_body(request)
        return self._send_as_user(fields, voice_endpoint=False)

    async def post_voice(self, request: web.Request) -> Json:
        fields = await Fields.of_body(request)
        return self._send_as_user(fields, voice_endpoint=True)

    def _send_as_user(self, fields: Fields, *, voice_endpoint: bool) -> Json:
        user_id = fields.required_integer("user_id", minimum=1)
        chat_id = self._chat_for(fields, user_id)
        if voice_endpoint:
            text = None
            duration: int | None = fields.integer(
                "duration", default=1, minimum=1, maximum=MAX_VOICE_SECONDS
            )
            caption = fields.text("caption", max_length=1024)
        else:
            text = fields.text("text")
            voice = fields.nested("voice")
            duration = None
            if voice is not None:
                duration = voice.integer(
                    "duration", default=1, minimum=1, maximum=MAX_VOICE_SECONDS
                )
                voice.done()
            caption = None
        first_name = fields.text("first_name", max_length=64)
        last_name = fields.text("last_name", max_length=64)
        username = fields.text("username", max_length=32)
        language_code = fields.text("language_code", max_length=35)
        reply_to = fields.integer("reply_to_message_id", minimum=1)
        thread_id = fields.integer("message_thread_id", minimum=1)
        fields.done()
        if text is None and duration is None:
            raise BadInput("text", 'required (or "voice": {"duration": 3} for a voice note)')
        if text is not None and duration is not None:
            raise BadInput("voice", "give text or voice, not both")
        if reply_to is not None and not any(
            m["message_id"] == reply_to for m in self.emulator.messages(chat_id)
        ):
            raise NotFound("reply_to_message_id", f"chat {chat_id} has no message {reply_to}")
        update = self.emulator.user_message(
            user_id,
            text,
            chat_id=None if chat_id == user_id else chat_id,
            reply_to=reply_to,
            message_thread_id=thread_id,
            voice=None if duration is None else silent_voice_note(duration),
            voice_duration=duration or 1,
            caption=caption,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        queued = "update_id" in update
        return {
            "queued": queued,
            "update": update if queued else None,
            "message": message_view(update["message"], bot_id=self._bot_id),
        }

    async def press(self, request: web.Request) -> Json:
        fields = await Fields.of_body(request)
        user_id = fields.required_integer("user_id", minimum=1)
        chat_id = self._chat_for(fields, user_id)
        label = fields.text("label", max_length=4096)
        data = fields.text("callback_data", max_length=64)
        message_id = fields.integer("message_id", minimum=1)
        fields.done()
        if (label is None) == (data is None):
            raise BadInput("label", 'give exactly one of "label" and "callback_data"')
        key, wanted = ("text", label) if label is not None else ("callback_data", data)
        field = "label" if label is not None else "callback_data"
        shown = self.emulator.messages(chat_id)
        if message_id is not None:
            shown = [m for m in shown if m["message_id"] == message_id]
            if not shown:
                raise NotFound("message_id", f"chat {chat_id} has no message {message_id}")
        else:
            shown = [m for m in shown if m["from"]["id"] == self._bot_id]
        for message in reversed(shown):
            button = _find_button(callback_buttons(message), key, wanted)
            if button is not None:
                return self._press(user_id, message, button)
        latest = shown[-1] if shown else None
        buttons = [b["text"] for b in callback_buttons(latest)] if latest else []
        where = f"message {message_id}" if message_id is not None else "no bot message"
        raise NotFound(
            field,
            f"{where} in chat {chat_id} shows a button with {field} {wanted!r}; "
            f"the latest shows {buttons}",
        )

    def _press(self, user_id: int, message: Json, button: Json) -> Json:
        query_id = self.emulator.press_button(user_id, message, button["callback_data"])
        update = next(
            u
            for u in reversed(self.emulator.pending_updates)
            if u.get("callback_query", {}).get("id") == query_id
        )
        return {
            "callback_query_id": query_id,
            "message_id": message["message_id"],
            "label": button["text"],
            "callback_data": button["callback_data"],
            "update": update,
        }

    async def add_group(self, request: web.Request) -> Json:
        fields = await Fields.of_body(request)
        chat_id = fields.required_integer("chat_id", maximum=-1)
        title = fields.text("title", max_length=128)
        is_forum = fields.flag("is_forum")
        fields.done()
        self.emulator.add_group(chat_id, title=title, is_forum=is_forum)
        return {"chat": self._chat_summary(chat_id)}

    async def set_member(self, request: web.Request) -> Json:
        chat_id = self._known_chat(request)
        fields = await Fields.of_body(request)
        user_id = fields.required_integer("user_id", minimum=1)
        status = fields.text("status", required=True, choices=MEMBER_STATUSES)
        assert status is not None  # required
        fields.done()
        if chat_id > 0:
            raise BadInput("chat_id", "members belong to groups (negative ids)")
        self.emulator.set_member_status(chat_id, user_id, status)
        return {"chat_id": chat_id, "user_id": user_id, "status": status}

    async def block(self, request: web.Request) -> Json:
        return await self._set_blocked(request, blocked=True)

    async def unblock(self, request: web.Request) -> Json:
        return await self._set_blocked(request, blocked=False)

    async def _set_blocked(self, request: web.Request, *, blocked: bool) -> Json:
        fields = await Fields.of_body(request)
        user_id = fields.required_integer("user_id", minimum=1)
        fields.done()
        if blocked:
            self.emulator.block_user(user_id)
        else:
            self.emulator.unblock_user(user_id)
        return {"user_id": user_id, "blocked": self.emulator.is_blocked(user_id)}

    # --- shaping failures ----------------------------------------------------------------------

    async def add_failure(self, request: web.Request) -> Json:
        fields = await Fields.of_body(request)
        names = {name.lower(): name for name in self.emulator.method_names}
        method = fields.text("method", required=True, max_length=64)
        assert method is not None  # required
        if method.lower() not in names:
            raise BadInput("method", f"unknown Bot API method {method!r}; known: {sorted(names)}")
        error_code = fields.integer("error_code", default=400, minimum=400, maximum=599)
        assert error_code is not None  # has a default
        description = fields.text("description", max_length=1024)
        retry_after = fields.integer("retry_after", minimum=0, maximum=3600)
        times = fields.integer("times", default=1, minimum=1, maximum=10_000)
        assert times is not None  # has a default
        chat_id = fields.integer("chat_id")
        disconnect = fields.flag("disconnect")
        fields.done()
        if chat_id == 0:
            raise BadInput("chat_id", "0 is no chat")
        self.emulator.fail_next(
            names[method.lower()],
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
            disconnect=disconnect,
        )
        return {"failure": self.emulator.pending_failures()[-1]}

    async def failures(self, request: web.Request) -> Json:
        Fields.of_query(request).done()
        return {"failures": self.emulator.pending_failures()}

    # --- reading -------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> Json:
        return {"endpoints": ENDPOINTS, "bot": self.emulator.bot_user}

    async def chats(self, request: web.Request) -> Json:
        Fields.of_query(request).done()
        return {"chats": [self._chat_summary(chat_id) for chat_id in self.emulator.chat_ids()]}

    async def chat_messages(self, request: web.Request) -> Json:
        chat_id = self._known_chat(request)
        Fields.of_query(request).done()
        messages = self.emulator.messages(chat_id)
        return {
            "chat": self._chat_summary(chat_id),
            "messages": [message_view(m, bot_id=self._bot_id) for m in messages],
        }

    async def calls(self, request: web.Request) -> Json:
        fields = Fields.of_query(request)
        method = fields.text("method", max_length=64)
        chat_id = fields.integer("chat_id", from_text=True)
        after = fields.integer("after", default=0, minimum=0, from_text=True)
        fields.done()
        calls = self.emulator.calls
        return {
            "calls": [
                call_view(index, call)
                for index, call in enumerate(calls)
                if index >= (after or 0)
                and (method is None or call.method.lower() == method.lower())
                and (chat_id is None or call.chat_id == chat_id)
            ]
        }

    async def updates(self, request: web.Request) -> Json:
        Fields.of_query(request).done()
        return {"updates": self.emulator.pending_updates}

    async def commands(self, request: web.Request) -> Json:
        Fields.of_query(request).done()
        return {"menus": self.emulator.all_commands()}

    async def unknown(self, request: web.Request) -> Json:
        raise NotFound(
            None,
            f"no control endpoint {request.method} {request.path}; they are: {ENDPOINTS}",
        )

    # --- helpers -------------------------------------------------------------------------------

    @property
    def _bot_id(self) -> int:
        return int(self.emulator.bot_user["id"])

    def _chat_for(self, fields: Fields, user_id: int) -> int:
        """The chat a user acts in: their private chat unless chat_id names a known group."""
        chat_id = fields.integer("chat_id")
        if chat_id is None or chat_id == user_id:
            return user_id
        if chat_id >= 0:
            raise BadInput(
                "chat_id",
                "a private chat's id is its user's id; leave chat_id out or give a group's"
                " negative id",
            )
        if self.emulator.chat_info(chat_id) is None:
            raise NotFound("chat_id", f"no group {chat_id}; create it with POST /control/groups")
        return chat_id

    def _known_chat(self, request: web.Request) -> int:
        raw = request.match_info["chat_id"]
        try:
            chat_id = int(raw)
        except ValueError:
            raise BadInput("chat_id", f"expected an integer, got {raw!r}") from None
        if self.emulator.chat_info(chat_id) is None:
            raise NotFound("chat_id", f"the emulator knows no chat {chat_id}")
        return chat_id

    def _chat_summary(self, chat_id: int) -> Json:
        info = self.emulator.chat_info(chat_id) or {"id": chat_id}
        messages = self.emulator.messages(chat_id)
        summary: Json = {
            **info,
            "message_count": len(messages),
            "last_message_id": messages[-1]["message_id"] if messages else None,
            "pinned_message_id": self.emulator.pinned_message_id(chat_id),
            "reply_keyboard": self.emulator.reply_keyboard(chat_id),
        }
        if chat_id > 0:
            summary["blocked"] = self.emulator.is_blocked(chat_id)
        else:
            summary["members"] = {str(k): v for k, v in self.emulator.members(chat_id).items()}
        return summary
