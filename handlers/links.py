"""Deep links: `/start <token>` ties the chat to a customer the shop knows by its own id."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from bot.config import Config
from bot.conversation import Signals
from bot.intake.links import looks_like_token, token_hash
from bot.views.texts import N_, language_of, t
from storage.base import SurveyRepo
from storage.records import LinkOutcome, Redeemed
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)


@router.message(CommandStart(deep_link=True))
async def on_link(
    message: Message,
    command: CommandObject,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    signals: Signals,
    lang: str,
) -> None:
    """A valid link links the chat and what waited is sent at once; a forged, expired or
    someone else's link links nothing and says so politely."""
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    token = command.args or ""
    result = Redeemed(LinkOutcome.INVALID)
    if looks_like_token(token):
        # Committed before the answer: the survey is due the moment the customer reads it.
        result = await repo.links.redeem_link_token(
            token_hash(token),
            user.id,
            clock(),
            name=user.full_name or None,
            username=user.username,
            language=user.language_code,
        )
    logger.info(
        "user %s opened a deep link: %s (%d released)", user.id, result.outcome, result.released
    )
    if result.language:
        lang = language_of(result.language, config.delivery.default_language)
    if result.outcome is LinkOutcome.INVALID:
        key = N_("link.invalid")
    elif result.outcome is LinkOutcome.ALREADY:
        key = N_("link.already")
    else:
        key = N_("link.linked") if result.released else N_("link.ready")
    await message.answer(t(lang, key, name=user.first_name))
    if result.released:
        signals.prompts()  # after the answer, so the survey arrives below it
