"""An invitation row as the domain dataclass: the columns every query selects, one mapper."""

from __future__ import annotations

import json

import aiosqlite

from survey_flows.models import Invitation, InvitationStatus, Phase, Position

from .rows import fetch_first
from .timestamps import from_db

INVITATION_COLUMNS = (
    "id, event_id, event_type, survey, customer_id, context, created_at, send_at, status, step,"
    " phase, prompt_sent, message_id, sent_at, finished_at, note"
)


def invitation_of(row: aiosqlite.Row) -> Invitation:
    return Invitation(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        survey=row["survey"],
        customer_id=row["customer_id"],
        context=json.loads(row["context"]),
        created_at=from_db(row["created_at"]),
        send_at=from_db(row["send_at"]),
        status=InvitationStatus(row["status"]),
        position=Position(row["step"], Phase(row["phase"])),
        prompt_sent=bool(row["prompt_sent"]),
        message_id=row["message_id"],
        sent_at=from_db(row["sent_at"]),
        finished_at=from_db(row["finished_at"]),
        note=row["note"],
    )


async def invitation_by_id(db: aiosqlite.Connection, invitation_id: int) -> Invitation | None:
    row = await fetch_first(
        db, f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?", (invitation_id,)
    )
    return invitation_of(row) if row else None
