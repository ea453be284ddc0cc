"""The staff chat's repository on both backends: an upgrade to a supergroup followed (a chain,
a loop ignored), its alerts' messages moved along, and the status the health check shows."""

from __future__ import annotations

from storage.base import SurveyRepo

from . import backends
from .clocks import MovableClock
from .test_alerts import STAFF, raise_alert
from .test_manager import NOW

pytestmark = backends.BOTH
UPGRADED, AGAIN = -1009_000_555, -1009_000_666


async def test_an_upgrade_moves_the_alerts_and_their_messages(repo: SurveyRepo) -> None:
    staff = repo.staff_chat
    await raise_alert(repo, 7, 1, MovableClock(NOW))
    alert_id = await backends.scalar(repo, "SELECT id FROM alerts")
    for chat_id, message_id in [(STAFF, 10), (STAFF, 11), (UPGRADED, 11)]:
        await backends.execute(
            repo,
            "INSERT INTO alert_messages (chat_id, message_id, alert_id) VALUES (?, ?, ?)",
            (chat_id, message_id, alert_id),
        )
    assert await staff.is_staff_chat(STAFF, STAFF)
    assert not await staff.is_staff_chat(UPGRADED, STAFF), "a foreign group is the staff chat"

    await staff.record_chat_migration(STAFF, UPGRADED, NOW)
    assert await staff.effective_chat(STAFF) == UPGRADED
    assert await staff.is_staff_chat(UPGRADED, STAFF)
    assert not await staff.is_staff_chat(7, STAFF), "a private chat taken for the staff group"
    assert await backends.scalar(repo, "SELECT chat_id FROM alerts") == UPGRADED
    rows = await backends.fetch(
        repo, "SELECT chat_id, message_id FROM alert_messages ORDER BY chat_id, message_id"
    )
    moved = sorted((r["chat_id"], r["message_id"]) for r in rows)
    assert moved == sorted([(UPGRADED, 10), (UPGRADED, 11), (STAFF, 11)]), (
        "a message already known in the supergroup was overwritten or lost"
    )

    await staff.record_chat_migration(UPGRADED, AGAIN, NOW)
    await staff.record_chat_migration(AGAIN, STAFF, NOW)  # a loop: followed once round
    assert await staff.effective_chat(STAFF) == AGAIN


async def test_the_staff_chat_status_is_ok_until_the_worker_says_otherwise(
    repo: SurveyRepo,
) -> None:
    staff = repo.staff_chat
    assert await staff.staff_chat_status() == "ok"
    await staff.set_staff_chat_status("unreachable: kicked")
    assert await staff.staff_chat_status() == "unreachable: kicked"
    await staff.set_staff_chat_status("ok")
    assert await staff.staff_chat_status() == "ok"
