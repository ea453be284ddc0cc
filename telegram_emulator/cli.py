"""The command line: ``python -m telegram_emulator --port 8081`` serves the Bot API and /control."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .limits import FloodLimits
from .server import BotAPIEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m telegram_emulator",
        description="Local Telegram Bot API emulator with a control API under /control/",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (8081)")
    parser.add_argument(
        "--token", default="123456:TEST", help='the bot token to accept; "any" accepts every token'
    )
    parser.add_argument(
        "--bot-username", "--username", dest="bot_username", default="survey_test_bot"
    )
    parser.add_argument("--bot-name", default="Survey Test Bot", help="the bot's display name")
    parser.add_argument(
        "--no-privacy",
        dest="privacy_mode",
        action="store_false",
        help="let the bot see every group message (privacy mode off)",
    )
    parser.add_argument(
        "--limits",
        action="store_true",
        help="enforce Telegram's flood limits (30 msg/s, 20/min per group, ~1/s per chat): 429",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; prints the base URL and where the control API is."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    emulator = BotAPIEmulator(
        None if args.token == "any" else args.token,
        bot_username=args.bot_username,
        bot_name=args.bot_name,
        privacy_mode=args.privacy_mode,
        limits=FloodLimits() if args.limits else None,
    )
    base_url = f"http://{args.host}:{args.port}"
    print(f"Bot API emulator at {base_url} (token {args.token}, bot @{args.bot_username})")
    print(
        f"Act as a user over HTTP: {base_url}/control (JSON; see telegram_emulator/README.md)",
        flush=True,
    )
    web.run_app(emulator.make_app(), host=args.host, port=args.port, print=None)
