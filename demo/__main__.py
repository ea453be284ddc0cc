"""`python -m demo` is `survey-bot demo`."""

import sys

from bot.cli import main

sys.exit(main(["demo", *sys.argv[1:]]))
