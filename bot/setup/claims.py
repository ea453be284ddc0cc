"""One-time setup codes: `/claim <code>` makes a group the staff chat and a person a manager.

`survey-bot init` issues a code; it is kept, hashed and salted, in a small file beside the config
(`config.toml.claim`), so both `init` (while it waits) and the running bot can redeem it. A code
has two uses, one per role: the staff group once and a manager once. It expires 15 minutes after
it was issued. A wrong, expired or used code changes nothing. Everything here is synchronous and
quick, so within one process two claims cannot interleave between reading and writing the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot.config import ConfigError
from bot.setup import config_file
from bot.views.texts import N_, t

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=15)
# No 0/O, 1/I/L: a code is read off a terminal and typed on a phone.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class Role(StrEnum):
    STAFF_CHAT = "staff_chat"
    MANAGER = "manager"


class Outcome(StrEnum):
    """What a /claim did; each is one line to the person who sent it (`reply()`)."""

    STAFF_CHAT = "staff_chat"  # this group is now the staff chat
    MANAGER = "manager"  # this person is now a manager
    ALREADY_MANAGER = "already_manager"
    WRONG = "wrong"  # no code pending, or not this one
    EXPIRED = "expired"
    USED = "used"  # this role was claimed with this code already
    PRIVATE_ONLY = "private_only"  # a manager claim in a channel or similar
    FAILED = "failed"  # the config could not be written


# The outcomes that change nothing: one line says why.
REFUSALS = {
    Outcome.ALREADY_MANAGER: N_("claim.already_manager"),
    Outcome.WRONG: N_("claim.wrong"),
    Outcome.EXPIRED: N_("claim.expired"),
    Outcome.USED: N_("claim.used"),
    Outcome.PRIVATE_ONLY: N_("claim.private_only"),
    Outcome.FAILED: N_("claim.failed"),
}


@dataclass(frozen=True, slots=True)
class Claimed:
    outcome: Outcome
    done: frozenset[Role]  # roles claimed with this code so far (after this claim)


def claim_file(config_path: Path) -> Path:
    return config_path.with_name(config_path.name + ".claim")


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise(code)}".encode()).hexdigest()


def issue(config_path: Path, now: datetime) -> str:
    """A fresh code for `config_path` (replacing any earlier one); returns it in clear once."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    salt = secrets.token_hex(16)
    state = {
        "salt": salt,
        "sha256": _digest(salt, code),
        "expires_at": (now + CODE_TTL).isoformat(),
        "done": [],
    }
    _save(claim_file(config_path), state)
    return code


def pending(config_path: Path, now: datetime) -> frozenset[Role] | None:
    """The roles already claimed with the current code, or None when no code is valid now."""
    state = _load(claim_file(config_path))
    if state is None or now >= datetime.fromisoformat(state["expires_at"]):
        return None
    return frozenset(Role(r) for r in state["done"])


def redeem(
    config_path: Path,
    code: str,
    *,
    chat_id: int,
    chat_type: str,
    user_id: int,
    now: datetime,
    env: Mapping[str, str],
) -> Claimed:
    """Check `code` and, if it is good, write the claim into the config file.

    In a group (or supergroup) the code records that chat as `[telegram] staff_chat_id`; in a
    private chat it adds the sender to `[telegram] manager_ids`.
    """
    path = claim_file(config_path)
    state = _load(path)
    done = frozenset(Role(r) for r in state["done"]) if state else frozenset()
    if state is None or not hmac.compare_digest(state["sha256"], _digest(state["salt"], code)):
        return Claimed(Outcome.WRONG, done)
    if now >= datetime.fromisoformat(state["expires_at"]):
        return Claimed(Outcome.EXPIRED, done)
    if chat_type in ("group", "supergroup"):
        role = Role.STAFF_CHAT
    elif chat_type == "private":
        role = Role.MANAGER
    else:
        return Claimed(Outcome.PRIVATE_ONLY, done)
    if role in done:
        return Claimed(Outcome.USED, done)
    try:
        text = config_path.read_text(encoding="utf-8")
        changed = True
        if role is Role.STAFF_CHAT:
            text = config_file.set_staff_chat(text, chat_id)
        else:
            text, changed = config_file.add_manager(text, user_id)
        if changed:
            config_file.write(config_path, text, env)
    except (OSError, ConfigError) as exc:
        logger.error("claim of %s by %s not recorded: %s", role, user_id, exc)
        return Claimed(Outcome.FAILED, done)
    done = done | {role}
    if len(done) == len(Role):
        path.unlink(missing_ok=True)  # both uses spent: nothing left to guess
    else:
        _save(path, {**state, "done": sorted(done)})
    logger.info("claim: %s recorded (chat %s, user %s)", role, chat_id, user_id)
    if role is Role.STAFF_CHAT:
        return Claimed(Outcome.STAFF_CHAT, done)
    return Claimed(Outcome.MANAGER if changed else Outcome.ALREADY_MANAGER, done)


def reply(claimed: Claimed, chat_id: int, user_id: int, lang: str, *, running: bool) -> str:
    """What a claim is answered with in its chat (by the running bot or by `survey-bot init`)."""
    outcome = claimed.outcome
    if outcome is Outcome.STAFF_CHAT:
        text = t(lang, "claim.staff_chat", chat_id=chat_id)
        if running:  # the alert worker and the checks start with the process
            text += " " + t(lang, "claim.restart")
    elif outcome is Outcome.MANAGER:
        text = t(lang, "claim.manager", user_id=user_id)
    else:
        return t(lang, REFUSALS[outcome])
    if Role.MANAGER not in claimed.done:
        text += "\n" + t(lang, "claim.next_manager")
    elif Role.STAFF_CHAT not in claimed.done:
        text += "\n" + t(lang, "claim.next_staff_chat")
    return text


def _load(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not {"salt", "sha256", "expires_at", "done"} <= set(state):
        return None
    return state


def _save(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        json.dump(state, fp)
        fp.flush()
        os.fsync(fp.fileno())  # a use is spent on disk before the claim is answered
    os.replace(tmp, path)
