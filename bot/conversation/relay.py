"""A customer's message relayed into the thread of their open alert in the staff chat."""

from __future__ import annotations

from aiogram import Bot

from bot.config import Config
from bot.telegram.send import Delivered, send
from bot.views.texts import COMMENT_KINDS, t
from storage.base import SurveyRepo
from storage.records import AlertView, Comment, Words
from survey_flows.clock import Clock


async def relay_to_staff(
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    alert: AlertView,
    customer_id: int,
    comment: Comment,
) -> bool:
    """Post the message as a reply to the alert's card (media as a second reply under a line
    naming its kind); False when the staff chat refused it."""
    staff_lang = config.delivery.default_language
    if comment.kind == "text":
        text = t(staff_lang, "alert.relayed", id=alert.id, text=comment.text)
        sent = await send(bot, alert.chat_id, text, reply_to=alert.message_id)
    else:
        kind = t(staff_lang, COMMENT_KINDS[comment.kind])
        text = t(staff_lang, "alert.relayed_media", id=alert.id, kind=kind)
        sent = await send(bot, alert.chat_id, text, reply_to=alert.message_id)
        if isinstance(sent, Delivered) and comment.file_id is not None:
            media = await send(
                bot,
                alert.chat_id,
                reply_to=sent.message.message_id,
                media=(comment.kind, comment.file_id),
            )
            if isinstance(media, Delivered):
                await repo.alerts.add_alert_message(
                    alert.chat_id, media.message.message_id, alert.id, Words.CUSTOMER_MEDIA
                )
    if not isinstance(sent, Delivered):
        return False
    words = Words.CUSTOMER_TEXT if comment.kind == "text" else Words.STAFF
    await repo.alerts.add_alert_message(alert.chat_id, sent.message.message_id, alert.id, words)
    await repo.alerts.log_alert_action(alert.id, customer_id, None, "relayed", clock())
    return True
