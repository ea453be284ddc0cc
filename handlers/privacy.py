"""Customers' privacy in private chats: "Don't ask me again", opting back in, and /forget.

Every action here is on the presser's own data: the opt-out button names an invitation, which
must be the presser's; the opt-in and erase buttons name nobody.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.conversation import Signals
from bot.telegram.send import edit_message, send
from bot.views.callbacks import ForgetCb, OptInCb, OptOutCb
from bot.views.keyboards import one_button
from bot.views.texts import t
from storage.base import SurveyRepo
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)


async def _buttons_off(bot: Bot, query: CallbackQuery) -> None:
    if query.message is not None:  # None for an inline-mode button: nothing to edit
        await edit_message(bot, query.message.chat.id, query.message.message_id, None)


@router.callback_query(OptOutCb.filter())
async def on_opt_out_button(
    query: CallbackQuery,
    callback_data: OptOutCb,
    bot: Bot,
    repo: SurveyRepo,
    clock: Clock,
    lang: str,
) -> None:
    """ "Don't ask me again": opt out, close the open survey, take the buttons off."""
    user = query.from_user
    inv = await repo.invitations.get_invitation(callback_data.invitation)
    if inv is None or inv.customer_id != user.id:
        if inv is not None:
            logger.warning("user %s pressed opt-out of invitation %s", user.id, inv.id)
        await query.answer(t(lang, "notice.not_yours") if inv else t(lang, "notice.invalid"))
        return
    cancelled = await repo.customers.opt_out(
        user.id, clock()
    )  # committed before the press is answered
    logger.info("customer %s opted out by button; %d invitations cancelled", user.id, cancelled)
    await query.answer()
    await _buttons_off(bot, query)
    await send(bot, user.id, t(lang, "optout.done"))


@router.callback_query(OptInCb.filter())
async def on_opt_in_button(
    query: CallbackQuery, bot: Bot, repo: SurveyRepo, clock: Clock, lang: str
) -> None:
    """ "Yes, you may ask me again" (offered by /start after an opt-out)."""
    user = query.from_user
    await repo.customers.touch_customer(
        user.id, clock(), name=user.full_name, username=user.username, language=user.language_code
    )
    if await repo.customers.opt_in(user.id):
        logger.info("customer %s opted in again", user.id)
    await query.answer()
    await _buttons_off(bot, query)
    await send(bot, user.id, t(lang, "optin.done"))


@router.message(Command("forget"))
async def on_forget(message: Message, lang: str) -> None:
    """Nothing is erased until the confirmation button is pressed."""
    if message.from_user is None:
        return  # no sender (a channel post): there is nobody to answer
    await message.answer(
        t(lang, "forget.ask"), reply_markup=one_button(t(lang, "button.forget"), ForgetCb())
    )


@router.callback_query(ForgetCb.filter())
async def on_forget_confirmed(
    query: CallbackQuery,
    bot: Bot,
    repo: SurveyRepo,
    clock: Clock,
    signals: Signals,
    lang: str,
) -> None:
    user = query.from_user
    erased = await repo.customers.erase_customer(clock(), telegram_id=user.id)
    await query.answer()
    await _buttons_off(bot, query)
    if erased is None:
        await send(bot, user.id, t(lang, "forget.none"))
        return
    logger.info("customer %s erased: %s", user.id, erased.removed)
    # Committed: the workers take the buttons off open surveys and re-render the alert cards.
    signals.prompts()
    signals.alerts()
    await send(bot, user.id, t(lang, "forget.done"))
