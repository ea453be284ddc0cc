"""The digest: one message listing a burst of alerts, kept current as they are taken.

Each line says who and what at a glance: the customer's name (else @username, else id), the
metric and score, and the first fields of the shop's event (order, product); every value is
escaped and clipped, so twenty lines of long names still fit Telegram's 4,096 characters. The
alert worker draws it again when one of its alerts is taken or resolved (✓).
"""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.views.alert_card import line_fields
from bot.views.callbacks import AlertAction, AlertCb
from bot.views.texts import nt, raw_t, t
from storage.records import AlertState, AlertView

VALUE_LIMIT = 32  # characters of a name or a context value on a digest line
CONTEXT_FIELDS = 2  # the first fields of the event: usually the order and the product
BUTTONS_PER_ROW = 5


def _clip(text: str, limit: int = VALUE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who(alert: AlertView, lang: str) -> str:
    if alert.erased:
        return t(lang, "alert.erased_label")
    if alert.customer_name:
        return html.escape(_clip(alert.customer_name))
    if alert.customer_username:
        return "@" + html.escape(_clip(alert.customer_username))
    return f"id {alert.customer_id}"


def _details(alert: AlertView) -> str:
    values = list(alert.context.values())[:CONTEXT_FIELDS]
    return "".join(f" · {html.escape(_clip(str(v)))}" for v in values)


def _status(alert: AlertView, lang: str) -> str:
    if alert.status is AlertState.RESOLVED:
        return " · " + t(lang, "alert.digest_resolved")
    if alert.status is AlertState.TAKEN and alert.owner_name:
        return " · " + t(lang, "alert.digest_taken", name=_clip(alert.owner_name))
    return ""


def digest_line(alert: AlertView, lang: str) -> str:
    return raw_t(
        lang,
        "alert.digest_line",
        **line_fields(alert),
        customer=_who(alert, lang),
        details=_details(alert),
        status=_status(alert, lang),
    )


def digest(alerts: list[AlertView], waiting: int, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """The digest's text and a button per alert still open (it posts that alert's card)."""
    lines = [nt(lang, "alert.digest", waiting, count=waiting)]
    lines += [digest_line(alert, lang) for alert in alerts]
    if waiting > len(alerts):
        more = waiting - len(alerts)
        lines.append(nt(lang, "alert.digest_more", more, count=more))
    buttons = [
        InlineKeyboardButton(
            text=t(lang, "alert.button.open", id=alert.id),
            callback_data=AlertCb(action=AlertAction.OPEN, alert=alert.id).pack(),
        )
        for alert in alerts
        if alert.is_open
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)
