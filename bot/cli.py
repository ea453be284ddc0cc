"""`survey-bot run --config config.toml` (and `python -m bot`), `check-config`, `import`,
`campaign run`; `survey-bot demo` to try it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bot.config import ENV_TOKEN, Config, ConfigError, environment, load_config, log_level
from bot.process.startup import StartupError, check_telegram


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="survey-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot, its intake API and its workers")
    run.add_argument("--config", default="config.toml", help="path to the TOML config")
    run.add_argument("--log-level", default=log_level("INFO"))
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

    migration = sub.add_parser(
        "migrate",
        help="create or upgrade the database to this version's schema, then exit (run does it too)",
    )
    migration.add_argument("--config", default="config.toml", help="path to the TOML config")
    demo = sub.add_parser(
        "demo",
        help="try it without Telegram: the bot, a simulated shop and a web page, all local",
    )
    demo.add_argument("--data", help="keep the demo's database in this folder (default: temporary)")
    demo.add_argument("--port", type=int, default=8765, help="the web page's port (0: any free)")
    demo.add_argument("--customers", type=_positive_int, default=40)
    demo.add_argument(
        "--speed", type=_positive_float, default=10.0, help="real seconds per simulated hour"
    )
    demo.add_argument(
        "--duration", type=_positive_float, help="stop after this many seconds and summarise"
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument("--seed", type=int, help="the same seed gives the same shop")
    demo.add_argument("--log-level", default=log_level("WARNING"))
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
    if args.command == "demo":
        return run_demo(args)
    if args.command == "init":
        return init_config(args)

    try:
        config = load_config(args.config, environment())
    except ConfigError as exc:
        print(f"survey-bot: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        return check_config(args.config, config, online=args.online)
    if args.command == "migrate":
        from bot.process.database import migrate

        return _serve(migrate(config), "survey-bot migrate", StartupError)
    if args.command == "import":
        return asyncio.run(import_file(config, args.kind, args.file))

    if args.command == "campaign":
        from bot.process.campaign_cli import run_campaign_command

        return asyncio.run(run_campaign_command(config, args.name, dry_run=args.dry_run))

    _setup_logging(args.log_level)
    from bot.app import run as run_bot
    from bot.telegram.polling import PollingConflict

    return _serve(run_bot(config), "survey-bot", StartupError, PollingConflict)


def _serve(main: Coroutine[Any, Any, object], name: str, *fatal: type[Exception]) -> int:
    """Run until done or Ctrl-C; one of the `fatal` errors is one line on stderr and exit 2."""
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main)
    except fatal as exc:
        print(f"{name}: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def run_demo(args: argparse.Namespace) -> int:
    """The demo lives in its own package, which only this command loads (the emulator with it)."""
    from pathlib import Path

    from demo.run import DemoOptions, run_demo

    _setup_logging(args.log_level)
    options = DemoOptions(
        data=Path(args.data) if args.data else None,
        port=args.port,
        customers=args.customers,
        speed=args.speed,
        duration=args.duration,
        browser=not args.no_browser,
        seed=args.seed,
    )
    return _serve(run_demo(options), "survey-bot demo", StartupError, OSError)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # These log every statement or font lookup at DEBUG: never useful, and it would drown ours.
    for noisy in ("aiosqlite", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    # aiogram says "Update id=… is handled" at INFO for every update: a line per press, which
    # costs CPU and says nothing our own lines do not. Kept when debugging.
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)


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
    from bot.intake.events import Intake
    from bot.intake.imports import run_import
    from bot.process.database import open_checked
    from survey_flows.clock import system_clock as clock

    try:
        repo = await open_checked(config)
    except StartupError as exc:
        print(f"survey-bot import: {exc}", file=sys.stderr)
        return 2
    try:
        return await run_import(kind, path, repo, Intake(config, repo, clock), clock)
    finally:
        await repo.close()


def init_config(args: argparse.Namespace) -> int:
    """`survey-bot init`: one line on stderr and exit code 2 for anything that stops it."""
    from bot.setup.wizard import InitOptions, SetupError, init

    options = InitOptions(
        config=Path(args.config),
        token=args.token,
        api_base=args.api_base,
        interactive=not args.yes and sys.stdin.isatty(),
        wait=not args.no_wait,
    )
    try:
        return asyncio.run(init(options, environment(), sys.stdout))
    except SetupError as exc:
        print(f"survey-bot: init: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print(
            "\nStopped waiting. The running bot (survey-bot run) accepts the code until it expires."
        )
        return 130
