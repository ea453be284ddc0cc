"""The staff chat: alert buttons, replies to the customer, /alerts.

Acting on an alert (its buttons, a reply that reaches the customer) is for `[alerts] staff_ids`
when set, else for every member of the chat.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, assert_never

from aiogram import Bot, F, Router
from aiogram.filters import Command, or_f
from aiogram.types import CallbackQuery, Message

from bot.config import Config
from bot.conversation import Signals
from bot.telegram.send import Blocked, Delivered, edit_message, react, send
from bot.views.alert_card import list_text, reasons_keyboard
from bot.views.callbacks import AlertAction, AlertCb, ReasonCb
from bot.views.texts import N_, language_of, t
from storage.base import SurveyRepo
from storage.records import AlertState, AlertView
from survey_flows.alerts import AlertRules
from survey_flows.clock import Clock

from .filters import InStaffChat, MayActOnAlerts, may_act_on_alerts

logger = logging.getLogger(__name__)


# Telegram's reaction emoji include 👍 and 👎, not ✅ or ❌.
DELIVERED, NOT_DELIVERED = "👍", "👎"

router = Router(name=__name__)
router.message.filter(InStaffChat())
router.callback_query.filter(InStaffChat())


def _name(user: Any) -> str:
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


@router.callback_query(AlertCb.filter(), MayActOnAlerts())
async def on_alert_button(
    query: CallbackQuery,
    callback_data: AlertCb,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    signals: Signals,
    lang: str,
) -> None:
    alert = await repo.alerts.get_alert(callback_data.alert)
    if alert is None:
        await query.answer(t(lang, "alert.gone"))
        return
    now = clock()
    match callback_data.action:
        case AlertAction.TAKE:
            await _take(query, repo, alert, now, lang)
        case AlertAction.RESOLVE:
            await _resolve(query, bot, repo, config.alerts, alert, now, lang)
        case AlertAction.BACK:
            await repo.alerts.mark_dirty(alert.id)  # the card is drawn again with its usual buttons
            await query.answer()
        case AlertAction.OPEN:
            await repo.alerts.request_alert_card(alert.id)
            await query.answer(t(lang, "alert.opened", id=alert.id))
        case AlertAction.CONTACT:
            await query.answer(t(lang, "alert.contact_hint"), show_alert=True)
        case unknown:
            assert_never(unknown)
    logger.info("alert %s: %s by staff %s", alert.id, callback_data.action, query.from_user.id)
    signals.alerts()


async def _take(
    query: CallbackQuery, repo: SurveyRepo, alert: AlertView, now: datetime, lang: str
) -> None:
    user = query.from_user
    if await repo.alerts.take_alert(alert.id, user.id, _name(user), now):
        await query.answer(t(lang, "alert.taken_ok"))
    elif alert.status is AlertState.RESOLVED:
        await query.answer(t(lang, "alert.already_resolved"))
    else:
        await query.answer(
            t(lang, "alert.taken_by_other", name=alert.owner_name or "?"), show_alert=True
        )


async def _resolve(
    query: CallbackQuery,
    bot: Bot,
    repo: SurveyRepo,
    rules: AlertRules,
    alert: AlertView,
    now: datetime,
    lang: str,
) -> None:
    if rules.reasons and alert.is_open:
        # Resolved asks why first: the card's buttons become the reasons (one tap resolves).
        keyboard = reasons_keyboard(alert.id, rules.reasons, lang, rules.reason_labels)
        if isinstance(query.message, Message):
            await edit_message(bot, query.message.chat.id, query.message.message_id, None, keyboard)
        await query.answer(t(lang, "alert.reason_prompt"))
        return
    user, recheck_at = query.from_user, now + rules.recheck_after
    if await repo.alerts.resolve_alert(alert.id, user.id, _name(user), now, recheck_at):
        await query.answer(t(lang, "alert.resolved_ok"))
    else:
        await query.answer(t(lang, "alert.already_resolved"))


@router.callback_query(ReasonCb.filter(), MayActOnAlerts())
async def on_reason(
    query: CallbackQuery,
    callback_data: ReasonCb,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    signals: Signals,
    lang: str,
) -> None:
    """The reason picked after Resolved: stored with the alert and in its action log."""
    reasons = config.alerts.reasons
    if not 0 <= callback_data.reason < len(reasons):  # an old card, or forged data
        await query.answer(t(lang, "alert.gone"))
        return
    user, now = query.from_user, clock()
    recheck_at = now + config.alerts.recheck_after
    reason = reasons[callback_data.reason]
    if await repo.alerts.resolve_alert(
        callback_data.alert, user.id, _name(user), now, recheck_at, reason
    ):
        await query.answer(t(lang, "alert.resolved_ok"))
        logger.info("alert %s resolved by staff %s: %s", callback_data.alert, user.id, reason)
    else:
        await query.answer(t(lang, "alert.already_resolved"))
    signals.alerts()


@router.callback_query(or_f(AlertCb.filter(), ReasonCb.filter()))
async def on_not_staff(query: CallbackQuery, lang: str) -> None:
    """An alert's button pressed by someone who may not act on alerts (MayActOnAlerts said no)."""
    logger.info("alert button pressed by %s, who is not in staff_ids", query.from_user.id)
    await query.answer(t(lang, "alert.not_staff"), show_alert=True)


