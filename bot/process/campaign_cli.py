"""`survey-bot campaign run <name> [--dry-run]`: a campaign run by hand, from the command line.

It opens the database itself, so it works while the bot runs (SQLite WAL): the running bot's
delivery worker looks at the outbox at least once a second and sends what this inserted.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from bot.config import Config
from bot.process.database import open_checked
from bot.process.startup import StartupError
from bot.workers.campaigns import Campaigns, recontact_window
from storage.records import Selection, Skip
from survey_flows.clock import system_clock

REASONS = {
    Skip.OPTED_OUT: "opted out",
    Skip.UNREACHABLE: "unreachable (blocked the bot)",
    Skip.SURVEYED_RECENTLY: "surveyed recently",
    Skip.NO_CHAT: "no Telegram chat",
    Skip.ALREADY_INVITED: "already invited in this run",
}


def skipped_lines(selection: Selection) -> list[str]:
    """One line per reason, every reason shown (0 included), in a fixed order."""
    width = max(len(label) for label in REASONS.values())
    return [
        f"  {label + ':':<{width + 1}} {selection.skipped.get(reason, 0)}"
        for reason, label in REASONS.items()
    ]


async def run_campaign_command(config: Config, name: str, *, dry_run: bool) -> int:
    cfg = config.campaigns.get(name)
    if cfg is None:
        known = ", ".join(sorted(config.campaigns)) or "none configured"
        print(f"survey-bot: unknown campaign {name!r} (configured: {known})", file=sys.stderr)
        return 2
    try:
        repo = await open_checked(config)
    except StartupError as exc:
        print(f"survey-bot campaign: {exc}", file=sys.stderr)
        return 2
    try:
        campaigns = Campaigns(
            repo.campaigns, config.campaigns, system_clock, recontact=recontact_window(config)
        )
        if dry_run:
            selection, run = await campaigns.dry_run(name)
            where = f" (resuming unfinished run {run.id})" if run else ""
            print(f"campaign {name}: {len(selection.invite)} would be invited{where}")
            print("not invited:")
            print("\n".join(skipped_lines(selection)))
            pace = timedelta(seconds=round(len(selection.invite) / cfg.per_second))
            print(f"sending would take about {pace} at {cfg.per_second} a second; nothing changed")
            return 0
        result = await campaigns.run_by_hand(name)
    finally:
        await repo.close()
    done = result.selection
    assert done is not None  # a run by hand is never one that had finished before
    resumed = " (resumed an unfinished run)" if result.resumed else ""
    print(f"campaign {name} run {result.run.id}{resumed}: {result.invited} invited")
    print("not invited:")
    print("\n".join(skipped_lines(done)))
    return 0
