"""`survey-bot run --config config.toml` (and `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from .config import ENV_TOKEN, Config, ConfigError, load_config
from .startup import StartupError, check_telegram


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="survey-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot, its intake API and its workers")
    run.add_argument("--config", default="config.toml", help="path to the TOML config")
    run.add_argument("--log-level", default=os.environ.get("SURVEY_BOT_LOG_LEVEL", "INFO"))
    check = sub.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("--config", default="config.toml")
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Telegram: the token (getMe) and the staff chat (getChat, getChatMember)",
    )
    init = sub.add_parser(
        "init",
        help="write config.toml, then make a group the staff chat and you a manager (/claim)",
    )
    init.add_argument("--config", default="config.toml", help="the config file to write")
    init.add_argument("--token", help=f"the bot token from @BotFather (or set {ENV_TOKEN})")
    init.add_argument(
        "--api-base", help="Bot API server (default https://api.telegram.org; the emulator's URL)"
    )
    init.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="ask nothing (for scripts): the token must be given",
    )
    init.add_argument(
        "--no-wait", action="store_true", help="print the code and exit; the running bot takes it"
    )
    argv = sys.argv[1:] if argv is None else argv
    # `survey-bot` or `python -m bot` alone runs the bot with ./config.toml.
    args = parser.parse_args(argv or ["run"])
    if args.command == "init":
        return init_config(args)

    try:
        config = load_config(args.config, os.environ)
    except ConfigError as exc:
        print(f"survey-bot: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        return check_config(args.config, config, online=args.online)

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # These log every statement or font lookup at DEBUG: never useful, and it would drown ours.
    for noisy in ("aiosqlite", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    from .app import run as run_bot

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_bot(config))
    except StartupError as exc:
        print(f"survey-bot: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def check_config(path: str, config: Config, *, online: bool) -> int:
    """Say what was checked: the file always; Telegram's view of the token and chat if asked."""
    if not online:
        print(
            f"{path}: ok (keys and values checked offline; the token and the staff chat were "
            "not: add --online to ask Telegram)"
        )
        return 0
    try:
        checked = asyncio.run(check_telegram(config))
    except StartupError as exc:
        print(f"survey-bot: config error: {exc}", file=sys.stderr)
        return 2
    staff = f"staff chat {checked.staff_chat}" if checked.staff_chat else "no staff chat"
    print(f"{path}: ok (keys and values; token of {checked.username}; {staff})")
    return 0


def init_config(args: argparse.Namespace) -> int:
    """`survey-bot init`: one line on stderr and exit code 2 for anything that stops it."""
    from .setup import InitOptions, SetupError, init

    options = InitOptions(
        config=Path(args.config),
        token=args.token,
        api_base=args.api_base,
        interactive=not args.yes and sys.stdin.isatty(),
        wait=not args.no_wait,
    )
    try:
        return asyncio.run(init(options, os.environ, sys.stdout))
    except SetupError as exc:
        print(f"survey-bot: init: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print(
            "\nStopped waiting. The running bot (survey-bot run) accepts the code until it expires."
        )
        return 130
