"""``python -m telegram_emulator``: serve the Bot API and the control API."""

from .cli import main

main()
