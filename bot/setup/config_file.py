"""Writing config.toml for people: `survey-bot init` and `/claim` edit it with tomlkit, so every
comment, blank line and key order the operator sees stays as it was.

Each write is checked first (the new text must still pass `parse_config`) and then replaces the
file atomically, so a failed or interrupted write never leaves a broken config behind.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.items import Array, Table

from bot.config import (
    ENV_API_TOKEN,
    ENV_TOKEN,
    ENV_WEBHOOK_SECRET,
    Config,
    ConfigError,
    parse_config,
)

# init leaves the staff chat unset (the example's id is a placeholder that start-up would refuse)
# and marks the line, so a claim can put the real id exactly where the comment above explains it.
STAFF_PLACEHOLDER = "# staff_chat_id: not set yet; /claim <code> in the staff group fills it in"
CLAIM_NOTE = "true once /claim records the staff group"
_STAFF_LINE = re.compile(r"^staff_chat_id\s*=.*$", re.MULTILINE)
_PLACEHOLDER_LINE = re.compile(r"^# staff_chat_id: not set yet.*$", re.MULTILINE)


def initial_config(example: str, *, token: str, api_base: str, api_token: str) -> str:
    """config.example.toml with the token, the API base and a fresh API secret filled in.

    Alerts stay off until a staff group is claimed: without a staff chat start-up refuses them.
    """
    text, found = _STAFF_LINE.subn(STAFF_PLACEHOLDER, example, count=1)
    doc = tomlkit.parse(text)
    telegram = _table(doc, "telegram")
    telegram["token"] = token
    telegram["api_base"] = api_base
    _table(doc, "api")["token"] = api_token
    enabled = tomlkit.item(False)
    enabled.comment(CLAIM_NOTE)
    _table(doc, "alerts")["enabled"] = enabled
    result = tomlkit.dumps(doc)
    if not found:  # an example without the key: the placeholder still tells the reader
        result = result.replace("[telegram]\n", f"[telegram]\n{STAFF_PLACEHOLDER}\n", 1)
    return result


def set_staff_chat(text: str, chat_id: int) -> str:
    """The config with `[telegram] staff_chat_id = chat_id` and alerts turned on."""
    line = f"staff_chat_id = {chat_id}"
    if _PLACEHOLDER_LINE.search(text):
        text = _PLACEHOLDER_LINE.sub(line, text, count=1)
        doc = tomlkit.parse(text)
    else:
        doc = tomlkit.parse(text)
        _table(doc, "telegram")["staff_chat_id"] = chat_id
    alerts = doc.get("alerts")
    if isinstance(alerts, Table) and alerts.get("enabled") is False:
        # init's note has done its job; a comment of the operator's own stays.
        trivia = getattr(alerts.item("enabled"), "trivia", None)
        if trivia is not None and CLAIM_NOTE in trivia.comment:
            trivia.comment, trivia.comment_ws = "", ""
        alerts["enabled"] = True
    return tomlkit.dumps(doc)


def add_manager(text: str, user_id: int) -> tuple[str, bool]:
    """The config with `user_id` in `[telegram] manager_ids`; False when it already was."""
    doc = tomlkit.parse(text)
    telegram = _table(doc, "telegram")
    managers = telegram.get("manager_ids")
    if isinstance(managers, Array):
        if user_id in managers:
            return text, False
        managers.append(user_id)
    else:
        telegram["manager_ids"] = [user_id]
    return tomlkit.dumps(doc), True


def secrets_of(config: Config) -> dict[str, str]:
    """The running config's secrets as the environment would give them, to check an edit with
    (they may have come from the environment, and the file then has none)."""
    env = {ENV_TOKEN: config.telegram.token, ENV_API_TOKEN: config.api.token}
    if config.telegram.webhook_secret is not None:
        env[ENV_WEBHOOK_SECRET] = config.telegram.webhook_secret
    return env


def check(text: str, path: Path, env: Mapping[str, str]) -> None:
    """Raise ConfigError if `text` would not load as the config at `path`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    parse_config(raw, env, path.parent.resolve())


def write(path: Path, text: str, env: Mapping[str, str]) -> None:
    """Check `text`, then replace `path` with it atomically (owner-only: it holds the token)."""
    check(text, path, env)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(text)
            fp.flush()
            os.fsync(fp.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _table(doc: tomlkit.TOMLDocument, name: str) -> Table:
    table = doc.get(name)
    if not isinstance(table, Table):
        table = tomlkit.table()
        doc[name] = table
    return table
