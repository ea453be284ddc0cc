"""The alert worker: posts alert cards to the staff chat, keeps them up to date, escalates
alerts nobody took, and asks customers whether a resolved problem was solved.

Everything it does is driven by rows in SQLite, so a restart forgets nothing. Each step claims
its row before sending; a card claimed when the process died is posted again on restart
(at-least-once: at most that one card may appear twice).
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
    delete_message,
    edit_message,
    send,
)
from bot.views.alert_card import (
    REOPEN_LINES,
    card_keyboard,
    card_text,
    owner_mention,
    recheck_keyboard,
    span,
)
from bot.views.alert_digest import digest
from bot.views.texts import language_of, raw_t, t
from bot.workers.idle import idle_until
from storage.base import SurveyRepo
from storage.records import Words
from survey_flows.alerts import AlertRules
from survey_flows.backoff import Backoff
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

DIGEST_LINES = 20
# A staff chat that refuses messages (bot removed, chat gone, token revoked) is tried again after
# a minute, then after twice as long each time, up to an hour; alerts wait in SQLite meanwhile.
BACKOFF = Backoff(first=60.0, cap=3600.0)


class AlertWorker:
    def __init__(
        self,
        bot: Bot,
        repo: SurveyRepo,
        rules: AlertRules,
        staff_chat_id: int,
        clock: Clock,
        *,
        language: str = "en",
        max_idle: float = 1.0,
    ) -> None:
        self._bot, self._repo, self._rules, self._clock = bot, repo, rules, clock
        self._configured = self._chat = staff_chat_id
        self._lang, self._max_idle = language, max_idle
        self._wake = asyncio.Event()
        self._stopping = False
        self._chat_known = False  # the effective chat id is read from SQLite on the first pass
        self._failures = 0
        self._retry_at: datetime | None = None
        self._unreachable: str | None = None  # the reason last reported, while it lasts

    @property
    def chat_id(self) -> int:
        """The staff chat alerts go to: the configured one, or the supergroup it became."""
        return self._chat

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        if await self._repo.alert_posts.settle_uncertain_alert_posts():
            logger.warning("alert posts interrupted by the last shutdown are posted again")
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:
                logger.exception("alert worker step failed")
            await self._idle()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _idle(self) -> None:
        await idle_until(
            self._wake, await self._repo.alert_timers.next_alert_due(), self._clock, self._max_idle
        )

    async def run_once(self) -> None:
        """One pass over everything due now (tests call it with a moved clock)."""
        await self._load_chat()
        if self._retry_at is None or self._clock() >= self._retry_at:
            # While the staff chat refuses messages, its work waits in SQLite for the next try.
            await self.post_new()
            await self.refresh_cards()
            await self.post_reopens()
            await self.refresh_digests()
            await self.redact_threads()
            await self.escalate()
        await self.recheck()

    async def _load_chat(self) -> None:
        if self._chat_known:
            return
        self._chat = await self._repo.staff_chat.effective_chat(self._configured)
        self._chat_known = True
        if self._chat != self._configured:
            logger.warning(
                "staff chat %s became supergroup %s: alerts go there; set [telegram]"
                " staff_chat_id = %s in the config",
                self._configured,
                self._chat,
                self._chat,
            )

    async def _delivered(self, sent: Sent) -> Delivered | None:
        """`sent`, if it reached the staff chat; if not, follow a migration or back off.

        One log line per change of state (unreachable, a different reason, reachable again),
        not one per try.
        """
        match sent:
            case Delivered():
                if self._unreachable is not None or self._retry_at is not None:
                    logger.warning("staff chat %s is reachable again", self._chat)
                    await self._repo.staff_chat.set_staff_chat_status("ok")
                self._failures, self._retry_at, self._unreachable = 0, None, None
                return sent
            case Migrated(to_chat_id=new) if new != self._chat:
                old, self._chat = self._chat, new
                await self._repo.staff_chat.record_chat_migration(old, new, self._clock())
                logger.warning(
                    "staff chat %s was upgraded to supergroup %s: alerts go there now; set"
                    " [telegram] staff_chat_id = %s in the config",
                    old,
                    new,
                    new,
                )
                self._wake.set()  # what failed is due again at once, in the new chat
                return None
            case Migrated() | Blocked() | Unauthorized() | Rejected() | Transient():
                # Every other refusal waits the same way: alerts stay in SQLite meanwhile.
                await self._back_off(sent.error or "unknown error")
                return None
            case _:
                assert_never(sent)

    async def _back_off(self, reason: str) -> None:
        """Wait longer before each next try; the status and the log change only with the reason."""
        self._failures += 1
        delay = timedelta(seconds=BACKOFF.delay(self._failures))
        self._retry_at = self._clock() + delay
        if reason != self._unreachable:
            logger.error(
                "staff chat %s unreachable: %s; alerts wait and are retried with backoff",
                self._chat,
                reason,
            )
            self._unreachable = reason
            await self._repo.staff_chat.set_staff_chat_status(f"unreachable: {reason}")
        else:
            logger.debug("staff chat %s still unreachable; next try in %s", self._chat, delay)

    async def post_new(self) -> None:
        waiting = await self._repo.alert_posts.count_alerts_to_post()
        if waiting == 0:
            return
        if waiting > self._rules.digest_over:
            # A burst: one message for many, so the group's 20/minute limit is not a queue.
            alerts = await self._repo.alert_posts.claim_alerts_to_post(DIGEST_LINES)
            text, keyboard = digest(alerts, waiting, self._lang)
            sent = await self._delivered(await send(self._bot, self._chat, text, keyboard))
            if sent is None:
                await self._repo.alert_posts.release_alert_posts([a.id for a in alerts])
                return
            await self._repo.alert_posts.mark_alerts_digested(
                [a.id for a in alerts], sent.message.message_id, self._chat, waiting
            )
            logger.info("%d alerts announced in digest %s", len(alerts), sent.message.message_id)
            return
        claimed = await self._repo.alert_posts.claim_alerts_to_post(self._rules.digest_over)
        for index, alert in enumerate(claimed):
            card = await send(
                self._bot,
                self._chat,
                card_text(alert, self._lang, self._rules.reason_labels),
                card_keyboard(alert, self._lang),
                reply_to=alert.digest_message_id,
            )
            sent = await self._delivered(card)
            if sent is None:
                # The rest would fail the same way (or belong in the migrated chat): try later.
                await self._repo.alert_posts.release_alert_posts([a.id for a in claimed[index:]])
                return
            await self._repo.alert_posts.mark_alert_posted(
                alert.id, self._chat, sent.message.message_id
            )
            logger.info("alert %s posted as message %s", alert.id, sent.message.message_id)
            await self._send_media(alert.id)

    async def _send_media(self, alert_id: int) -> None:
        """A voice note, photo or video note given as the comment goes into the alert's thread."""
        alert = await self._repo.alerts.get_alert(alert_id)
        if alert is None or alert.message_id is None or not alert.comment_file_id:
            return
        if any(
            action == "media_sent" for action, _, _ in await self._repo.alerts.actions_of(alert.id)
        ):
            return
        await self._repo.alerts.log_alert_action(alert.id, None, None, "media_sent", self._clock())
        media = await send(
            self._bot,
            self._chat,
            reply_to=alert.message_id,
            media=(alert.comment_kind or "photo", alert.comment_file_id),
        )
        sent = await self._delivered(media)
        if sent is not None:
            await self._repo.alerts.add_alert_message(
                self._chat, sent.message.message_id, alert.id, Words.CUSTOMER_MEDIA
            )

    async def redact_threads(self) -> None:
        """An erased customer's words in the staff chat: texts are edited to "customer data
        erased", media deleted. A message too old to delete (48 h) stays; the log says so."""
        for chat_id, message_id, words in await self._repo.alert_posts.messages_to_redact(50):
            if words == 1:
                text = t(self._lang, "alert.erased_message")
                done = await edit_message(self._bot, chat_id, message_id, text)
            else:
                done = await delete_message(self._bot, chat_id, message_id)
            if not done:
                logger.warning("erased customer's message %s in %s stays", message_id, chat_id)
            await self._repo.alert_posts.mark_redacted(chat_id, message_id)

    async def refresh_cards(self) -> None:
        for alert in await self._repo.alert_posts.dirty_alerts(50):
            await self._repo.alert_posts.clear_dirty(alert.id)
            if alert.message_id is None:  # not posted: nothing to refresh (the query excludes it)
                continue
            await edit_message(
                self._bot,
                self._chat,
                alert.message_id,
                card_text(alert, self._lang, self._rules.reason_labels),
                card_keyboard(alert, self._lang),
            )
            await self._send_media(alert.id)

    async def refresh_digests(self) -> None:
        """Digests show ✓ as their alerts are taken or resolved, instead of going stale."""
        for stale in await self._repo.alert_posts.stale_digests():
            await self._repo.alert_posts.digest_drawn(stale.message_id)
            text, keyboard = digest(stale.alerts, stale.waiting, self._lang)
            await edit_message(self._bot, stale.chat_id, stale.message_id, text, keyboard)

    async def post_reopens(self) -> None:
        """One line in the thread of each reopened alert, naming its owner (committed first)."""
        for post in await self._repo.alert_posts.due_reopen_posts():
            alert = post.alert
            text = raw_t(
                self._lang,
                REOPEN_LINES[post.reason],
                id=str(alert.id),
                owner=owner_mention(alert),
            ).strip()
            sent = await self._delivered(
                await send(self._bot, self._chat, text, reply_to=alert.message_id)
            )
            if sent is None:
                return
            await self._repo.alerts.add_alert_message(self._chat, sent.message.message_id, alert.id)
            await self._repo.alert_posts.mark_reopen_posted(alert.id)
            logger.info("alert %s reopened (%s): thread told", alert.id, post.reason)

    async def escalate(self) -> None:
        now = self._clock()
        for alert in await self._repo.alert_timers.due_escalations(now):
            if not await self._repo.alert_timers.mark_escalated(alert.id, now):
                continue
            text = t(
                self._lang,
                "alert.escalation",
                id=alert.id,
                age=span(now - alert.created_at, minutes=True),
            )
            sent = await self._delivered(
                await send(self._bot, self._chat, text, reply_to=alert.message_id)
            )
            if sent is None:
                await self._repo.alert_timers.unmark_escalated(
                    alert.id
                )  # due again at the next try
                return
            await self._repo.alerts.add_alert_message(self._chat, sent.message.message_id, alert.id)
            logger.info("alert %s escalated", alert.id)

    async def recheck(self) -> None:
        now = self._clock()
        for alert in await self._repo.alert_timers.due_rechecks(now):
            if not await self._repo.alert_timers.mark_recheck_sent(alert.id, now):
                continue
            if alert.erased or alert.customer_opted_out or alert.customer_unreachable:
                # They get nothing but replies to their own messages: the question is not asked.
                note = None if alert.erased else t(self._lang, "alert.recheck_skipped")
                await self._repo.alerts.mark_dirty(alert.id, note)
                logger.info("alert %s: recheck not asked (opted out, blocked or erased)", alert.id)
                continue
            lang = language_of(alert.customer_language, self._lang)
            sent = await send(
                self._bot,
                alert.customer_id,
                t(lang, "recheck.question"),
                recheck_keyboard(alert.id, lang),
            )
            match sent:
                case Blocked():  # the card says why the customer was not asked
                    await self._repo.alerts.mark_dirty(alert.id, t(self._lang, "alert.blocked"))
                case Delivered() | Migrated() | Unauthorized() | Rejected() | Transient():
                    await self._repo.alerts.mark_dirty(alert.id)
                case _:
                    assert_never(sent)
            logger.info("alert %s: recheck question sent=%s", alert.id, isinstance(sent, Delivered))
