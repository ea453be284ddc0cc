"""`survey-bot demo`: the real bot against the bundled emulator, a simulated shop and a web page.

Nothing in the product imports this package except the `demo` subcommand of `bot/cli.py`.
"""
