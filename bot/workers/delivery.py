"""The outbox worker for customers' prompts.

Invitations are rows in SQLite whose current prompt (question, follow-up or thank-you) is shown by
this worker only, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import assert_never

from aiogram import Bot

from bot.telegram.send import (
    Blocked,
    Delivered,
    Migrated,
    Rejected,
    Sent,
    Transient,
    Unauthorized,
    edit_message,
    send,
)
from bot.views.prompts import prompt_for
from bot.views.texts import language_of, t
from bot.workers.idle import idle_until
from storage.base import SurveyRepo
from survey_flows.backoff import Backoff
from survey_flows.clock import Clock
from survey_flows.errors import InvalidDefinition
from survey_flows.flow import START, SendDecision, decide_send
from survey_flows.models import Category, Customer, Invitation, InvitationStatus, Phase, Survey
from survey_flows.pacing import QuietHours, quiet_until, zone

logger = logging.getLogger(__name__)

RETRY_AFTER_ERROR = timedelta(minutes=1)  # after an error send() does not interpret
# A prompt that met the network or a revoked token: 30 s, 1 min, 2 min, ... up to an hour.
PROMPT_BACKOFF = Backoff(first=30.0, cap=3600.0)
# The worker passes on every wake (each event, answer and finished send); expiry is counted in
# days, so sweeping once a second is exact enough and keeps the sweep off that hot path.
SWEEP_EVERY = timedelta(seconds=1)

_DECISION_STATUS = {
    SendDecision.OPTED_OUT: InvitationStatus.CANCELLED,
    SendDecision.UNREACHABLE: InvitationStatus.FAILED,
    SendDecision.TOO_LATE: InvitationStatus.EXPIRED,
}


class DeliveryWorker:
    def __init__(  # noqa: PLR0913 - the settings are keyword-only, each with its default
        self,
        bot: Bot,
        repo: SurveyRepo,
        surveys: dict[str, Survey],
        clock: Clock,
        *,
        expire_after: timedelta,
        remind_after: timedelta = timedelta(0),
        quiet_hours: QuietHours | None = None,
        timezone: str = "UTC",
        default_language: str = "en",
        max_idle: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._bot, self._repo, self._surveys, self._clock = bot, repo, surveys, clock
        self._expire_after, self._remind_after = expire_after, remind_after
        self._quiet, self._timezone = quiet_hours, zone(timezone)
        self._default_language = default_language
        self._max_idle, self._batch = max_idle, batch
        self._wake = asyncio.Event()
        # Keyed by ("prompt" or "reminder", invitation id).
        self._in_flight: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._customers_busy: set[int] = set()
        self._stopping = False
        self._swept_at: datetime | None = None
        # Expiry is swept by one process for all: with several, the leader's (the app clears
        # this until bot/process/leadership.py says this process leads).
        self.sweeps = True

    def wake(self) -> None:
        """Something became due now (a new event, an answer): look at the outbox at once."""
        self._wake.set()

    async def run(self) -> None:
        uncertain = await self._repo.outbox.settle_uncertain_prompts()
        if uncertain:
            # At-least-once: these may have reached the customer already; one may now repeat.
            logger.warning("prompts interrupted by the last shutdown, sent again: %s", uncertain)
        logger.info("delivery worker started")
        while not self._stopping:
            await self.run_once()
            await self._idle()

    async def stop(self, timeout: float = 10.0) -> None:
        """Start nothing new and let prompts in flight finish, so each is recorded as sent."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            for task in self._in_flight.values():
                task.cancel()
            logger.warning("%d prompts still in flight at shutdown", len(self._in_flight))

    async def _idle(self) -> None:
        # Prompts of customers with a send in flight are not counted: they become due when that
        # send finishes (which wakes the worker), so waiting on them would spin.
        next_due = await self._repo.outbox.next_due_at(busy=self._customers_busy)
        await idle_until(self._wake, next_due, self._clock, self._max_idle)

    async def run_once(self) -> int:
        """Start sending every due prompt not already in flight; returns how many were started."""
        started = 0
        if self._stopping:
            return 0
        await self._expire()
        now = self._clock()
        batch = await self._repo.outbox.due_batch(now, self._batch, busy=self._customers_busy)
        starting = []
        for kind, inv in [("prompt", i) for i in batch.prompts] + [
            ("reminder", i) for i in batch.reminders
        ]:
            # One message per customer at a time keeps their messages in order.
            if (kind, inv.id) in self._in_flight or inv.customer_id in self._customers_busy:
                continue
            self._customers_busy.add(inv.customer_id)
            starting.append((kind, inv))
        # One read for the batch instead of one per message. A customer who opts out or blocks
        # the bot meanwhile is still safe: that closes their invitations, and a closed one
        # cannot be claimed for sending.
        customers = await self._repo.customers.get_customers(
            {inv.customer_id for _, inv in starting}
        )
        for kind, inv in starting:
            customer = customers.get(inv.customer_id)
            category = batch.categories.get(inv.id)
            task = asyncio.create_task(
                self._deliver_guarded(kind, inv, customer, category), name=f"{kind}-{inv.id}"
            )
            self._in_flight[(kind, inv.id)] = task
            started += 1
        return started

    async def _expire(self) -> None:
        """Close invitations nobody answered within `expire_after` and take the buttons off
        their last message. Both steps are rows in SQLite, so a restart in between forgets
        nothing."""
        now = self._clock()
        if not self.sweeps or (self._swept_at is not None and now - self._swept_at < SWEEP_EVERY):
            return
        self._swept_at = now
        try:
            expired = await self._repo.expiry.expire_invitations(
                now - self._expire_after, now, self._batch
            )
            if expired:
                logger.info("%d invitations expired unanswered", expired)
            for invitation_id, chat_id, message_id in await self._repo.expiry.stale_keyboards(
                self._batch
            ):
                if not await edit_message(self._bot, chat_id, message_id, None, None):
                    # Refused or unreachable: a late press is still answered "expired".
                    logger.info("buttons of invitation %s could not be removed", invitation_id)
                await self._repo.expiry.clear_stale_keyboard(invitation_id)
        except Exception:
            logger.exception("expiry sweep failed; tried again at the next pass")

    async def drain(self) -> None:
        """Wait for the prompts in flight (tests and shutdown)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _deliver_guarded(
        self, kind: str, inv: Invitation, customer: Customer | None, category: Category | None
    ) -> None:
        try:
            if kind == "reminder":
                await self.remind(inv, customer)
            else:
                await self.deliver(inv, customer, category)
        except Exception as exc:
            logger.exception("%s of invitation %s failed unexpectedly", kind, inv.id)
            if kind == "reminder":
                await self._retry_reminder_later(inv)
            else:
                await self._retry_later(inv, f"internal error: {type(exc).__name__}")
        finally:
            self._in_flight.pop((kind, inv.id), None)
            self._customers_busy.discard(inv.customer_id)
            self._wake.set()  # the customer may have more waiting

    async def _retry_later(self, inv: Invitation, reason: str) -> None:
        """Release the claim so the prompt is due again in a minute, not left claimed for ever."""
        try:
            await self._repo.outbox.release_prompt(inv, self._clock() + RETRY_AFTER_ERROR, reason)
        except Exception:
            # Storage itself is failing: the row stays claimed until the next start settles it.
            logger.exception("invitation %s could not be rescheduled after an error", inv.id)

    async def _retry_reminder_later(self, inv: Invitation) -> None:
        try:
            await self._repo.outbox.reschedule_reminder(inv.id, self._clock() + RETRY_AFTER_ERROR)
        except Exception:
            logger.exception("reminder of invitation %s could not be rescheduled", inv.id)

    def _quiet_until(self, customer: Customer | None, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` falls in, in the customer's zone (else the default)."""
        tz = self._timezone
        if customer is not None and customer.timezone:
            try:
                tz = zone(customer.timezone)
            except InvalidDefinition:
                logger.warning("customer %s: unknown time zone stored", customer.telegram_id)
        return quiet_until(now, self._quiet, tz)

    async def deliver(
        self, inv: Invitation, customer: Customer | None, category: Category | None = None
    ) -> None:
        """Show the invitation's current prompt. `category`: the score a follow-up is about, as
        the outbox read it (else it is read here)."""
        now = self._clock()
        survey = self._surveys.get(inv.survey)
        if survey is None:
            await self._repo.outbox.close_invitation(
                inv.id, InvitationStatus.FAILED, "unknown survey", now
            )
            logger.error("invitation %s names unknown survey %r", inv.id, inv.survey)
            return
        if not await self._may_send(inv, customer, now):
            return
        if not await self._repo.outbox.claim_prompt(inv, now):
            return  # the conversation moved on meanwhile; the newer prompt is due instead
        lang = language_of(customer.language if customer else None, self._default_language)
        if inv.position.phase is Phase.FOLLOWUP and category is None:
            answers = await self._repo.conversation.answers_for(inv.id)
            category = next(a.category for a in answers if a.question_index == inv.position.step)
        prompt = prompt_for(survey, inv.id, inv.position, lang, category, inv.context)
        sent = await send(self._bot, inv.customer_id, prompt.text, prompt.keyboard)
        await self._record(inv, sent, now)

    async def _may_send(self, inv: Invitation, customer: Customer | None, now: datetime) -> bool:
        """Whether the prompt goes now; if not, the invitation is closed or postponed here."""
        if inv.status is InvitationStatus.SCHEDULED:
            decision = decide_send(inv, customer, now, expire_after=self._expire_after)
            if decision is not SendDecision.SEND:
                logger.info("invitation %s not sent: %s", inv.id, decision)
                await self._repo.outbox.close_invitation(
                    inv.id, _DECISION_STATUS[decision], decision, now
                )
                return False
            # Only what the bot starts waits out quiet hours; a reply to the customer's own
            # press or words (follow-up, next question, thank-you) goes at once.
            later = self._quiet_until(customer, now)
            if later is not None:
                logger.info("invitation %s waits for the end of quiet hours", inv.id)
                await self._repo.outbox.postpone_prompt(inv, later, "quiet hours")
                return False
        elif customer is not None and (customer.opted_out_at or customer.unreachable_at):
            # Opting out closes open surveys in the same transaction; this guards any prompt
            # (follow-up, thank-you, and reminders) that would still be due to such a customer.
            status = inv.status
            if status is InvitationStatus.ACTIVE:
                status = (
                    InvitationStatus.CANCELLED if customer.opted_out_at else InvitationStatus.FAILED
                )
            why = "opted_out" if customer.opted_out_at else "unreachable"
            logger.info("invitation %s: prompt not sent: %s", inv.id, why)
            await self._repo.outbox.close_invitation(inv.id, status, why, now)
            return False
        return True

    async def _record(self, inv: Invitation, sent: Sent, now: datetime) -> None:
        """What Telegram's answer to a prompt means for the invitation, committed."""
        match sent:
            case Delivered():
                first = inv.position == START and inv.message_id is None
                remind_at = now + self._remind_after if first and self._remind_after else None
                await self._repo.outbox.mark_prompt_sent(inv, sent.message.message_id, remind_at)
                # With Telegram's time of the message, this line bounds the window in which a
                # kill makes the prompt be sent again (at-least-once).
                logger.info(
                    "invitation %s %s %s recorded as message %s",
                    inv.id,
                    inv.position.phase,
                    inv.position.step,
                    sent.message.message_id,
                )
            case Blocked():
                logger.info(
                    "customer %s unreachable; invitation %s stopped", inv.customer_id, inv.id
                )
                await self._repo.customers.mark_unreachable(inv.customer_id, now)
            case Transient() | Unauthorized():
                # The network, or a revoked token someone must replace: the prompt waits,
                # backing off.
                attempts = await self._repo.outbox.attempts(inv.id)
                delay = timedelta(seconds=PROMPT_BACKOFF.delay(attempts + 1))
                revoked = isinstance(sent, Unauthorized)
                level = logging.ERROR if revoked else logging.WARNING
                logger.log(level, "invitation %s: %s; retry in %s", inv.id, sent.error, delay)
                note = sent.error if revoked else f"network: {sent.error}"
                await self._repo.outbox.release_prompt(inv, now + delay, note or "unknown")
            case Rejected() | Migrated():
                # Refused for good (a private chat never migrates, so a migration lands here).
                logger.error("invitation %s: Telegram refused the prompt: %s", inv.id, sent.error)
                await self._repo.outbox.close_invitation(
                    inv.id, InvitationStatus.FAILED, f"rejected: {sent.error}", now
                )
            case _:
                assert_never(sent)

    async def remind(self, inv: Invitation, customer: Customer | None) -> None:
        """Send the one reminder: a short message replying to the unanswered first question."""
        now = self._clock()
        gone = customer is not None and (customer.opted_out_at or customer.unreachable_at)
        if gone or (inv.sent_at is not None and now - inv.sent_at > self._expire_after):
            # Dropped: opted out, blocked, or past expiry (the sweep closes the survey).
            await self._repo.outbox.reschedule_reminder(inv.id, None)
            return
        later = self._quiet_until(customer, now)
        if later is not None:
            await self._repo.outbox.reschedule_reminder(inv.id, later)
            return
        if inv.message_id is None or not await self._repo.outbox.claim_reminder(inv.id):
            return  # answered, written to, opted out or closed meanwhile
        lang = language_of(customer.language if customer else None, self._default_language)
        sent = await send(self._bot, inv.customer_id, t(lang, "reminder"), reply_to=inv.message_id)
        match sent:
            case Delivered():
                await self._repo.outbox.finish_reminder(inv.id, sent=True)
                logger.info(
                    "invitation %s reminder sent as message %s", inv.id, sent.message.message_id
                )
            case Blocked():
                await self._repo.customers.mark_unreachable(inv.customer_id, now)
                await self._repo.outbox.finish_reminder(inv.id, sent=False)
            case Transient() | Unauthorized():
                logger.warning("invitation %s reminder: %s; retry later", inv.id, sent.error)
                await self._repo.outbox.reschedule_reminder(inv.id, now + RETRY_AFTER_ERROR)
            case Rejected() | Migrated():
                logger.error("invitation %s: Telegram refused the reminder: %s", inv.id, sent.error)
                await self._repo.outbox.finish_reminder(inv.id, sent=False)
            case _:
                assert_never(sent)
