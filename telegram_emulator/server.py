"""``BotAPIEmulator``: the aiohttp app serving the Bot API, the file downloads and /control."""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .control import add_control_routes
from .errors import ApiError, Json
from .faults import Failure
from .limits import FloodControl, FloodLimits
from .methods_send import SendMethods
from .reactions import ReactionMethods
from .requests import Call, read_params
from .users import UsersMixin
from .webhook import WebhookMixin

logger = logging.getLogger(__name__)

MAX_UPLOAD = 50 * 1024 * 1024


class BotAPIEmulator(SendMethods, ReactionMethods, WebhookMixin, UsersMixin):
    """An in-process Telegram Bot API server with inspectable state; see the package docstring."""

    def __init__(
        self,
        token: str | None = "123456:TEST",
        *,
        bot_username: str = "survey_test_bot",
        bot_name: str = "Survey Test Bot",
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.time,
        limits: FloodLimits | None = None,
    ) -> None:
        super().__init__(
            token,
            bot_username=bot_username,
            bot_name=bot_name,
            privacy_mode=privacy_mode,
            clock=clock,
        )
        self._runner: web.AppRunner | None = None
        # Telegram's flood limits, when asked for (see limits.py); None: every call is answered.
        self.flood = FloodControl(limits) if limits is not None else None
        handlers: dict[str, Callable[[Json], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._accept,
            "logOut": self._accept,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "forwardMessage": self._forward_message,
            "copyMessage": self._copy_message,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._chat_accept,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._chat_accept,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._accept,
            "setMyShortDescription": self._accept,
            "setChatMenuButton": self._accept,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "createForumTopic": self._create_forum_topic,
            "getFile": self._get_file,
            "setMessageReaction": self._set_message_reaction,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    @property
    def method_names(self) -> list[str]:
        """The Bot API methods the emulator answers, as Telegram spells them."""
        return sorted(name for name, _handler in self._methods.values())

    # --- server ------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application; mount it or run it with ``web.run_app``."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        add_control_routes(app, self)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the base URL for aiogram."""
        self._closing = False
        # Fresh events: asyncio binds them to the loop that first waits on them.
        self._calls_changed = asyncio.Event()
        self._updates_changed = asyncio.Event()
        self._poll_waiting = asyncio.Event()
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once."""
        self._closing = True
        self._notify_pollers()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._closing = True
        self._notify_pollers()

    # --- HTTP plumbing -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        canonical, handler = self._methods.get(name.lower(), (name, None))
        params: Json = {}
        failure: Failure | None = None
        try:
            if self.token is not None and request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await read_params(request)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            failure = self._take_failure(canonical, params)
            if failure is not None:
                raise ApiError(
                    failure.error_code,
                    failure.description,
                    retry_after=failure.retry_after,
                    migrate_to_chat_id=failure.migrate_to_chat_id,
                )
            if self.flood is not None:
                self.flood.check(canonical, params, time.monotonic())
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            response: Json = {"ok": True, "result": copy.deepcopy(result)}
            status = 200
        except ApiError as error:
            response, status = error.response(), error.code
        except Exception:
            # An emulator bug: say so in the log and answer like a Telegram outage.
            logger.exception("emulator failed on %s", canonical)
            response, status = ApiError(500, "Internal Server Error").response(), 500
        self._record(Call(canonical, params, response, self._clock()))
        if failure is not None and failure.disconnect and request.transport is not None:
            request.transport.close()  # the answer below goes nowhere: a dropped connection
        return web.json_response(response, status=status)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            raise web.HTTPNotFound
        return web.Response(body=stored.data, content_type=stored.mime_type)
