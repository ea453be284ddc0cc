"""Webhook mode: Telegram POSTs updates to the intake API's port; each answered after handling."""

from __future__ import annotations

import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import TelegramConfig

logger = logging.getLogger(__name__)


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler, answering 200 only once the update's handler has finished.

    ``handle_in_background=False``: the answer waits for the handler (whose repository call has
    committed), so an update interrupted by a crash gets no 200 and Telegram delivers it again;
    the double-press rules make that redelivery harmless. A missing or wrong secret is a 401 and
    nothing is handled.
    """

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret)
        self._secret = secret.encode()

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # Constant time, on bytes: a non-ASCII header is simply wrong, never a 500.
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._secret)

    async def close(self) -> None:
        """The assembly closes the bot's session itself, after the workers have stopped."""


def mount_webhook(app: web.Application, dp: Dispatcher, bot: Bot, tg: TelegramConfig) -> None:
    """Serve ``POST <webhook_url's path>`` on the intake API's aiohttp app."""
    assert tg.webhook_secret is not None  # the config requires it in webhook mode
    WebhookHandler(dp, bot, tg.webhook_secret).register(app, path=tg.webhook_path)


async def set_webhook(bot: Bot, dp: Dispatcher, tg: TelegramConfig) -> None:
    """Tell Telegram where to POST, with the secret and only the update types the routers use."""
    assert tg.webhook_url is not None
    await bot.set_webhook(
        tg.webhook_url,
        secret_token=tg.webhook_secret,
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    logger.info("webhook set: Telegram posts updates to %s", tg.webhook_url)
