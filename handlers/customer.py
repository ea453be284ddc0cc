"""Private chats with customers: /start, /stop, score buttons, follow-up answers (/help: help)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.conversation import Conversation
from bot.conversation.outcomes import Notice, Refused, Unrouted
from bot.telegram.send import edit_message
from bot.views.callbacks import OptInCb, RecheckCb, ScoreCb, SkipCb
from bot.views.keyboards import one_button
from bot.views.prompts import answered_text
from bot.views.texts import N_, raw_t, t
from storage.base import SurveyRepo
from storage.records import Comment
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)

COMMENT_LIMIT = 4000


def _display_name(message: Message, lang: str) -> str:
    user = message.from_user
    return user.first_name if user and user.first_name else t(lang, "start.no_name")


async def _has_opted_out(repo: SurveyRepo, user_id: int) -> bool:
    customer = await repo.customers.get_customer(user_id)
    return customer is not None and customer.opted_out_at is not None


@router.message(CommandStart())
async def on_start(message: Message, repo: SurveyRepo, clock: Clock, lang: str) -> None:
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    if await _has_opted_out(repo, user.id):
        # They said stop: ask before opting them in again (handlers/privacy.py).
        button = one_button(t(lang, "button.optin"), OptInCb())
        await message.answer(t(lang, "start.optin_ask"), reply_markup=button)
        return
    await repo.customers.touch_customer(
        user.id, clock(), name=user.full_name, username=user.username, language=user.language_code
    )
    await message.answer(t(lang, "start", name=_display_name(message, lang)))


@router.message(Command("stop"))
async def on_stop(message: Message, repo: SurveyRepo, clock: Clock, lang: str) -> None:
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    if await _has_opted_out(repo, user.id):
        await message.answer(t(lang, "stop.already"))
        return
    cancelled = await repo.customers.opt_out(user.id, clock())
    logger.info("customer %s opted out; %d invitations cancelled", user.id, cancelled)
    await message.answer(t(lang, "stop"))


_NOTICE_KEYS = {
    Notice.ALREADY: N_("notice.already"),
    Notice.FINISHED: N_("notice.finished"),
    Notice.EXPIRED: N_("notice.expired"),
    Notice.INVALID: N_("notice.invalid"),
    Notice.NOT_YOURS: N_("notice.not_yours"),
}


@router.callback_query(ScoreCb.filter())
async def on_score(
    query: CallbackQuery, callback_data: ScoreCb, bot: Bot, conversation: Conversation, lang: str
) -> None:
    cb = callback_data
    outcome = await conversation.score(query.from_user.id, cb.invitation, cb.question, cb.score)
    if isinstance(outcome, Refused):
        await query.answer(t(lang, _NOTICE_KEYS[outcome.notice]))
        return
    await query.answer(t(lang, "notice.saved"))
    if query.message is not None:  # None for an inline-mode button: the answer is stored
        text = answered_text(
            outcome.survey, cb.question, cb.score, lang, outcome.invitation.context
        )
        await edit_message(bot, query.from_user.id, query.message.message_id, text)


@router.callback_query(SkipCb.filter())
async def on_skip(
    query: CallbackQuery, callback_data: SkipCb, conversation: Conversation, lang: str
) -> None:
    cb = callback_data
    outcome = await conversation.skip(query.from_user.id, cb.invitation, cb.question, lang)
    refused = outcome.notice if isinstance(outcome, Refused) else None
    await query.answer(t(lang, _NOTICE_KEYS[refused]) if refused else None)


def _comment_of(message: Message) -> Comment | None:
    if message.text:
        return Comment(message.text[:COMMENT_LIMIT], "text")
    caption = message.caption[:COMMENT_LIMIT] if message.caption else None
    if message.voice:
        return Comment(caption, "voice", message.voice.file_id)
    if message.video_note:
        return Comment(caption, "video_note", message.video_note.file_id)
    if message.photo:
        return Comment(caption, "photo", message.photo[-1].file_id)
    if message.video:
        return Comment(caption, "video", message.video.file_id)
    return None


@router.message(F.text | F.voice | F.video_note | F.photo | F.video)
async def on_message(message: Message, conversation: Conversation, lang: str) -> None:
    """Words, a number or media from a customer: the conversation service routes them."""
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    if message.text and message.text.startswith("/"):
        await conversation.customer_wrote(user.id)
        await message.answer(t(lang, "help"))
        return
    comment = _comment_of(message)
    if comment is None:
        await conversation.customer_wrote(user.id)
        await message.answer(t(lang, "no_survey"))
        return
    outcome = await conversation.message(user.id, message.message_id, comment, lang)
    if isinstance(outcome, Unrouted):
        await message.answer(t(lang, "no_survey"))


@router.callback_query(RecheckCb.filter())
async def on_recheck(
    query: CallbackQuery, callback_data: RecheckCb, bot: Bot, conversation: Conversation, lang: str
) -> None:
    solved = callback_data.solved
    if not await conversation.recheck(callback_data.alert, query.from_user.id, solved):
        await query.answer(t(lang, "notice.invalid"))
        return
    await query.answer(t(lang, "notice.saved"))
    if query.message is not None:  # None for an inline-mode button: nothing to edit
        key = N_("recheck.answer_yes") if solved else N_("recheck.answer_no")
        text = raw_t(lang, key, question=t(lang, "recheck.question"))
        await edit_message(bot, query.message.chat.id, query.message.message_id, text)
