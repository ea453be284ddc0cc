"""The conversation, as in storage/sqlite/conversation.py, on asyncpg.

What differs: several processes may receive one customer's updates at once (webhooks behind a
load balancer), so every method that records a press or words locks the invitation row before
it reads anything it decides on: record_score and record_followup by their conditional UPDATE
(the first statement; a second updater waits for the row, then finds it moved on and is a no-op),
the comments by `SELECT ... FOR UPDATE`. One customer's updates are applied one after the other.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

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
from .database import Database, changed

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

        The conditional UPDATE locks the row: a second, concurrent press of the same keyboard
        (here or in another process) waits for it, then matches nothing and is a no-op.
        """
        async with self._db.transaction() as conn:
            moved = await conn.fetch(
                f"UPDATE invitations SET step = $1, phase = $2, prompt_sent = {Prompt.DUE},"
                " due_at = $3 WHERE id = $4 AND status = 'active' AND step = $5 AND phase = $6"
                " RETURNING early_comment_step",
                new_position.step,
                new_position.phase.value,
                to_db(answer.answered_at),
                inv.id,
                inv.position.step,
                inv.position.phase.value,
            )
            if len(moved) != 1:
                return False
            answer_id = await conn.fetchval(
                "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
                " category, customer_id, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " RETURNING id",
                inv.id,
                answer.question_index,
                inv.survey,
                answer.metric.value,
                answer.score,
                answer.category.value,
                inv.customer_id,
                to_db(answer.answered_at),
            )
            if moved[0][0] == answer.question_index:
                await _attach_early_comment(conn, inv, answer.question_index)
            if alert is not None:
                # In the same transaction: an acknowledged detractor always has its alert.
                await insert_alert(conn, int(answer_id), inv, alert, answer.answered_at)
            return True

    async def record_followup(
        self, inv: Invitation, new_position: Position, comment: Comment | None, now: datetime
    ) -> bool:
        """Store the follow-up (None when skipped) and move to the next question or the end."""
        done = new_position.phase is Phase.DONE
        async with self._db.transaction() as conn:
            status = await conn.execute(
                f"UPDATE invitations SET step = $1, phase = $2, prompt_sent = {Prompt.DUE},"
                " due_at = $3, status = $4,"
                " finished_at = CASE WHEN $5::boolean THEN $3 ELSE finished_at END"
                " WHERE id = $6 AND status = 'active' AND step = $7 AND phase = $8",
                new_position.step,
                new_position.phase.value,
                to_db(now),
                InvitationStatus.COMPLETED.value if done else InvitationStatus.ACTIVE.value,
                done,
                inv.id,
                inv.position.step,
                inv.position.phase.value,
            )
            if changed(status) != 1:
                return False
            if comment is not None:
                comment = await _after_earlier_comment(conn, inv, comment)
                await redraw_case(conn, inv.id)  # the card, if any, must show the comment
                await conn.execute(
                    "UPDATE answers SET comment = $1, comment_kind = $2, comment_file_id = $3,"
                    " commented_at = $4 WHERE invitation_id = $5 AND question_index = $6",
                    comment.text,
                    comment.kind,
                    comment.file_id,
                    to_db(now),
                    inv.id,
                    inv.position.step,
                )
            return True

    async def answers_for(self, invitation_id: int) -> list[Answer]:
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT invitation_id, question_index, metric, score, category, answered_at,"
                " comment FROM answers WHERE invitation_id = $1 ORDER BY question_index",
                invitation_id,
            )
        return [from_row(Answer, r, _ANSWER_TYPES) for r in rows]

    async def awaiting(self, customer_id: int, phase: Phase) -> Invitation | None:
        """As on SQLite: the newest open survey at `phase` (SCORE: its question on screen)."""
        on_screen = f" AND prompt_sent = {Prompt.SHOWN} AND message_id IS NOT NULL"
        shown = on_screen if phase is Phase.SCORE else ""
        async with self._db.reading() as conn:
            row = await conn.fetchrow(
                f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE customer_id = $1"
                f" AND status = 'active' AND phase = $2{shown}"
                " ORDER BY due_at DESC, id DESC LIMIT 1",
                customer_id,
                phase.value,
            )
        return invitation_of(row) if row else None

    # --- what a customer typed at a score question ----------------------------------------

    async def record_early_comment(self, inv: Invitation, comment: Comment) -> bool:
        """As on SQLite: kept until the score of `inv.position` comes, several messages joined.
        The row is locked before the earlier words are read, so two messages handled at once
        are both kept."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT early_comment, early_comment_kind, early_comment_file_id,"
                " early_comment_step FROM invitations"
                " WHERE id = $1 AND status = 'active' AND step = $2 AND phase = 'score'"
                " FOR UPDATE",
                inv.id,
                inv.position.step,
            )
            if row is None:
                return False
            earlier = stored_comment(row, "early_")
            if row["early_comment_step"] == inv.position.step and earlier is not None:
                comment = joined(earlier, comment)
            await conn.execute(
                "UPDATE invitations SET early_comment = $1, early_comment_kind = $2,"
                " early_comment_file_id = $3, early_comment_step = $4 WHERE id = $5",
                comment.text,
                comment.kind,
                comment.file_id,
                inv.position.step,
                inv.id,
            )
            return True

    async def record_late_comment(
        self, customer_id: int, typed_message_id: int, comment: Comment, now: datetime
    ) -> tuple[int, int] | None:
        """As on SQLite: words typed before the newest prompt was shown join the follow-up an
        earlier message closed; (invitation, question), or None. The newest invitation is locked
        first, so a follow-up recorded at the same time in another process is applied before or
        after these words, never between the read and the write."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT id, step, phase, prompt_sent, message_id, early_comment_step,"
                " early_comment_kind FROM invitations WHERE customer_id = $1"
                " AND status IN ('active', 'completed') ORDER BY due_at DESC, id DESC LIMIT 1"
                " FOR UPDATE",
                customer_id,
            )
            if row is None or row["phase"] == Phase.FOLLOWUP.value:
                return None
            if row["prompt_sent"] == Prompt.SHOWN and (row["message_id"] or 0) <= typed_message_id:
                return None  # typed at the prompt on screen
            if row["early_comment_step"] == row["step"] and row["early_comment_kind"]:
                return None  # words at this question were taken already: these may be more
            # The follow-up just closed: the previous question's, or the last one's when done.
            closed = row["step"] - 1 if row["phase"] == Phase.SCORE.value else row["step"]
            answer = await conn.fetchrow(
                "SELECT id, question_index, comment, comment_kind, comment_file_id FROM answers"
                " WHERE invitation_id = $1 AND question_index = $2",
                row["id"],
                closed,
            )
            earlier = stored_comment(answer) if answer else None
            if answer is None or earlier is None:
                return None  # skipped: these words may be meant for what comes next
            comment = joined(earlier, comment)
            await conn.execute(
                "UPDATE answers SET comment = $1, comment_kind = $2, comment_file_id = $3,"
                " commented_at = $4 WHERE id = $5",
                comment.text,
                comment.kind,
                comment.file_id,
                to_db(now),
                answer["id"],
            )
            await redraw_case(conn, row["id"])
            return int(row["id"]), int(answer["question_index"])

    async def move_prompt(self, inv: Invitation, message_id: int) -> None:
        """The prompt of `inv.position` was shown again as `message_id` (the newest keyboard)."""
        await self._db.write(
            "UPDATE invitations SET message_id = $1"
            f" WHERE id = $2 AND prompt_sent = {Prompt.SHOWN} AND step = $3 AND phase = $4",
            message_id,
            inv.id,
            inv.position.step,
            inv.position.phase.value,
        )