@router.message(F.migrate_to_chat_id)
async def on_migrated(message: Message, repo: SurveyRepo, clock: Clock) -> None:
    """The staff group became a supergroup: Telegram says so here, before any send fails."""
    new_id = message.migrate_to_chat_id
    if new_id is None:  # the router's filter already requires it
        return
    await repo.staff_chat.record_chat_migration(message.chat.id, new_id, clock())
    logger.warning(
        "staff chat %s is now supergroup %s: update [telegram] staff_chat_id",
        message.chat.id,
        new_id,
    )


@router.message(Command("alerts"))
async def on_alerts(message: Message, repo: SurveyRepo, clock: Clock, lang: str) -> None:
    await message.answer(list_text(await repo.alerts.open_alerts(), lang, clock()))


@router.message(F.reply_to_message & (F.text | F.caption))
async def on_reply(
    message: Message,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    signals: Signals,
    lang: str,
) -> None:
    """A reply to an alert (or to its thread) goes to the customer, signed by the team.

    Replying to an untaken alert takes it. The outcome is a reaction on the reply (👍 delivered,
    👎 not, with the reason on the card): no extra messages in the group.
    """
    if message.reply_to_message is None:  # the router's filter already requires a reply
        return
    alert = await repo.alerts.alert_of_message(message.chat.id, message.reply_to_message.message_id)
    if alert is None:
        return
    staff = message.from_user
    if staff is None or not may_act_on_alerts(staff.id, config):
        logger.info(
            "reply to alert %s by %s, who is not in staff_ids", alert.id, staff and staff.id
        )
        await send(
            bot, message.chat.id, t(lang, "alert.reply_refused"), reply_to=message.message_id
        )
        return
    refusal = await _why_not_reachable(alert, repo)
    if refusal is not None:
        await _not_delivered(bot, repo, message, alert, t(lang, refusal), signals)
        return
    await repo.alerts.add_alert_message(message.chat.id, message.message_id, alert.id)
    if alert.status is AlertState.OPEN and await repo.alerts.take_alert(
        alert.id, staff.id, _name(staff), clock()
    ):
        logger.info("alert %s taken by %s by replying", alert.id, staff.id)
    text = message.text or message.caption
    customer_lang = language_of(alert.customer_language, config.delivery.default_language)
    sent = await send(bot, alert.customer_id, t(customer_lang, "support.message", text=text))
    await repo.alerts.log_alert_action(alert.id, staff.id, _name(staff), "replied", clock())
    if isinstance(sent, Delivered):
        await react(bot, message.chat.id, message.message_id, DELIVERED)
        signals.alerts()  # the card shows who took it
        return
    reason = t(lang, "alert.blocked") if isinstance(sent, Blocked) else sent.error or "?"
    note = t(lang, "alert.reply_not_delivered", reason=reason)
    await _not_delivered(bot, repo, message, alert, note, signals)


async def _not_delivered(
    bot: Bot, repo: SurveyRepo, message: Message, alert: AlertView, note: str, signals: Signals
) -> None:
    """👎 on the staff member's reply; the one-line reason goes on the alert's card."""
    await react(bot, message.chat.id, message.message_id, NOT_DELIVERED)
    await repo.alerts.mark_dirty(alert.id, note)
    signals.alerts()


async def _why_not_reachable(alert: AlertView, repo: SurveyRepo) -> str | None:
    """A text key when a reply must not be sent: the customer's data was erased, or they opted
    out and have not written into this thread (they get only replies to their own messages)."""
    if alert.erased:
        return N_("alert.reply_erased")
    if alert.customer_opted_out and not any(
        action == "relayed" for action, _, _ in await repo.alerts.actions_of(alert.id)
    ):
        return N_("alert.reply_opted_out")
    return None
