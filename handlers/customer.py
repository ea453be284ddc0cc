"""Private chats with customers: /start, /stop, score buttons, follow-up answers (/help: help)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.config import Config
from bot.telegram.send import edit_message, send
from bot.views.callbacks import OptInCb, RecheckCb, ScoreCb, SkipCb
from bot.views.keyboards import one_button
from bot.views.prompts import answered_text, followup_closed_text, prompt_for
from bot.views.texts import raw_t, t
from bot.workers.alerts import AlertWorker
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.records import Comment, NewAlert
from survey_flows import flow
from survey_flows.alerts import raises_alert
from survey_flows.clock import Clock
from survey_flows.errors import InvalidAnswer, StaleAnswer
from survey_flows.models import Answer, Invitation, InvitationStatus, Phase, Survey
from survey_flows.scoring import SCALES

logger = logging.getLogger(__name__)

router = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)

COMMENT_LIMIT = 4000


def _display_name(message: Message) -> str:
    user = message.from_user
    return user.first_name if user and user.first_name else "there"


@router.message(CommandStart())
async def on_start(message: Message, repo: SurveyRepo, clock: Clock, lang: str) -> None:
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    customer = await repo.customers.get_customer(user.id)
    if customer is not None and customer.opted_out_at is not None:
        # They said stop: ask before opting them in again (handlers/privacy.py).
        button = one_button(t(lang, "button.optin"), OptInCb())
        await message.answer(t(lang, "start.optin_ask"), reply_markup=button)
        return
    await repo.customers.touch_customer(
        user.id, clock(), name=user.full_name, username=user.username, language=user.language_code
    )
    await message.answer(t(lang, "start", name=_display_name(message)))


@router.message(Command("stop"))
async def on_stop(message: Message, repo: SurveyRepo, clock: Clock, lang: str) -> None:
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    customer = await repo.customers.get_customer(user.id)
    if customer is not None and customer.opted_out_at is not None:
        await message.answer(t(lang, "stop.already"))
        return
    cancelled = await repo.customers.opt_out(user.id, clock())
    logger.info("customer %s opted out; %d invitations cancelled", user.id, cancelled)
    await message.answer(t(lang, "stop"))


def _stale_notice(inv: Invitation, exc: StaleAnswer) -> str:
    if inv.status is InvitationStatus.COMPLETED:
        return "notice.finished"
    if inv.status is InvitationStatus.EXPIRED or "expired" in str(exc):
        return "notice.expired"
    if inv.status is not InvitationStatus.ACTIVE:
        return "notice.invalid"
    return "notice.already"


async def _own_invitation(
    query: CallbackQuery,
    invitation_id: int,
    question_index: int,
    repo: SurveyRepo,
    config: Config,
    lang: str,
) -> Invitation | None:
    """The invitation a button refers to, or None after telling the presser why not."""
    inv = await repo.invitations.get_invitation(invitation_id)
    if inv is None or inv.customer_id != query.from_user.id:
        if inv is not None:
            logger.warning("user %s pressed a button of invitation %s", query.from_user.id, inv.id)
        await query.answer(t(lang, "notice.not_yours" if inv else "notice.invalid"))
        return None
    survey = config.surveys.get(inv.survey)
    if survey is None or not 0 <= question_index < len(survey.questions):
        await query.answer(t(lang, "notice.invalid"))
        return None
    return inv


async def _expire(inv: Invitation, repo: SurveyRepo, clock: Clock, exc: StaleAnswer) -> None:
    if "expired" in str(exc) and inv.status is InvitationStatus.ACTIVE:
        await repo.outbox.close_invitation(inv.id, InvitationStatus.EXPIRED, "expired", clock())


@router.callback_query(ScoreCb.filter())
async def on_score(
    query: CallbackQuery,
    callback_data: ScoreCb,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
    lang: str,
) -> None:
    inv = await _own_invitation(query, callback_data.i, callback_data.q, repo, config, lang)
    if inv is None:
        return
    refused = await _record_score(
        inv, callback_data.q, callback_data.v, repo, config, clock, worker, alerts
    )
    if refused:
        await query.answer(t(lang, refused))
        return
    await query.answer(t(lang, "notice.saved"))
    if query.message is None:
        return  # no message to edit (an inline-mode button); the answer is stored
    survey = config.surveys[inv.survey]
    await edit_message(
        bot,
        inv.customer_id,
        query.message.message_id,
        answered_text(survey, callback_data.q, callback_data.v, lang, inv.context),
    )


async def _record_score(
    inv: Invitation,
    question_index: int,
    score: int,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
) -> str | None:
    """Commit a score (pressed or typed), raising its alert; returns a notice key when refused."""
    survey = config.surveys[inv.survey]
    now = clock()
    try:
        outcome = flow.on_score(
            survey, inv, question_index, score, now, config.delivery.expire_after
        )
    except StaleAnswer as exc:
        await _expire(inv, repo, clock, exc)
        return _stale_notice(inv, exc)
    except InvalidAnswer:
        return "notice.invalid"
    question = survey.questions[question_index]
    answer = Answer(inv.id, question_index, question.metric, score, outcome.category, now)
    alert = None
    staff_chat_id = config.telegram.staff_chat_id if config.alerts_enabled else None
    if staff_chat_id is not None and raises_alert(question.metric, score, config.alerts):
        alert = NewAlert(staff_chat_id, now + config.alerts.escalate_after)
    if not await repo.conversation.record_score(inv, outcome.position, answer, alert=alert):
        return "notice.already"
    # Committed: now the customer may see it. The worker shows the follow-up question.
    worker.wake()
    if alert is not None and alerts is not None:
        alerts.wake()
    return None


async def _finish_followup(
    inv: Invitation,
    question_index: int,
    comment: Comment | None,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
    lang: str,
) -> str | None:
    """Store the follow-up (or its skip) and move on; returns a notice key when refused."""
    survey = config.surveys[inv.survey]
    now = clock()
    try:
        position = flow.on_followup(survey, inv, question_index, now, config.delivery.expire_after)
    except StaleAnswer as exc:
        await _expire(inv, repo, clock, exc)
        return _stale_notice(inv, exc)
    if not await repo.conversation.record_followup(inv, position, comment, now):
        return "notice.already"
    worker.wake()
    if alerts is not None:
        alerts.wake()  # an alert card of this answer shows the comment
    # Take the Skip button off the follow-up prompt: it is answered.
    answers = await repo.conversation.answers_for(inv.id)
    category = next(a.category for a in answers if a.question_index == question_index)
    text = followup_closed_text(
        survey, question_index, category, lang, skipped=comment is None, context=inv.context
    )
    if inv.message_id is not None:
        await edit_message(bot, inv.customer_id, inv.message_id, text)
    logger.info(
        "invitation %s question %s follow-up %s%s",
        inv.id,
        question_index,
        "skipped" if comment is None else comment.kind,
        "; survey done" if position.phase is Phase.DONE else "",
    )
    return None


@router.callback_query(SkipCb.filter())
async def on_skip(
    query: CallbackQuery,
    callback_data: SkipCb,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
    lang: str,
) -> None:
    inv = await _own_invitation(query, callback_data.i, callback_data.q, repo, config, lang)
    if inv is None:
        return
    refused = await _finish_followup(
        inv, callback_data.q, None, bot, repo, config, clock, worker, alerts, lang
    )
    await query.answer(t(lang, refused) if refused else None)


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
async def on_message(
    message: Message,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
    lang: str,
) -> None:
    """A message goes where it belongs: the follow-up being asked, the score question on screen
    (a number is the score, other words its comment; words go to staff instead while an alert
    of theirs is open), the open alert's thread, else a polite answer. A survey past
    `expire_after` is closed as expired here and takes nothing."""
    user = message.from_user
    if user is None:
        return  # no sender (a channel post): there is nobody to answer
    await repo.outbox.customer_wrote(user.id)  # they are here: a reminder would be pestering
    if message.text and message.text.startswith("/"):
        await message.answer(t(lang, "help"))
        return
    comment = _comment_of(message)
    if comment is None:
        await message.answer(t(lang, "no_survey"))
        return
    inv = await repo.conversation.awaiting(user.id, Phase.FOLLOWUP)
    if inv is not None and not await _finish_followup(
        inv, inv.position.step, comment, bot, repo, config, clock, worker, alerts, lang
    ):
        return
    late = await repo.conversation.record_late_comment(
        user.id, message.message_id, comment, clock()
    )
    if late is not None:
        # Typed before the next prompt appeared: more of the follow-up answer just closed.
        logger.info("invitation %s question %s follow-up: %s typed after it", *late, comment.kind)
        if alerts is not None:
            alerts.wake()  # an alert card of this answer shows the comment
        return
    asked = await repo.conversation.awaiting(user.id, Phase.SCORE)
    if asked is not None and await _typed_at_question(
        asked, message, comment, bot, repo, config, clock, worker, alerts, lang
    ):
        return
    if await _relay_to_staff(user.id, comment, bot, repo, config, clock):
        return
    await message.answer(t(lang, "no_survey"))


async def _typed_at_question(
    inv: Invitation,
    message: Message,
    comment: Comment,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None,
    lang: str,
) -> bool:
    """Something typed while a score question waits; False when it is not the survey's."""
    survey = config.surveys.get(inv.survey)
    if survey is None:
        return False
    try:
        reading = flow.on_typed(survey, inv, comment.text, clock(), config.delivery.expire_after)
    except StaleAnswer as exc:
        await _expire(inv, repo, clock, exc)
        return False
    step = inv.position.step
    if reading.typed is flow.Typed.SCORE and reading.score is not None:
        if await _record_score(inv, step, reading.score, repo, config, clock, worker, alerts):
            return False  # answered meanwhile (a press in flight): the text goes elsewhere
        if inv.message_id is not None:
            text = answered_text(survey, step, reading.score, lang, inv.context)
            await edit_message(bot, inv.customer_id, inv.message_id, text)
        return True
    if reading.typed is flow.Typed.OFF_SCALE:
        scale = SCALES[survey.questions[step].metric]
        intro = t(lang, "typed.off_scale", low=scale.low, high=scale.high)
    else:
        # Words at a score question: staff talking with this customer hear them first.
        if await repo.alerts.open_alert_of_customer(inv.customer_id) is not None:
            return False
        if not await repo.conversation.record_early_comment(inv, comment):
            return False
        logger.info("invitation %s question %s: %s before the score", inv.id, step, comment.kind)
        intro = t(lang, "typed.noted")
    await _ask_again(inv, survey, intro, bot, repo, lang)
    return True


