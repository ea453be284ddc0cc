"""The alert worker against the emulator: a staff chat that refuses alerts, or moved, loses none."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.intake.api import IntakeApi
from bot.workers.alerts import AlertWorker
from storage.sqlite import SqliteRepo, open_sqlite
from survey_flows.alerts import AlertRules
from telegram_emulator import BotAPIEmulator

from .clocks import MovableClock as Clock
from .test_alerts import STAFF, raise_alert
from .test_manager import NOW, make_config

SUPERGROUP = -100999000


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = make_config(tmp_path)
    fields = {f: getattr(config, f) for f in config.__dataclass_fields__}
    fields["telegram"] = config.telegram.__class__(
        config.telegram.token, config.telegram.api_base, STAFF, config.telegram.manager_ids
    )
    fields["alerts_enabled"] = True
    return config.__class__(**fields)


@pytest.fixture
async def repo(config: Config) -> AsyncIterator[SqliteRepo]:
    repo = await open_sqlite(config.storage.path)
    yield repo
    await repo.close()


def worker_for(bot: Bot, repo: SqliteRepo, config: Config, clock: Clock) -> AlertWorker:
    return AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)


async def health(config: Config, repo: SqliteRepo) -> Any:
    app = IntakeApi(config, repo, lambda: NOW, lambda: None).app()
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/api/v1/health")
        assert resp.status == 200
        return await resp.json()


def posted(emulator: BotAPIEmulator, chat_id: int) -> list[dict]:
    return [c.response["result"] for c in emulator.calls_of("sendMessage", chat_id=chat_id) if c.ok]


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.workers.alerts" and r.levelno >= logging.WARNING
    ]


async def test_a_staff_chat_that_refuses_alerts_is_retried_with_backoff_and_reported_once(
    emulator: BotAPIEmulator,
    bot: Bot,
    repo: SqliteRepo,
    config: Config,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock(NOW)
    worker = worker_for(bot, repo, config, clock)
    await raise_alert(repo, 1, 1, clock)
    kicked = "Forbidden: bot was kicked from the group chat"
    emulator.fail_next("sendMessage", error_code=403, description=kicked, times=8, chat_id=STAFF)

    def tries() -> int:
        return len(emulator.calls_of("sendMessage", chat_id=STAFF))

    tried_at = []
    for minute in range(0, 200):
        clock.now = NOW + timedelta(minutes=minute)
        before = tries()
        await worker.run_once()
        await worker.run_once()  # a second pass in the same minute tries nothing more
        if tries() > before:
            tried_at.append(minute)
        if posted(emulator, STAFF):
            break
        if minute == 0:
            assert await health(config, repo) == {
                "status": "ok",
                "staff_chat": f"unreachable: {kicked}",
            }, "the health check does not say why alerts are not arriving"
    # 8 refusals, then the card: waits of 1, 2, 4, ... minutes, capped at an hour.
    gaps = [b - a for a, b in itertools.pairwise(tried_at)]
    assert gaps == [1, 2, 4, 8, 16, 32, 60, 60], f"tries at minutes {tried_at}"
    card = posted(emulator, STAFF)[0]  # (then its escalation: it waited three hours)
    assert "Alert #1" in card["text"], "the alert was lost while the staff chat refused it"
    assert await health(config, repo) == {"status": "ok", "staff_chat": "ok"}
    lines = log_lines(caplog)
    assert len(lines) == 2, f"one line when it broke and one when it healed, not per try: {lines}"
    assert kicked in lines[0] and "reachable again" in lines[1]


async def test_alerts_follow_a_group_upgraded_to_a_supergroup_and_remember_it(
    emulator: BotAPIEmulator,
    bot: Bot,
    repo: SqliteRepo,
    config: Config,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock(NOW)
    worker = worker_for(bot, repo, config, clock)
    await raise_alert(repo, 1, 1, clock)
    emulator.fail_next("sendMessage", error_code=400, migrate_to_chat_id=SUPERGROUP, chat_id=STAFF)
    await worker.run_once()
    await worker.run_once()  # at once, no backoff: the alert now has a known place to go
    (card,) = posted(emulator, SUPERGROUP)
    assert "Alert #1" in card["text"], "the alert was lost when the group became a supergroup"
    assert [line for line in log_lines(caplog) if "staff_chat_id" in line], (
        "nobody is told to update the config"
    )
    assert await health(config, repo) == {"status": "ok", "staff_chat": "ok"}

    # After a restart with the old id still in the config, alerts go straight to the supergroup.
    caplog.clear()
    restarted = worker_for(bot, repo, config, clock)
    await raise_alert(repo, 2, 1, clock)
    await restarted.run_once()
    assert len(posted(emulator, SUPERGROUP)) == 2
    assert len(emulator.calls_of("sendMessage", chat_id=STAFF)) == 1, "the old chat id was used"
    warnings = [line for line in log_lines(caplog) if "staff_chat_id" in line]
    assert len(warnings) == 1, warnings
    assert restarted.chat_id == SUPERGROUP
