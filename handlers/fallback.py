"""Last in line: a button press no other router took still gets an answer, never a spinner."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.views.texts import t

logger = logging.getLogger(__name__)

router = Router(name=__name__)


@router.callback_query()
async def on_unknown_button(query: CallbackQuery, lang: str) -> None:
    """Old, foreign or forged callback data: say the button no longer works, change nothing."""
    logger.info("user %s pressed a button nobody handles", query.from_user.id)
    await query.answer(t(lang, "notice.invalid"))
