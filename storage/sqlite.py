"""aiosqlite implementation of the repository: explicit parameterised SQL, one transaction each.

Intake and the conversation (answers, comments) live here; the connection and migrations in
`database.py`, the prompt outbox and expiry in `outbox.py`, customers in `customers.py`, alerts in
`alerts.py`, the staff chat's state in `staff_chat.py`, erasure in `erasure.py`, the shop's
customer ids and deep links in `links.py`, imported answers in `imports.py`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import aiosqlite

from survey_flows.errors import EventConflict
from survey_flows.models import (
    Answer,
    Category,
    Invitation,
    InvitationStatus,
    Metric,
    Phase,
    Position,
)
from survey_flows.pacing import Recontact

from .alert_cases import AlertCaseStorage
from .alert_figures import AlertFigures
from .alerts import AlertStorage, NewAlert
from .base import Comment, NewEvent
from .customers import CustomerStorage
from .database import Database
from .erasure import ErasureStorage
from .imports import ImportStorage
from .invitation_rows import INVITATION_COLUMNS, invitation_of
from .links import LinkStorage
from .outbox import OutboxStorage
from .rows import fetch_all, fetch_first, inserted_id
from .staff_chat import StaffChatStorage
from .timestamps import from_db, to_db

logger = logging.getLogger(__name__)


class SqliteRepo(
    Database,
    AlertCaseStorage,
    AlertFigures,
    OutboxStorage,
    CustomerStorage,
    AlertStorage,
    StaffChatStorage,
    ErasureStorage,
    LinkStorage,
    ImportStorage,
):
    """The repository: intake and answers here; the rest in the classes it is built from."""

    # [throttle] recontact, set by the app: creation enforces it, whatever the intake path.
    recontact: Recontact = Recontact()

    def set_recontact(self, rule: Recontact) -> None:
        self.recontact = rule

    # --- intake ---------------------------------------------------------------------------

    async def create_invitation(self, event: NewEvent, now: datetime) -> tuple[Invitation, bool]:
        """Store an event's invitation once; the same event_id again returns the stored one.

        The same event_id with another body raises EventConflict (rows stored before digests
        existed are compared by type and customer), also when it waits for a link. An event that
        names the shop's id too links that id to this chat (and releases what waited for it). A
        new event that would survey the customer again within `recontact` is stored as
        suppressed (never sent, kept for statistics).
        """
        if event.customer_id is None:
            raise ValueError("create_invitation needs a telegram id; see create_for_external")
        async with self.transaction() as db:
            existing = await self._replayed_invitation(db, event)
            if existing is not None:
                return existing, False
            if await self._awaiting_event(db, event.event_id) is not None:
                raise EventConflict(event.event_id, None)
            if event.external_id is not None:
                await self._link_chat(db, event.external_id, event.customer_id, now, event)
            return await self._insert_invitation(db, event, event.customer_id, now), True

    async def _replayed_invitation(
        self, db: aiosqlite.Connection, event: NewEvent
    ) -> Invitation | None:
        """The invitation this event_id made before, if the body matches; EventConflict if not."""
        existing = await self._invitation_by_event(db, event.event_id)
        if existing is None:
            return None
        cursor = await db.execute(
            "SELECT fingerprint FROM invitations WHERE id = ?", (existing.id,)
        )
        (stored,) = await cursor.fetchone() or (None,)
        same = (
            stored == event.fingerprint
            if stored is not None and event.fingerprint is not None
            else (existing.event_type, existing.customer_id)
            == (event.event_type, event.customer_id)
        )
        if not same:
            raise EventConflict(event.event_id, existing.id)
        return existing

    async def _insert_invitation(
        self, db: aiosqlite.Connection, event: NewEvent, customer_id: int, now: datetime
    ) -> Invitation:
        """Inside a transaction: the customer row (the event's name and language win) and the
        invitation with its context rows."""
        await db.execute(
            "INSERT INTO customers (telegram_id, name, username, language, timezone, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
            " name = coalesce(excluded.name, name),"
            " username = coalesce(username, excluded.username),"
            " language = coalesce(excluded.language, language),"
            " timezone = coalesce(excluded.timezone, timezone)",
            (
                customer_id,
                event.customer_name,
                event.customer_username,
                event.customer_language,
                event.customer_timezone,
                to_db(now),
            ),
        )
        # Every path that makes an invitation (API, import, a released deep link, campaigns)
        # comes here, so none can survey a customer again within `recontact`.
        suppressed = await self.recontact_blocks(db, customer_id, event.survey, event.send_at)
        cursor = await db.execute(
            "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
            " created_at, send_at, due_at, status, fingerprint, note, prompt_sent,"
            " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.event_id,
                event.event_type,
                event.survey,
                customer_id,
                json.dumps(event.context, ensure_ascii=False, sort_keys=True),
                to_db(now),
                to_db(event.send_at),
                to_db(event.send_at),
                "suppressed" if suppressed else "scheduled",
                event.fingerprint,
                "recontact" if suppressed else None,
                1 if suppressed else 0,
                to_db(now) if suppressed else None,
            ),
        )
        invitation_id = inserted_id(cursor)
        await db.executemany(
            "INSERT INTO invitation_context (invitation_id, key, value) VALUES (?, ?, ?)",
            [(invitation_id, k, v) for k, v in event.context.items()],
        )
        created = await self._invitation_by_id(db, invitation_id)
        if created is None:
            raise LookupError(f"invitation {invitation_id} vanished inside its own INSERT")
        return created

    async def recontact_blocks(
        self, db: aiosqlite.Connection, customer_id: int, survey: str, send_at: datetime
    ) -> bool:
        """Whether surveying `customer_id` with `survey` at `send_at` breaks `recontact`: another
        survey of theirs (sharing a metric, when per metric) was or will be sent within the
        window before or after. Suppressed, cancelled and never-delivered ones do not count.
        Call it inside the transaction that creates the invitation."""
        rule = self.recontact
        if rule.window <= timedelta(0):
            return False
        counted = rule.counted_surveys(survey)
        cursor = await db.execute(
            "SELECT 1 FROM invitations WHERE customer_id = ?"
            " AND (status IN ('scheduled', 'active', 'completed') OR message_id IS NOT NULL)"
            " AND coalesce(sent_at, send_at) > ? AND coalesce(sent_at, send_at) < ?"
            " AND (? IS NULL OR survey IN (SELECT value FROM json_each(?))) LIMIT 1",
            (
                customer_id,
                to_db(send_at - rule.window),
                to_db(send_at + rule.window),
                None if counted is None else 1,
                json.dumps(sorted(counted or ())),
            ),
        )
        return await cursor.fetchone() is not None

    async def _invitation_by_event(
        self, db: aiosqlite.Connection, event_id: str
    ) -> Invitation | None:
        cursor = await db.execute(
            f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE event_id = ?", (event_id,)
        )
        row = await cursor.fetchone()
        return invitation_of(row) if row else None

    async def _invitation_by_id(
        self, db: aiosqlite.Connection, invitation_id: int
    ) -> Invitation | None:
        row = await fetch_first(
            db, f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?", (invitation_id,)
        )
        return invitation_of(row) if row else None

    async def get_invitation(self, invitation_id: int) -> Invitation | None:
        async with self.reading() as db:
            return await self._invitation_by_id(db, invitation_id)

    # --- the conversation -----------------------------------------------------------------

    async def record_score(
        self,
        inv: Invitation,
        new_position: Position,
        answer: Answer,
        *,
        alert: NewAlert | None = None,
    ) -> bool:
        """Store a score and move the conversation on, only if it still stands where `inv` says.

        The conditional UPDATE makes a second, concurrent press of the same keyboard a no-op.
        """
        async with self.transaction() as db:
            # RETURNING: whether words typed before the score wait for this question, known
            # without another statement (most presses have none to attach).
            moved = await fetch_all(
                db,
                "UPDATE invitations SET step = ?, phase = ?, prompt_sent = 0, due_at = ?"
                " WHERE id = ? AND status = 'active' AND step = ? AND phase = ?"
                " RETURNING early_comment_step",
                (
                    new_position.step,
                    new_position.phase.value,
                    to_db(answer.answered_at),
                    inv.id,
                    inv.position.step,
                    inv.position.phase.value,
                ),
            )
            if len(moved) != 1:
                return False
            cursor = await db.execute(
                "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
                " category, customer_id, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    inv.id,
                    answer.question_index,
                    inv.survey,
                    answer.metric.value,
                    answer.score,
                    answer.category.value,
                    inv.customer_id,
                    to_db(answer.answered_at),
                ),
            )
            if moved[0][0] == answer.question_index:
                await self._attach_early_comment(db, inv, answer.question_index)
            if alert is not None:
                # In the same transaction: an acknowledged detractor always has its alert.
                await self._insert_alert(db, inserted_id(cursor), inv, alert, answer.answered_at)
            return True

    async def record_followup(
        self, inv: Invitation, new_position: Position, comment: Comment | None, now: datetime
    ) -> bool:
        """Store the follow-up (None when skipped) and move to the next question or the end."""
        done = new_position.phase is Phase.DONE
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE invitations SET step = ?, phase = ?, prompt_sent = 0, due_at = ?,"
                " status = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END"
                " WHERE id = ? AND status = 'active' AND step = ? AND phase = ?",
                (
                    new_position.step,
                    new_position.phase.value,
                    to_db(now),
                    InvitationStatus.COMPLETED.value if done else InvitationStatus.ACTIVE.value,
                    done,
                    to_db(now),
                    inv.id,
                    inv.position.step,
                    inv.position.phase.value,
                ),
            )
            if cursor.rowcount != 1:
                return False
            if comment is not None:
                comment = await self._after_earlier_comment(db, inv, comment)
                # The survey's alert card, if any, must show the comment.
                await db.execute("UPDATE alerts SET dirty = 1 WHERE invitation_id = ?", (inv.id,))
                await db.execute(
                    "UPDATE answers SET comment = ?, comment_kind = ?, comment_file_id = ?,"
                    " commented_at = ? WHERE invitation_id = ? AND question_index = ?",
                    (
                        comment.text,
                        comment.kind,
                        comment.file_id,
                        to_db(now),
                        inv.id,
                        inv.position.step,
                    ),
                )
            return True

    async def awaiting_followup(self, customer_id: int) -> Invitation | None:
        async with self.reading() as db:
            cursor = await db.execute(
                f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE customer_id = ?"
                " AND status = 'active' AND phase = 'followup'"
                " ORDER BY due_at DESC, id DESC LIMIT 1",
                (customer_id,),
            )
            row = await cursor.fetchone()
            return invitation_of(row) if row else None

    async def answers_for(self, invitation_id: int) -> list[Answer]:
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT invitation_id, question_index, metric, score, category, answered_at,"
                " comment FROM answers WHERE invitation_id = ? ORDER BY question_index",
                (invitation_id,),
            )
            return [
                Answer(
                    invitation_id=r["invitation_id"],
                    question_index=r["question_index"],
                    metric=Metric(r["metric"]),
                    score=r["score"],
                    category=Category(r["category"]),
                    answered_at=from_db(r["answered_at"]),
                    comment=r["comment"],
                )
                for r in await cursor.fetchall()
            ]

    # --- what a customer typed at a score question ----------------------------------------

    async def awaiting_score(self, customer_id: int) -> Invitation | None:
        """The customer's newest survey whose score question is on their screen."""
        async with self.reading() as db:
            cursor = await db.execute(
                f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE customer_id = ?"
                " AND status = 'active' AND phase = 'score' AND prompt_sent = 1"
                " AND message_id IS NOT NULL ORDER BY due_at DESC, id DESC LIMIT 1",
                (customer_id,),
            )
            row = await cursor.fetchone()
            return invitation_of(row) if row else None

    async def record_early_comment(self, inv: Invitation, comment: Comment) -> bool:
        """Keep what was typed at the score question of `inv.position` until its score comes;
        several messages are joined. False if the question is no longer being asked."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "SELECT early_comment, early_comment_kind, early_comment_file_id,"
                " early_comment_step FROM invitations"
                " WHERE id = ? AND status = 'active' AND step = ? AND phase = 'score'",
                (inv.id, inv.position.step),
            )
            row = await cursor.fetchone()
            if row is None:
                return False
            earlier = stored_comment(row, "early_")
            if row["early_comment_step"] == inv.position.step and earlier is not None:
                comment = joined(earlier, comment)
            await db.execute(
                "UPDATE invitations SET early_comment = ?, early_comment_kind = ?,"
                " early_comment_file_id = ?, early_comment_step = ? WHERE id = ?",
                (comment.text, comment.kind, comment.file_id, inv.position.step, inv.id),
            )
            return True

    async def record_late_comment(
        self, customer_id: int, typed_message_id: int, comment: Comment, now: datetime
    ) -> tuple[int, int] | None:
        """Words typed before the customer's newest prompt was shown, handled after the follow-up
        they answer was closed by an earlier message (two messages in a row, or one repeated
        while the bot was slow): they are added to that follow-up's comment, not taken for the
        next question. Returns (invitation, question), or None when they were typed at the prompt
        on screen, words at this question are already kept, or there is no such follow-up.

        Telegram numbers a private chat's messages from both sides in one sequence, so a message
        with a smaller id than the prompt's was sent before the prompt.
        """
        async with self.transaction() as db:
            cursor = await db.execute(
                "SELECT id, step, phase, prompt_sent, message_id, early_comment_step,"
                " early_comment_kind FROM invitations WHERE customer_id = ?"
                " AND status IN ('active', 'completed') ORDER BY due_at DESC, id DESC LIMIT 1",
                (customer_id,),
            )
            row = await cursor.fetchone()
            if row is None or row["phase"] == Phase.FOLLOWUP.value:
                return None
            if row["prompt_sent"] == 1 and (row["message_id"] or 0) <= typed_message_id:
                return None  # typed at the prompt on screen
            if row["early_comment_step"] == row["step"] and row["early_comment_kind"]:
                return None  # words at this question were taken already: these may be more
            # The follow-up just closed: the previous question's, or the last one's when done.
            closed = row["step"] - 1 if row["phase"] == Phase.SCORE.value else row["step"]
            cursor = await db.execute(
                "SELECT id, question_index, comment, comment_kind, comment_file_id FROM answers"
                " WHERE invitation_id = ? AND question_index = ?",
                (row["id"], closed),
            )
            answer = await cursor.fetchone()
            earlier = stored_comment(answer) if answer else None
            if answer is None or earlier is None:
                return None  # skipped: these words may be meant for what comes next
            comment = joined(earlier, comment)
            await db.execute(
                "UPDATE answers SET comment = ?, comment_kind = ?, comment_file_id = ?,"
                " commented_at = ? WHERE id = ?",
                (comment.text, comment.kind, comment.file_id, to_db(now), answer["id"]),
            )
            await db.execute(
                "UPDATE alerts SET dirty = 1 WHERE invitation_id ="
                " (SELECT invitation_id FROM answers WHERE id = ?)",
                (answer["id"],),
            )
            return row["id"], answer["question_index"]

    async def move_prompt(self, inv: Invitation, message_id: int) -> None:
        """The prompt of `inv.position` was shown again as `message_id` (the newest keyboard)."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE invitations SET message_id = ?"
                " WHERE id = ? AND prompt_sent = 1 AND step = ? AND phase = ?",
                (message_id, inv.id, inv.position.step, inv.position.phase.value),
            )

    async def _attach_early_comment(
        self, db: aiosqlite.Connection, inv: Invitation, question_index: int
    ) -> None:
        """Inside record_score: what was typed before the score becomes the answer's comment."""
        await db.execute(
            "UPDATE answers SET (comment, comment_kind, comment_file_id, commented_at) ="
            " (SELECT early_comment, early_comment_kind, early_comment_file_id, answers.answered_at"
            "  FROM invitations WHERE id = ?)"
            " WHERE invitation_id = ? AND question_index = ? AND EXISTS (SELECT 1 FROM invitations"
            "  WHERE id = ? AND early_comment_step = ? AND early_comment_kind IS NOT NULL)",
            (inv.id, inv.id, question_index, inv.id, question_index),
        )
        await db.execute(
            "UPDATE invitations SET early_comment = NULL, early_comment_kind = NULL,"
            " early_comment_file_id = NULL, early_comment_step = NULL"
            " WHERE id = ? AND early_comment_step = ?",
            (inv.id, question_index),
        )

    async def _after_earlier_comment(
        self, db: aiosqlite.Connection, inv: Invitation, comment: Comment
    ) -> Comment:
        """Inside record_followup: a comment typed before the score stays, the answer follows."""
        cursor = await db.execute(
            "SELECT comment, comment_kind, comment_file_id FROM answers"
            " WHERE invitation_id = ? AND question_index = ?",
            (inv.id, inv.position.step),
        )
        row = await cursor.fetchone()
        earlier = stored_comment(row) if row else None
        return joined(earlier, comment) if earlier else comment


COMMENT_LIMIT = 4000


def stored_comment(row: aiosqlite.Row, prefix: str = "") -> Comment | None:
    """The comment kept in a row's `<prefix>comment`, `_kind`, `_file_id` columns, if any."""
    kind = row[f"{prefix}comment_kind"]
    if not kind:
        return None
    return Comment(row[f"{prefix}comment"], kind, row[f"{prefix}comment_file_id"])


def joined(first: Comment, then: Comment) -> Comment:
    """Two messages of one comment: the texts one after the other; the newer media wins."""
    text = "\n".join(part for part in (first.text, then.text) if part)[:COMMENT_LIMIT] or None
    if then.file_id is not None or first.file_id is None:
        return Comment(text, then.kind, then.file_id)
    return Comment(text, first.kind, first.file_id)
