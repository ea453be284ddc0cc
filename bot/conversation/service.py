"""The conversation with a customer: each action checked by the core, committed, then shown.

Handlers parse an update and call one method here; it returns what happened (outcomes.py) and
the handler replies. The order inside is the durability contract: an answer is committed before
anything tells the customer it was taken, and the workers that show the next prompt or the
alert card are signalled only after that commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot

from bot.config import Config
from bot.conversation.outcomes import (
    AskedAgain,
    FollowupSaved,
    LateComment,
    Notice,
    Outcome,
    Refused,
    Relayed,
    ScoreSaved,
    Unrouted,
    stale_notice,
)
from bot.conversation.relay import relay_to_staff
from bot.telegram.send import Delivered, edit_message, send
from bot.views.prompts import answered_text, followup_closed_text, prompt_for
from bot.views.texts import t
from storage.base import SurveyRepo
from storage.records import Comment, NewAlert
from survey_flows import flow
from survey_flows.alerts import raises_alert
from survey_flows.clock import Clock
from survey_flows.errors import InvalidAnswer, StaleAnswer, Staleness
from survey_flows.models import Answer, Invitation, InvitationStatus, Phase, Survey
from survey_flows.scoring import SCALES

logger = logging.getLogger(__name__)


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Signals:
    """Wake-ups for the workers, called after a commit gave them something to show."""

    prompts: Callable[[], None] = _nothing  # the delivery worker: the next question
    alerts: Callable[[], None] = _nothing  # the alerts worker: a new or changed card


class Conversation:
    def __init__(
        self, bot: Bot, repo: SurveyRepo, config: Config, clock: Clock, signals: Signals
    ) -> None:
        self._bot, self._repo, self._config, self._clock = bot, repo, config, clock
        self._signals = signals

    @property
    def signals(self) -> Signals:
        return self._signals

    # --- presses ----------------------------------------------------------------------------

    async def score(
        self, customer_id: int, invitation_id: int, question: int, score: int
    ) -> ScoreSaved | Refused:
        """A score button pressed."""
        inv = await self._own_invitation(customer_id, invitation_id, question)
        if isinstance(inv, Refused):
            return inv
        return await self._record_score(inv, question, score)

    async def skip(
        self, customer_id: int, invitation_id: int, question: int, lang: str
    ) -> FollowupSaved | Refused:
        """The follow-up's Skip button pressed."""
        inv = await self._own_invitation(customer_id, invitation_id, question)
        if isinstance(inv, Refused):
            return inv
        return await self._finish_followup(inv, question, None, lang)

    async def recheck(self, alert_id: int, customer_id: int, solved: bool) -> bool:
        """The customer's answer to "is it solved?" after staff resolved their alert; False when
        the button is not theirs or was answered before. "Not solved" reopens the case."""
        if not await self._repo.alerts.record_recheck(alert_id, customer_id, solved, self._clock()):
            return False
        self._signals.alerts()
        return True

    # --- messages ---------------------------------------------------------------------------

    async def customer_wrote(self, customer_id: int) -> None:
        """They are here: a reminder now would be pestering."""
        await self._repo.outbox.customer_wrote(customer_id)

    async def message(
        self, customer_id: int, message_id: int, comment: Comment, lang: str
    ) -> Outcome:
        """A message goes where it belongs: the follow-up being asked, more of the follow-up just
        closed, the score question on screen (a number is the score, other words its comment;
        words go to staff instead while an alert of theirs is open), the open alert's thread,
        else nowhere. A survey past `expire_after` is closed as expired here and takes nothing."""
        await self.customer_wrote(customer_id)
        inv = await self._repo.conversation.awaiting(customer_id, Phase.FOLLOWUP)
        if inv is not None:
            done = await self._finish_followup(inv, inv.position.step, comment, lang)
            if not isinstance(done, Refused):
                return done
        late = await self._repo.conversation.record_late_comment(
            customer_id, message_id, comment, self._clock()
        )
        if late is not None:
            # Typed before the next prompt appeared: more of the follow-up answer just closed.
            logger.info(
                "invitation %s question %s follow-up: %s typed after it", *late, comment.kind
            )
            self._signals.alerts()  # an alert card of this answer shows the comment
            return LateComment(*late)
        asked = await self._repo.conversation.awaiting(customer_id, Phase.SCORE)
        if asked is not None:
            typed = await self._typed_at_question(asked, comment, lang)
            if typed is not None:
                return typed
        alert = await self._repo.alerts.open_alert_of_customer(customer_id)
        if alert is not None and await relay_to_staff(
            self._bot, self._repo, self._config, self._clock, alert, customer_id, comment
        ):
            return Relayed(alert.id)
        return Unrouted()

    # --- the steps --------------------------------------------------------------------------

    async def _own_invitation(
        self, customer_id: int, invitation_id: int, question: int
    ) -> Invitation | Refused:
        """The invitation a button names, if the presser is its customer and the question is one
        of its survey's: callback data can be forged, so nothing in it is trusted."""
        inv = await self._repo.invitations.get_invitation(invitation_id)
        if inv is None:
            return Refused(Notice.INVALID)
        if inv.customer_id != customer_id:
            logger.warning("user %s pressed a button of invitation %s", customer_id, inv.id)
            return Refused(Notice.NOT_YOURS)
        survey = self._config.surveys.get(inv.survey)
        if survey is None or not 0 <= question < len(survey.questions):
            return Refused(Notice.INVALID)
        return inv

    async def _stale(self, inv: Invitation, exc: StaleAnswer) -> Refused:
        """Refuse a stale answer; one that came too late closes its invitation as expired."""
        if exc.reason is Staleness.EXPIRED and inv.status is InvitationStatus.ACTIVE:
            await self._repo.outbox.close_invitation(
                inv.id, InvitationStatus.EXPIRED, "expired", self._clock()
            )
        return Refused(stale_notice(inv, exc.reason))

    async def _record_score(
        self, inv: Invitation, question: int, score: int
    ) -> ScoreSaved | Refused:
        """Commit a score (pressed or typed) with the alert it raises, then signal the workers."""
        survey = self._config.surveys[inv.survey]
        now = self._clock()
        try:
            outcome = flow.on_score(
                survey, inv, question, score, now, self._config.delivery.expire_after
            )
        except StaleAnswer as exc:
            return await self._stale(inv, exc)
        except InvalidAnswer:
            return Refused(Notice.INVALID)
        metric = survey.questions[question].metric
        answer = Answer(inv.id, question, metric, score, outcome.category, now)
        alert = self._alert_for(answer)
        if not await self._repo.conversation.record_score(
            inv, outcome.position, answer, alert=alert
        ):
            return Refused(Notice.ALREADY)
        # Committed: now the customer may see it. The worker shows the follow-up question.
        self._signals.prompts()
        if alert is not None:
            self._signals.alerts()
        return ScoreSaved(inv, survey, question, score)

    def _alert_for(self, answer: Answer) -> NewAlert | None:
        config = self._config
        staff_chat_id = config.telegram.staff_chat_id if config.alerts_enabled else None
        if staff_chat_id is None or not raises_alert(answer.metric, answer.score, config.alerts):
            return None
        return NewAlert(staff_chat_id, answer.answered_at + config.alerts.escalate_after)

    async def _finish_followup(
        self, inv: Invitation, question: int, comment: Comment | None, lang: str
    ) -> FollowupSaved | Refused:
        """Store the follow-up (or its skip), move on, and take the Skip button off its prompt."""
        survey = self._config.surveys[inv.survey]
        now = self._clock()
        try:
            position = flow.on_followup(
                survey, inv, question, now, self._config.delivery.expire_after
            )
        except StaleAnswer as exc:
            return await self._stale(inv, exc)
        if not await self._repo.conversation.record_followup(inv, position, comment, now):
            return Refused(Notice.ALREADY)
        self._signals.prompts()
        self._signals.alerts()  # an alert card of this answer shows the comment
        answers = await self._repo.conversation.answers_for(inv.id)
        category = next(a.category for a in answers if a.question_index == question)
        skipped = comment is None
        if inv.message_id is not None:
            text = followup_closed_text(
                survey, question, category, lang, skipped=skipped, context=inv.context
            )
            await edit_message(self._bot, inv.customer_id, inv.message_id, text)
        logger.info(
            "invitation %s question %s follow-up %s%s",
            inv.id,
            question,
            "skipped" if comment is None else comment.kind,
            "; survey done" if position.phase is Phase.DONE else "",
        )
        return FollowupSaved(inv, question, category, skipped)

    async def _typed_at_question(
        self, inv: Invitation, comment: Comment, lang: str
    ) -> ScoreSaved | AskedAgain | None:
        """Something typed while a score question waits; None when it is not the survey's."""
        survey = self._config.surveys.get(inv.survey)
        if survey is None:
            return None
        expire_after = self._config.delivery.expire_after
        try:
            reading = flow.on_typed(survey, inv, comment.text, self._clock(), expire_after)
        except StaleAnswer as exc:
            await self._stale(inv, exc)
            return None
        step = inv.position.step
        match reading.typed:
            case flow.Typed.SCORE if reading.score is not None:
                saved = await self._record_score(inv, step, reading.score)
                if isinstance(saved, Refused):
                    return None  # answered meanwhile (a press in flight): the text goes elsewhere
                if inv.message_id is not None:
                    text = answered_text(survey, step, reading.score, lang, inv.context)
                    await edit_message(self._bot, inv.customer_id, inv.message_id, text)
                return saved
            case flow.Typed.OFF_SCALE:
                scale = SCALES[survey.questions[step].metric]
                intro = t(lang, "typed.off_scale", low=scale.low, high=scale.high)
            case _:
                # Words at a score question: staff talking with this customer hear them first.
                if await self._repo.alerts.open_alert_of_customer(inv.customer_id) is not None:
                    return None
                if not await self._repo.conversation.record_early_comment(inv, comment):
                    return None
                logger.info(
                    "invitation %s question %s: %s before the score", inv.id, step, comment.kind
                )
                intro = t(lang, "typed.noted")
        await self._ask_again(inv, survey, intro, lang)
        return AskedAgain(inv, off_scale=reading.typed is flow.Typed.OFF_SCALE)

    async def _ask_again(self, inv: Invitation, survey: Survey, intro: str, lang: str) -> None:
        """Show the score question again under `intro`; the buttons move to the new message."""
        prompt = prompt_for(survey, inv.id, inv.position, lang, None, inv.context)
        sent = await send(self._bot, inv.customer_id, f"{intro}\n\n{prompt.text}", prompt.keyboard)
        if not isinstance(sent, Delivered):
            return
        await self._repo.conversation.move_prompt(inv, sent.message.message_id)
        if inv.message_id is not None:
            await edit_message(self._bot, inv.customer_id, inv.message_id, None)  # old buttons off
