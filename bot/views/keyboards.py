"""Inline keyboards, built with aiogram's builder."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from survey_flows.models import Metric
from survey_flows.scoring import SCALES

from .callbacks import ForgetCb, OptInCb, OptOutCb, ScoreCb, SkipCb
from .texts import score_label, t

# Buttons per row: an 11-point NPS scale is two rows so the numbers stay readable on a phone.
ROW_SIZES = {Metric.CSAT: (5,), Metric.CES: (4, 3), Metric.NPS: (6, 5)}


def score_keyboard(
    invitation_id: int, question_index: int, metric: Metric, lang: str = "en"
) -> InlineKeyboardMarkup:
    """The scale's buttons; under a survey's first question also "Don't ask me again"."""
    builder = InlineKeyboardBuilder()
    for score in SCALES[metric].points:
        builder.button(
            text=score_label(metric, score),
            callback_data=ScoreCb(i=invitation_id, q=question_index, v=score),
        )
    rows = ROW_SIZES[metric]
    if question_index == 0:
        builder.button(text=t(lang, "button.optout"), callback_data=OptOutCb(i=invitation_id))
        rows = (*rows, 1)
    builder.adjust(*rows)
    return builder.as_markup()


def one_button(text: str, callback_data: OptInCb | ForgetCb) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=text, callback_data=callback_data)
    return builder.as_markup()


def skip_keyboard(invitation_id: int, question_index: int, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "button.skip"), callback_data=SkipCb(i=invitation_id, q=question_index)
    )
    return builder.as_markup()
