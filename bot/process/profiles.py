"""Who a customer is, from their own updates: their Telegram name and @username.

Shops often post events without a name, and a customer who arrived by a deep link has none;
staff cards and digests should still say who it is.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.views.i18n import Handler, private_sender

logger = logging.getLogger(__name__)


class CustomerProfileMiddleware(BaseMiddleware):
    """Before any private message or button press of a known customer is handled, fill in their
    name (where the shop gave none) and @username. The row the language middleware read is
    used (else one primary-key read); a write only when something is new; people who are not
    customers are not stored."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender = private_sender(data)
        if sender is not None and not sender.user.is_bot:
            user, repo = sender.user, sender.repo
            try:
                if await repo.customers.remember_profile(
                    user.id,
                    name=user.full_name or None,
                    username=user.username,
                    stored=data.get("customer", False),  # as the language middleware read it
                ):
                    logger.info("customer %s: name or username captured", user.id)
            except Exception:
                # A name is nice to have; the customer's answer must still be taken.
                logger.exception("customer %s: profile not stored", user.id)
        return await handler(event, data)
