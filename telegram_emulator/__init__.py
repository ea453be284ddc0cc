"""A local Telegram Bot API server (aiohttp) that tests and the demo run the bot against."""

from .emulator import BotAPIEmulator, Call, format_text

__all__ = ["BotAPIEmulator", "Call", "format_text"]
