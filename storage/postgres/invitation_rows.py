"""One invitation read by id (its columns and mapper are storage/row_records.py)."""

from __future__ import annotations

import asyncpg

from survey_flows.models import Invitation

from ..row_records import INVITATION_COLUMNS, invitation_of


async def invitation_by_id(conn: asyncpg.Connection, invitation_id: int) -> Invitation | None:
    row = await conn.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1", invitation_id
    )
    return invitation_of(row) if row else None
