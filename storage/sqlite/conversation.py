"""The conversation: scores, follow-ups and the words customers type around them.

Each method moves an invitation on only if it still stands where the caller read it (a
conditional UPDATE), so a second press of the same keyboard, or a late message, is a no-op.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from survey_flows.models import (
    Answer,
    Category,
    Invitation,
    InvitationStatus,
    Metric,
    Phase,
    Position,
)

from ..comments import joined, stored_comment
from ..records import Comment, NewAlert
from ..row_records import INVITATION_COLUMNS, invitation_of
from ..rows import ColumnTypes, from_row
from ..states import Prompt
from ..timestamps import from_db, to_db
from .alert_cases import insert_alert, redraw_case
from .database import Database
from .rows import fetch_all, fetch_first, inserted_id

_ANSWER_TYPES: ColumnTypes = {"metric": Metric, "category": Category, "answered_at": from_db}


class Conversation:
    """Answers and comments of the survey going on in a customer's chat."""

    def __init__(self, database: Database) -> None:
        self._db = database

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
        async with self._db.transaction() as db:
            # RETURNING: whether words typed before the score wait for this question, known
            # without another statement (most presses have none to attach).
            moved = await fetch_all(
                db,
                f"UPDATE invitations SET step = ?, phase = ?, prompt_sent = {Prompt.DUE},"
                " due_at = ? WHERE id = ? AND status = 'active' AND step = ? AND phase = ?"
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
                await _attach_early_comment(db, inv, answer.question_index)
            if alert is not None:
                # In the same transaction: an acknowledged detractor always has its alert.
                await insert_alert(db, inserted_id(cursor), inv, alert, answer.answered_at)
            return True

    async def record_followup(
        self, inv: Invitation, new_position: Position, comment: Comment | None, now: datetime
    ) -> bool:
        """Store the follow-up (None when skipped) and move to the next question or the end."""
        done = new_position.phase is Phase.DONE
        async with self._db.transaction() as db:
            cursor = await db.execute(
                f"UPDATE invitations SET step = ?, phase = ?, prompt_sent = {Prompt.DUE},"
                " due_at = ?, status = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END"
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
                comment = await _after_earlier_comment(db, inv, comment)
                await redraw_case(db, inv.id)  # the card, if any, must show the comment
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

    async def answers_for(self, invitation_id: int) -> list[Answer]:
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT invitation_id, question_index, metric, score, category, answered_at,"
                " comment FROM answers WHERE invitation_id = ? ORDER BY question_index",
                (invitation_id,),
            )
            return [from_row(Answer, r, _ANSWER_TYPES) for r in await cursor.fetchall()]

    async def awaiting(self, customer_id: int, phase: Phase) -> Invitation | None:
        """The customer's newest open survey standing at `phase`: a score question on their
        screen (SCORE), or a follow-up waiting for their words (FOLLOWUP)."""
        on_screen = f" AND prompt_sent = {Prompt.SHOWN} AND message_id IS NOT NULL"
        shown = on_screen if phase is Phase.SCORE else ""
        async with self._db.reading() as db:
            row = await fetch_first(
                db,
                f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE customer_id = ?"
                f" AND status = 'active' AND phase = ?{shown}"
                " ORDER BY due_at DESC, id DESC LIMIT 1",
                (customer_id, phase.value),
            )
            return invitation_of(row) if row else None

    # --- what a customer typed at a score question ----------------------------------------

    async def record_early_comment(self, inv: Invitation, comment: Comment) -> bool:
        """Keep what was typed at the score question of `inv.position` until its score comes;
        several messages are joined. False if the question is no longer being asked."""
        async with self._db.transaction() as db:
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
        async with self._db.transaction() as db:
            row = await fetch_first(
                db,
                "SELECT id, step, phase, prompt_sent, message_id, early_comment_step,"
                " early_comment_kind FROM invitations WHERE customer_id = ?"
                " AND status IN ('active', 'completed') ORDER BY due_at DESC, id DESC LIMIT 1",
                (customer_id,),
            )
            if row is None or row["phase"] == Phase.FOLLOWUP.value:
                return None
            if row["prompt_sent"] == Prompt.SHOWN and (row["message_id"] or 0) <= typed_message_id:
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
            await redraw_case(db, row["id"])
            return row["id"], answer["question_index"]

    async def move_prompt(self, inv: Invitation, message_id: int) -> None:
        """The prompt of `inv.position` was shown again as `message_id` (the newest keyboard)."""
        await self._db.write(
            "UPDATE invitations SET message_id = ?"
            f" WHERE id = ? AND prompt_sent = {Prompt.SHOWN} AND step = ? AND phase = ?",
            (message_id, inv.id, inv.position.step, inv.position.phase.value),
        )


async def _attach_early_comment(
    db: aiosqlite.Connection, inv: Invitation, question_index: int
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
    db: aiosqlite.Connection, inv: Invitation, comment: Comment
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
