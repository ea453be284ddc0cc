"""What the customer sees for each point of the conversation: text and keyboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup

from bot.views.keyboards import score_keyboard, skip_keyboard
from bot.views.texts import followup_text, question_text, raw_t, score_label, t
from survey_flows.models import Category, Phase, Position, Survey


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    keyboard: InlineKeyboardMarkup | None


def prompt_for(
    survey: Survey,
    invitation_id: int,
    position: Position,
    lang: str,
    category: Category | None,
    context: Mapping[str, str] | None = None,
) -> Prompt:
    """The message that shows `position`: a question, its follow-up, or the thank-you;
    `context` (the event's) fills placeholders such as `{product}` in configured texts."""
    if position.phase is Phase.DONE:
        return Prompt(t(lang, "thanks"), None)
    question = survey.questions[position.step]
    if position.phase is Phase.SCORE:
        return Prompt(
            question_text(question, lang, context=context),
            score_keyboard(invitation_id, position.step, question.metric, lang),
        )
    assert category is not None, "a follow-up prompt needs the category of the score"
    return Prompt(
        followup_text(question, category, lang, context=context),
        skip_keyboard(invitation_id, position.step, lang),
    )


def answered_text(
    survey: Survey, step: int, score: int, lang: str, context: Mapping[str, str] | None = None
) -> str:
    """The question message after a press: the question and the chosen score, no buttons."""
    question = survey.questions[step]
    return raw_t(
        lang,
        "answered",
        question=question_text(question, lang, with_scale=False, context=context),
        score=score_label(question.metric, score),
    )


def followup_closed_text(
    survey: Survey,
    step: int,
    category: Category,
    lang: str,
    *,
    skipped: bool,
    context: Mapping[str, str] | None = None,
) -> str:
    """The follow-up message once answered or skipped: its question, a note, no button."""
    question = followup_text(
        survey.questions[step], category, lang, with_hint=False, context=context
    )
    if skipped:
        return raw_t(lang, "skipped", question=question)
    return raw_t(lang, "commented", question=question)