async def _ask_again(
    inv: Invitation, survey: Survey, intro: str, bot: Bot, repo: SurveyRepo, lang: str
) -> None:
    """Show the score question again under `intro`; the buttons move to the new message."""
    prompt = prompt_for(survey, inv.id, inv.position, lang, None, inv.context)
    sent = await send(bot, inv.customer_id, f"{intro}\n\n{prompt.text}", prompt.keyboard)
    if sent.message is None:
        return
    await repo.conversation.move_prompt(inv, sent.message.message_id)
    if inv.message_id is not None:
        await edit_message(bot, inv.customer_id, inv.message_id, None)  # old buttons off


async def _relay_to_staff(
    customer_id: int, comment: Comment, bot: Bot, repo: SurveyRepo, config: Config, clock: Clock
) -> bool:
    """While staff talk with the customer about an open alert, their messages go to its thread."""
    alert = await repo.alerts.open_alert_of_customer(customer_id)
    if alert is None:
        return False
    staff_lang = config.delivery.default_language
    if comment.kind == "text":
        text = t(staff_lang, "alert.relayed", id=alert.id, text=comment.text)
        sent = await send(bot, alert.chat_id, text, reply_to=alert.message_id)
    else:
        kind = t(staff_lang, f"alert.kind.{comment.kind}")
        text = t(staff_lang, "alert.relayed_media", id=alert.id, kind=kind)
        sent = await send(bot, alert.chat_id, text, reply_to=alert.message_id)
        if sent.message is not None and comment.file_id is not None:
            media = await send(
                bot,
                alert.chat_id,
                reply_to=sent.message.message_id,
                media=(comment.kind, comment.file_id),
            )
            if media.message is not None:
                await repo.alerts.add_alert_message(
                    alert.chat_id, media.message.message_id, alert.id, 2
                )
    if sent.message is None:
        return False
    # The customer's words (1) are blanked in the staff chat if they ask to be forgotten.
    words = 1 if comment.kind == "text" else 0
    await repo.alerts.add_alert_message(alert.chat_id, sent.message.message_id, alert.id, words)
    await repo.alerts.log_alert_action(alert.id, customer_id, None, "relayed", clock())
    return True


@router.callback_query(RecheckCb.filter())
async def on_recheck(
    query: CallbackQuery,
    callback_data: RecheckCb,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    alerts: AlertWorker | None,
    lang: str,
) -> None:
    solved = bool(callback_data.v)
    if not await repo.alerts.record_recheck(callback_data.i, query.from_user.id, solved, clock()):
        await query.answer(t(lang, "notice.invalid"))
        return
    await query.answer(t(lang, "notice.saved"))
    key = "recheck.answer_yes" if solved else "recheck.answer_no"
    question = t(lang, "recheck.question")
    if query.message is not None:  # None for an inline-mode button: nothing to edit
        await edit_message(
            bot,
            query.message.chat.id,
            query.message.message_id,
            raw_t(lang, key, question=question),
        )
    if alerts is not None:
        alerts.wake()
