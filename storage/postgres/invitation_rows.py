"""An invitation row as the domain dataclass, as in storage/sqlite/invitation_rows.py: the
columns every query selects and one mapper, over asyncpg's Records."""

from __future__ import annotations

import json

import asyncpg

from survey_flows.models import Invitation, InvitationStatus, Phase, Position

from ..rows import ColumnTypes, from_row
from ..timestamps import from_db

INVITATION_COLUMNS = (
    "id, event_id, event_type, survey, customer_id, context, created_at, send_at, status, step,"
    " phase, prompt_sent, message_id, sent_at, finished_at, note"
)


_INVITATION_TYPES: ColumnTypes = {
    "context": json.loads,
    "created_at": from_db,
    "send_at": from_db,
    "status": InvitationStatus,
    "prompt_sent": bool,
    "sent_at": from_db,
    "finished_at": from_db,
}


def invitation_of(row: asyncpg.Record) -> Invitation:
    position = Position(row["step"], Phase(row["phase"]))
    return from_row(Invitation, row, _INVITATION_TYPES, position=position)


async def invitation_by_id(conn: asyncpg.Connection, invitation_id: int) -> Invitation | None:
    row = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1", invitation_id
    )
    return invitation_of(row) if row else None
