"""The demo page's server: the static page, the three chats as JSON, live updates (server-sent
events) and what you do in them (write, press, ask for a survey)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from telegram_emulator import BotAPIEmulator, Call
from telegram_emulator.views import message_view

from .world import NAMES, Chats

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
STATIC = resources.files("demo") / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


class DemoPage:
    def __init__(
        self,
        emulator: BotAPIEmulator,
        chats: Chats,
        survey_me: Callable[[], Awaitable[int]],
    ) -> None:
        self._emulator, self._chats, self._survey_me = emulator, chats, survey_me
        self._clients: set[asyncio.Queue[str]] = set()
        self._toasts: dict[str, str] = {}  # callback query id -> chat key, for the notice
        self._unsubscribe = emulator.subscribe(self._on_event)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self.index)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/api/chats", self.all_chats)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/api/files/{file_id}", self.file)
        app.router.add_post("/api/send", self.send)
        app.router.add_post("/api/press", self.press)
        app.router.add_post("/api/survey-me", self.survey_me)
        app.on_shutdown.append(self._on_shutdown)
        return app

    # --- reading ---------------------------------------------------------------------------

    def chat_json(self, key: str) -> dict[str, Any]:
        chat_id = self._chats.by_key()[key]
        bot_id = self._emulator.bot_user["id"]
        messages = [message_view(m, bot_id=bot_id) for m in self._emulator.messages(chat_id)]
        return {"key": key, "chat_id": chat_id, "messages": messages}

    async def index(self, _request: web.Request) -> web.StreamResponse:
        return self._static_file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return self._static_file(request.match_info["name"])

    def _static_file(self, name: str) -> web.StreamResponse:
        suffix = name[name.rfind(".") :] if "." in name else ""
        entry = STATIC / name
        if "/" in name or suffix not in CONTENT_TYPES or not entry.is_file():
            raise web.HTTPNotFound
        return web.Response(
            body=entry.read_bytes(), content_type=CONTENT_TYPES[suffix], charset="utf-8"
        )

    async def all_chats(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response({key: self.chat_json(key) for key in self._chats.by_key()})

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A photo or document the bot sent, for <img> and download links."""
        file_id = request.match_info["file_id"]
        try:
            data = self._emulator.file_bytes(file_id)
        except KeyError:
            raise web.HTTPNotFound from None
        if data.startswith(b"\x89PNG"):
            return web.Response(body=data, content_type="image/png")
        name = re.sub(r"[^\w.\- ]", "_", request.query.get("name", "file"))[:100] or "file"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return web.Response(body=data, content_type="application/octet-stream", headers=headers)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `chat` with a chat's whole view when it changed, `toast` with a
        button's notice. The page redraws from them, without reloading."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._clients.add(queue)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if item == "":
                    break
                await response.write(item.encode())
        except ConnectionResetError:
            pass  # the page was closed
        finally:
            self._clients.discard(queue)
        return response

    def _broadcast(self, event: str, data: Any) -> None:
        line = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        for queue in self._clients:
            queue.put_nowait(line)

    def _changed(self, chat_id: int | None) -> None:
        key = self._chats.key_of(chat_id) if chat_id is not None else None
        if key is not None and self._clients:
            self._broadcast("chat", self.chat_json(key))

    def _on_event(self, kind: str, data: Any) -> None:
        if kind == "call" and isinstance(data, Call):
            if data.method == "answerCallbackQuery":
                key = self._toasts.pop(str(data.params.get("callback_query_id")), None)
                text = data.params.get("text")
                if key is not None and text:
                    self._broadcast("toast", {"key": key, "text": str(text)})
            elif data.ok and isinstance(data.chat_id, int):
                self._changed(data.chat_id)
        elif kind == "update" and isinstance(data, dict):
            message = data.get("message") or {}
            self._changed((message.get("chat") or {}).get("id"))

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._unsubscribe()
        for queue in self._clients:
            queue.put_nowait("")

    # --- acting ----------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _bad("body must be JSON") from None
        if not isinstance(body, dict):
            raise _bad("body must be a JSON object")
        key = body.get("chat")
        if key not in self._chats.by_key():
            raise _bad("chat: one of customer, staff, manager")
        return key, body

    async def send(self, request: web.Request) -> web.StreamResponse:
        """You write in one of the chats, as the person that chat belongs to."""
        key, body = await self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise _bad(f"text: 1 to {MAX_TEXT} characters")
        reply_to = body.get("reply_to")
        if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
            raise _bad("reply_to: a message id")
        chat_id = self._chats.by_key()[key]
        user = self._chats.user_of(key)
        try:
            self._emulator.user_message(
                user,
                text,
                chat_id=None if chat_id > 0 else chat_id,
                first_name=NAMES[user][0],
                last_name=NAMES[user][1] or None,
                language_code="en",
                reply_to=reply_to,
            )
        except (ValueError, KeyError) as exc:
            raise _bad(str(exc)) from None
        self._changed(chat_id)  # a group message the bot does not see queues no update
        return web.json_response({"ok": True})

    async def press(self, request: web.Request) -> web.StreamResponse:
        key, body = await self._body(request)
        message_id, data = body.get("message_id"), body.get("callback_data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _bad("message_id (a number) and callback_data (text) are required")
        chat_id = self._chats.by_key()[key]
        try:
            query_id = self._emulator.press_button(
                self._chats.user_of(key), message_id, data, chat_id=chat_id
            )
        except ValueError:
            raise _bad("that button is no longer there") from None
        self._toasts[query_id] = key
        return web.json_response({"ok": True})

    async def survey_me(self, _request: web.Request) -> web.StreamResponse:
        status = await self._survey_me()
        return web.json_response({"status": status}, status=200 if status < 300 else 502)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    with contextlib.suppress(IndexError, TypeError):
        return int(runner.addresses[0][1])
    return 0
