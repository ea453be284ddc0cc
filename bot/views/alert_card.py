"""What staff see of an alert: the card, its buttons, digest and list lines."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.views.callbacks import AlertAction, AlertCb, ReasonCb, RecheckCb
from bot.views.texts import COMMENT_KINDS, N_, raw_t, t
from storage.records import AlertState, AlertView
from survey_flows.durations import format_duration
from survey_flows.models import Metric
from survey_flows.scoring import SCALES

# Bounds that keep any card far under Telegram's 4096 characters, whatever the event carried.
CONTEXT_LINES = 12
CONTEXT_VALUE_LIMIT = 100
COMMENT_LIMIT = 1000
LIST_LINES = 40

# Why storage reopened an alert -> its line on the card, and the worker's line in its thread.
# An unknown reason is a KeyError: a reason without words is a bug to see, not to hide.
REOPENED = {
    "not_solved": N_("alert.reopened.not_solved"),
    "low_again": N_("alert.reopened.low_again"),
}
REOPEN_LINES = {
    "not_solved": N_("alert.reopen_line.not_solved"),
    "low_again": N_("alert.reopen_line.low_again"),
}
# The default [alerts] reasons; a business's own ones are labelled in the config.
REASONS = {
    "delivery": N_("reason.delivery"),
    "quality": N_("reason.quality"),
    "price": N_("reason.price"),
    "support": N_("reason.support"),
    "other": N_("reason.other"),
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=False)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _time(dt: datetime) -> str:
    return dt.strftime("%H:%M UTC, %d %b")


def span(delta: timedelta, *, minutes: bool = False) -> str:
    """A duration to read at a glance: 15s, 4m, 1h30m, 2d3h.

    `minutes`: the precision of a waiting time; seconds only under a minute (an alert that has
    waited 15 s must not say 1m), whole minutes under a day, then days and hours.
    """
    seconds = max(int(delta.total_seconds()), 0)
    if minutes and seconds >= 86400:
        seconds -= seconds % 3600
    elif minutes and seconds >= 60:
        seconds -= seconds % 60
    return format_duration(timedelta(seconds=seconds))


def customer_label(alert: AlertView, lang: str = "en") -> str:
    if alert.erased:
        return t(lang, "alert.erased_label")
    name = alert.customer_name or f"id {alert.customer_id}"
    return _e(_clip(name, 64))


def mention(alert: AlertView) -> str:
    # A tg://user link opens the customer's profile for staff, whatever their privacy settings.
    return f'<a href="tg://user?id={alert.customer_id}">{customer_label(alert)}</a>'


def reason_label(
    reason: str, lang: str, custom: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A reason's words: the config's label for the language, else the catalogue's, else the
    config's English label, else the id itself."""
    by_lang = (custom or {}).get(reason, {})
    if lang in by_lang:
        return by_lang[lang]
    if reason in REASONS:
        return raw_t(lang, REASONS[reason])
    return by_lang.get("en", reason)


