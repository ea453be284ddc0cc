"""[storage]: a SQLite path or a PostgreSQL url (or SURVEY_BOT_STORAGE_URL), never both; a wrong
one, or a database that cannot be opened, is one line that never shows the password.

(Beside tests/test_config.py, which is at its 500 lines; `render` and `write` are its.)
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ENV_STORAGE_URL, ConfigError, load_config
from bot.process.database import open_checked
from bot.process.startup import StartupError

from . import backends
from .test_config import ENV, ROOT, render, write

PASSWORD = "s3cret-Pa55"
URL = f"postgresql://survey:{PASSWORD}@db.example.org:5432/survey"
SHOWN = "postgresql://survey:***@db.example.org:5432/survey"
NO_PATH = {("storage", "path"): None}


def storage(**keys: str) -> dict[tuple[str, str], str | None]:
    """render()'s overrides for a [storage] table of exactly `keys` (TOML strings)."""
    return {**NO_PATH, **{("storage", key): f'"{value}"' for key, value in keys.items()}}


@pytest.mark.parametrize(
    ("overrides", "env", "target", "shown"),
    [
        # neither: SQLite at the default path, as before PostgreSQL
        (NO_PATH, {}, "{folder}/data/survey-bot.sqlite3", "{folder}/data/survey-bot.sqlite3"),
        ({}, {}, "{folder}/db/bot.sqlite3", "{folder}/db/bot.sqlite3"),
        (storage(url=URL), {}, URL, SHOWN),
        (NO_PATH, {ENV_STORAGE_URL: URL}, URL, SHOWN),
        # the variable stands for the file's url, as it does for the other secrets
        (storage(url="postgres://u@old/x"), {ENV_STORAGE_URL: URL}, URL, SHOWN),
        ({}, {ENV_STORAGE_URL: ""}, "{folder}/db/bot.sqlite3", "{folder}/db/bot.sqlite3"),
        (storage(url="postgres://u@h/x"), {}, "postgres://u@h/x", "postgres://u@h/x"),
        (
            storage(url="postgresql://u@[::1]:6543/x?sslmode=require&password=pw"),
            {},
            "postgresql://u@[::1]:6543/x?sslmode=require&password=pw",
            "postgresql://u@[::1]:6543/x?sslmode=require&password=***",
        ),
        # libpq's form for a Unix socket: the host in the query
        (
            storage(url="postgresql:///survey?host=/run/postgresql"),
            {},
            "postgresql:///survey?host=/run/postgresql",
            "postgresql:///survey?host=/run/postgresql",
        ),
    ],
)
def test_the_database_the_bot_opens(
    tmp_path: Path,
    overrides: dict[tuple[str, str], str | None],
    env: dict[str, str],
    target: str,
    shown: str,
) -> None:
    config = load_config(write(tmp_path, render(overrides)), env).storage
    folder = str(tmp_path.resolve())
    assert str(config.target) == target.format(folder=folder), "the bot would open another db"
    assert config.shown == shown.format(folder=folder), "log lines would show another database"
    assert (config.url is None) == (not target.startswith("postgres")), config


BAD_URL = "storage.url: "


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        (storage(url=URL, path="db.sqlite3"), {}, "storage.url: given with storage.path"),
        ({}, {ENV_STORAGE_URL: URL}, f"storage.path: set here while {ENV_STORAGE_URL} sets"),
        (storage(url=f"mysql://u:{PASSWORD}@h/db"), {}, BAD_URL + 'its scheme is "mysql"'),
        (NO_PATH, {ENV_STORAGE_URL: f"http://u:{PASSWORD}@h/db"}, BAD_URL + "its scheme is"),
        # no scheme: what precedes the first colon is the user, and the password follows
        (storage(url=f"u:{PASSWORD}@h/db"), {}, BAD_URL + "must look like postgresql://"),
        (storage(url=f"postgresql://u:{PASSWORD}@/db"), {}, BAD_URL + "has no host"),
        (storage(url=f"postgresql://u:{PASSWORD}@h/"), {}, BAD_URL + "has no database name"),
        (storage(url=f"postgresql://u:{PASSWORD}@h:5432"), {}, BAD_URL + "has no database"),
        (storage(url=f"postgresql://u:{PASSWORD}@h:99999/db"), {}, BAD_URL + "has a bad port"),
        (storage(url=f"postgresql://u:{PASSWORD}@h:pg/db"), {}, BAD_URL + "has a bad port"),
        (storage(url=f"postgresql://u:{PASSWORD}@h:0/db"), {}, BAD_URL + "has a bad port"),
        (storage(url=f"postgresql://u:{PASSWORD}@h:/db"), {}, BAD_URL + "has a bad port"),
        (storage(url=""), {}, BAD_URL + "must look like postgresql://"),
        ({**NO_PATH, ("storage", "url"): "5432"}, {}, BAD_URL + "must be a non-empty string"),
    ],
)
def test_a_wrong_storage_setting_is_one_line_without_the_password(
    tmp_path: Path, overrides: dict[tuple[str, str], str | None], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, render(overrides)), env)
    line = str(info.value)
    assert line.startswith(message), f"the operator would read {line!r}"
    assert "\n" not in line, f"the start-up error spans several lines: {line!r}"
    assert PASSWORD not in line, f"the password reached the operator's screen: {line!r}"