async def _attach_early_comment(
    conn: asyncpg.Connection, inv: Invitation, question_index: int
) -> None:
    """Inside record_score: what was typed before the score becomes the answer's comment."""
    await conn.execute(
        "UPDATE answers SET (comment, comment_kind, comment_file_id, commented_at) ="
        " (SELECT early_comment, early_comment_kind, early_comment_file_id, answers.answered_at"
        "  FROM invitations WHERE id = $1)"
        " WHERE invitation_id = $1 AND question_index = $2 AND EXISTS (SELECT 1 FROM invitations"
        "  WHERE id = $1 AND early_comment_step = $2 AND early_comment_kind IS NOT NULL)",
        inv.id,
        question_index,
    )
    await conn.execute(
        "UPDATE invitations SET early_comment = NULL, early_comment_kind = NULL,"
        " early_comment_file_id = NULL, early_comment_step = NULL"
        " WHERE id = $1 AND early_comment_step = $2",
        inv.id,
        question_index,
    )


async def _after_earlier_comment(
    conn: asyncpg.Connection, inv: Invitation, comment: Comment
) -> Comment:
    """Inside record_followup: a comment typed before the score stays, the answer follows."""
    row = await conn.fetchrow(
        "SELECT comment, comment_kind, comment_file_id FROM answers"
        " WHERE invitation_id = $1 AND question_index = $2",
        inv.id,
        inv.position.step,
    )
    earlier = stored_comment(row) if row else None
    return joined(earlier, comment) if earlier else comment