def reasons_keyboard(
    alert_id: int,
    reasons: Sequence[str],
    lang: str,
    custom: Mapping[str, Mapping[str, str]] | None = None,
) -> InlineKeyboardMarkup:
    """One tap: the reason it was resolved (rows of three), and a way back."""
    buttons = [
        InlineKeyboardButton(
            text=reason_label(reason, lang, custom),
            callback_data=ReasonCb(alert=alert_id, reason=index).pack(),
        )
        for index, reason in enumerate(reasons)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    back = AlertCb(action=AlertAction.BACK, alert=alert_id).pack()
    rows.append([InlineKeyboardButton(text=t(lang, "alert.button.back"), callback_data=back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def line_fields(alert: AlertView) -> dict[str, str]:
    """What every line naming an alert starts with: its number, metric and score."""
    return {"id": str(alert.id), "metric": alert.metric.upper(), "score": str(alert.score)}


def card_text(
    alert: AlertView, lang: str, reason_labels: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    high = SCALES[Metric(alert.metric)].high
    header = raw_t(lang, "alert.header", **line_fields(alert), high=str(high))
    if alert.erased:
        return _erased_card(alert, header, lang)
    lines = [
        header,
        raw_t(
            lang,
            "alert.customer",
            mention=mention(alert),
            username=f" (@{_e(alert.customer_username)})" if alert.customer_username else "",
            id=str(alert.customer_id),
        ),
        t(lang, "alert.survey", survey=alert.survey, event=alert.event_type),
    ]
    lines += _context_lines(alert)
    lines.append(_comment_line(alert, lang))
    lines += _more_lines(alert, lang)
    lines += _handling_lines(alert, lang, reason_labels)
    lines += _follow_up_lines(alert, lang)
    return "\n".join(lines)


def _comment_line(alert: AlertView, lang: str) -> str:
    """The customer's words, or what they sent instead (a voice, a photo and its caption)."""
    if alert.comment_kind and alert.comment_kind != "text":
        caption = f": «{_e(_clip(alert.comment, COMMENT_LIMIT))}»" if alert.comment else ""
        return raw_t(
            lang,
            "alert.comment_media",
            kind=t(lang, COMMENT_KINDS[alert.comment_kind]),
            caption=caption,
        )
    if alert.comment:
        return t(lang, "alert.comment", comment=_clip(alert.comment, COMMENT_LIMIT))
    return t(lang, "alert.no_comment")


def _taken_lines(alert: AlertView, lang: str) -> list[str]:
    if not (alert.owner_name and alert.taken_at):
        return []
    return [t(lang, "alert.taken", name=alert.owner_name, time=_time(alert.taken_at))]


def _resolved_line(alert: AlertView, resolved_at: datetime, lang: str) -> str:
    return t(
        lang,
        "alert.resolved",
        name=alert.resolved_by_name or "?",
        time=_time(resolved_at),
        duration=span(resolved_at - alert.created_at),
    )


def _handling_lines(
    alert: AlertView, lang: str, reason_labels: Mapping[str, Mapping[str, str]] | None
) -> list[str]:
    """Who took and resolved it, when and why, and whether it came back."""
    lines = []
    if alert.status is AlertState.OPEN:
        lines.append(t(lang, "alert.open", time=_time(alert.created_at)))
    if alert.status is AlertState.TAKEN:
        lines += _taken_lines(alert, lang)
    if alert.status is AlertState.RESOLVED and alert.resolved_at:
        if alert.owner_name != alert.resolved_by_name:  # else the resolved line names them
            lines += _taken_lines(alert, lang)
        lines.append(_resolved_line(alert, alert.resolved_at, lang))
        if alert.reason:
            lines.append(
                t(lang, "alert.reason", reason=reason_label(alert.reason, lang, reason_labels))
            )
    if alert.reopened_at and alert.is_open:
        lines.append(t(lang, REOPENED[str(alert.reopen_reason)], time=_time(alert.reopened_at)))
    return lines


def _follow_up_lines(alert: AlertView, lang: str) -> list[str]:
    """The customer's answer to the recheck, the delivery note, and how to reply."""
    lines = []
    if alert.recheck_solved is True:
        lines.append(t(lang, "alert.recheck_yes"))
    elif alert.recheck_solved is False:
        lines.append(t(lang, "alert.recheck_no"))
    elif alert.recheck_sent_at:
        lines.append(t(lang, "alert.recheck_asked"))
    if alert.delivery_note:
        lines.append(t(lang, "alert.note", note=alert.delivery_note))
    if alert.is_open:
        lines.append(t(lang, "alert.reply_hint"))
    return lines


def _more_lines(alert: AlertView, lang: str) -> list[str]:
    """The survey's other low answers: one case per unhappy customer, all on one card."""
    lines = []
    for other in alert.more:
        metric = Metric(other.metric)
        high = SCALES[metric].high
        lines.append(
            t(lang, "alert.more_low", metric=metric.value.upper(), score=other.score, high=high)
        )
        if other.comment:
            lines.append(t(lang, "alert.comment", comment=_clip(other.comment, COMMENT_LIMIT)))
    return lines


def owner_mention(alert: AlertView) -> str:
    if alert.owner_id is None:
        return ""
    name = _e(_clip(alert.owner_name or str(alert.owner_id), 64))
    return f'<a href="tg://user?id={alert.owner_id}">{name}</a>'


def _context_lines(alert: AlertView) -> list[str]:
    return [
        f"• {_e(_clip(key, 64))}: <b>{_e(_clip(value, CONTEXT_VALUE_LIMIT))}</b>"
        for key, value in sorted(alert.context.items())[:CONTEXT_LINES]
    ]


def _erased_card(alert: AlertView, header: str, lang: str) -> str:
    """The card of a customer whose data was erased: no name, id or words; the score and the
    shop's order data stay, and who handled it."""
    lines = [header, t(lang, "alert.erased")]
    lines.append(t(lang, "alert.survey", survey=alert.survey, event=alert.event_type))
    lines += _context_lines(alert)
    if alert.status is AlertState.TAKEN:
        lines += _taken_lines(alert, lang)
    if alert.status is AlertState.RESOLVED and alert.resolved_at:
        lines.append(_resolved_line(alert, alert.resolved_at, lang))
    return "\n".join(lines)


def card_keyboard(alert: AlertView, lang: str) -> InlineKeyboardMarkup | None:
    if not alert.is_open:
        return None
    builder = InlineKeyboardBuilder()
    if alert.status is AlertState.OPEN:
        builder.button(
            text=t(lang, "alert.button.take"),
            callback_data=AlertCb(action=AlertAction.TAKE, alert=alert.id),
        )
    builder.button(
        text=t(lang, "alert.button.resolve"),
        callback_data=AlertCb(action=AlertAction.RESOLVE, alert=alert.id),
    )
    if not alert.erased:  # nobody left to contact
        builder.button(
            text=t(lang, "alert.button.contact"),
            callback_data=AlertCb(action=AlertAction.CONTACT, alert=alert.id),
        )
    return builder.as_markup()


def list_text(alerts: list[AlertView], lang: str, now: datetime) -> str:
    if not alerts:
        return t(lang, "alert.list_empty")
    lines = [t(lang, "alert.list_header")]
    for alert in alerts[:LIST_LINES]:
        lines.append(
            raw_t(
                lang,
                "alert.list_line",
                **line_fields(alert),
                customer=customer_label(alert, lang),
                age=span(now - alert.created_at, minutes=True),
                owner=_e(alert.owner_name) if alert.owner_name else t(lang, "alert.unowned"),
            )
            + (" · " + t(lang, "alert.list_reopened") if alert.reopened_at else "")
        )
    return "\n".join(lines)


def recheck_keyboard(alert_id: int, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "recheck.yes"), callback_data=RecheckCb(alert=alert_id, solved=True)
    )
    builder.button(
        text=t(lang, "recheck.no"), callback_data=RecheckCb(alert=alert_id, solved=False)
    )
    return builder.as_markup()