def test_the_example_file_opens_postgresql_given_the_variable() -> None:
    config = load_config(ROOT / "config.example.toml", {**ENV, ENV_STORAGE_URL: URL})
    assert (config.storage.target, config.storage.shown) == (URL, SHOWN)


def _refused_port() -> int:
    """A localhost port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _startup_line(tmp_path: Path, overrides: dict[tuple[str, str], str | None]) -> str:
    config = load_config(write(tmp_path, render(overrides)), {})
    with pytest.raises(StartupError) as info:
        repo = await open_checked(config)
        await repo.close()
    line = str(info.value)
    assert "\n" not in line, f"the operator saw several lines: {line!r}"
    assert PASSWORD not in line, f"the password reached the operator's screen: {line!r}"
    return line


async def test_an_unreachable_postgresql_is_one_startup_line(tmp_path: Path) -> None:
    url = f"postgresql://survey:{PASSWORD}@127.0.0.1:{_refused_port()}/survey"
    line = await _startup_line(tmp_path, storage(url=url))
    shown = url.replace(PASSWORD, "***")
    assert line.startswith(f"storage.url: cannot open the database {shown} ("), line


async def test_a_missing_postgresql_database_is_one_startup_line(
    tmp_path: Path, postgres_server: str
) -> None:
    url = backends.with_database(postgres_server, "no_such_db").replace(
        "://survey@", "://survey:x@"
    )
    line = await _startup_line(tmp_path, storage(url=url))
    assert line.startswith("storage.url: cannot open the database postgresql://survey:***@"), line
    assert "no_such_db" in line and "does not exist" in line, line


async def test_a_postgresql_database_newer_than_the_code_is_one_startup_line(
    tmp_path: Path, postgres_url: str
) -> None:
    repo = await open_checked(load_config(write(tmp_path, render(storage(url=postgres_url))), {}))
    await backends.execute(repo, "UPDATE schema_version SET version = 999")
    await repo.close()
    url = postgres_url.replace("://survey@", f"://survey:{PASSWORD}@")  # trust: any password
    line = await _startup_line(tmp_path, storage(url=url))
    assert line.startswith("storage.url: cannot open the database postgresql://survey:***@"), line
    assert "schema version 999, newer than this survey-bot" in line, line


async def test_a_sqlite_database_newer_than_the_code_is_one_startup_line(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render()), {})
    repo = await open_checked(config)
    await repo.close()
    with sqlite3.connect(config.storage.path) as conn:
        conn.execute("PRAGMA user_version = 999")
    line = await _startup_line(tmp_path, {})
    assert line.startswith(f"storage.path: cannot open the database {config.storage.path} ("), line
    assert "schema version 999" in line, line


def test_a_sqlite_setup_never_imports_asyncpg(tmp_path: Path) -> None:
    path = write(tmp_path, render())
    script = (
        "import asyncio, sys\n"
        "from bot.process.database import open_checked\n"
        "from bot.config import load_config\n"
        "async def main():\n"
        f"    repo = await open_checked(load_config({str(path)!r}, {{}}))\n"
        "    await repo.close()\n"
        "asyncio.run(main())\n"
        "print('asyncpg' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", "a SQLite install would need asyncpg to start"
