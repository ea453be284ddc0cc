"""`survey-bot run --config config.toml` (and `python -m bot`), `check-config`, `import`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from .config import Config, ConfigError, load_config
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
    imports = sub.add_parser("import", help="import events or past answers from a CSV file")
    what = imports.add_subparsers(dest="kind", required=True)
    for kind, text in (
        ("events", "one event per row, through the same checks as the intake API"),
        ("answers", "past scores from another tool, as history for trends"),
    ):
        one = what.add_parser(kind, help=text)
        one.add_argument("file", help="CSV file, UTF-8, `,` or `;` between cells")
        one.add_argument("--config", default="config.toml")

    campaign = sub.add_parser("campaign", help="campaigns ([campaigns.<name>] in the config)")
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    campaign_run = campaign_sub.add_parser("run", help="run a campaign now, by hand")
    campaign_run.add_argument("name", help="the campaign's name, as in [campaigns.<name>]")
    campaign_run.add_argument(
        "--dry-run", action="store_true", help="only say how many would be invited, and why not"
    )
    campaign_run.add_argument("--config", default="config.toml")
    argv = sys.argv[1:] if argv is None else argv
    # `survey-bot` or `python -m bot` alone runs the bot with ./config.toml.
    args = parser.parse_args(argv or ["run"])

    try:
        config = load_config(args.config, os.environ)
    except ConfigError as exc:
        print(f"survey-bot: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        return check_config(args.config, config, online=args.online)
    if args.command == "import":
        return asyncio.run(import_file(config, args.kind, args.file))

    if args.command == "campaign":
        from .campaign_cli import run_campaign_command

        return asyncio.run(run_campaign_command(config, args.name, dry_run=args.dry_run))

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


async def import_file(config: Config, kind: str, path: str) -> int:
    """Import into the configured database; a running bot shares it (SQLite WAL) and its
    delivery worker notices the new invitations within a second."""
    from survey_flows.clock import system_clock as clock

    from .imports import run_import
    from .intake import Intake
    from .repository import open_repo

    repo = await open_repo(config)
    try:
        return await run_import(kind, path, repo, Intake(config, repo, clock), clock)
    finally:
        await repo.close()
