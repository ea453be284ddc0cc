"""One invitation read by id (its columns and mapper are storage/row_records.py)."""

from __future__ import annotations

import aiosqlite

from survey_flows.models import Invitation

from ..row_records import INVITATION_COLUMNS, invitation_of
from .rows import fetch_first


async def invitation_by_id(db: aiosqlite.Connection, invitation_id: int) -> Invitation | None:
    row = await fetch_first(
        db, f"SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?", (invitation_id,)
    )
    return invitation_of(row) if row else None
