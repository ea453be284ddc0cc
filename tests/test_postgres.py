"""The PostgreSQL backend's own parts: one numbered list of migrations for both dialects, a
database newer than the code refused, leadership and polling held by one process at a time."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.migrations import SchemaTooNew, latest_version, numbered
from storage.open import open_storage
from storage.postgres import open_postgres

from . import backends

ROOT = Path(__file__).resolve().parents[1]


def test_both_dialects_have_the_same_numbered_migrations() -> None:
    sqlite = [n for n, _ in numbered("storage.sqlite")]
    postgres = [n for n, _ in numbered("storage.postgres")]
    assert sqlite == postgres
    assert sqlite == list(range(1, len(sqlite) + 1))  # no gap, no number twice


async def test_a_sqlite_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    repo = await open_storage(path)
    await repo.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(SchemaTooNew, match="schema version 999"):
        await open_storage(path)


@backends.BOTH
async def test_migrations_run_once_and_reopen_keeps_rows(open_backend, backend: str) -> None:
    repo = await open_backend()
    await backends.execute(repo, "INSERT INTO settings (key, value) VALUES ('k', 'v')")
    await repo.close()
    again = await open_backend()
    assert await backends.scalar(again, "SELECT value FROM settings WHERE key = 'k'") == "v"
    await again.close()


async def test_a_postgres_database_newer_than_the_code_is_refused(postgres_url: str) -> None:
    repo = await open_postgres(postgres_url)
    await backends.execute(repo, "UPDATE schema_version SET version = 999")
    await repo.close()
    with pytest.raises(SchemaTooNew, match="schema version 999"):
        await open_postgres(postgres_url)


async def test_one_leader_and_one_poller_until_its_process_ends(postgres_url: str) -> None:
    first, second = await open_postgres(postgres_url), await open_postgres(postgres_url)
    assert await first.cluster.try_lead()
    assert await first.cluster.try_lead()  # asking again while leading
    assert not await second.cluster.try_lead()
    assert await first.cluster.try_poll(42)
    assert not await second.cluster.try_poll(42)
    assert await second.cluster.try_poll(43)  # another bot's token
    assert await second.cluster.processes() == 2
    await first.close()  # its session ends: PostgreSQL frees its locks
    assert await second.cluster.try_lead()
    assert await second.cluster.try_poll(42)
    assert await second.cluster.processes() == 1
    await second.close()


def _migrate(tmp_path: Path, storage: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\ntoken = "111:file-token"\n[storage]\n'
        f"{storage}\n"
        '[api]\ntoken = "file-api-token-0123456789"\n[alerts]\nenabled = false\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )


def test_migrate_creates_the_sqlite_database_and_says_its_version(tmp_path: Path) -> None:
    done = _migrate(tmp_path, 'path = "data/bot.sqlite3"')
    assert done.returncode == 0, done.stderr
    assert f"schema at version {latest_version()}" in done.stdout
    assert (tmp_path / "data" / "bot.sqlite3").exists()


def test_migrate_refuses_a_newer_postgres_database_in_one_line(
    tmp_path: Path, postgres_url: str
) -> None:
    assert _migrate(tmp_path, f'url = "{postgres_url}"').returncode == 0
    backends.admin(postgres_url, "UPDATE schema_version SET version = 999")
    done = _migrate(tmp_path, f'url = "{postgres_url}"')
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "storage.url" in lines[0] and "999" in lines[0], done.stderr
