"""A campaign run by hand from the command line while the real bot process runs."""

from __future__ import annotations

import asyncio
import os
import sys

from .harness import ROOT, BotProcess
from .test_survey_loop import next_message, score_buttons

# Recontact off: the customers have just had a CSAT question from their purchase, and this test
# is about the campaign reaching them (recontact has its own tests in test_pacing.py).
CAMPAIGN = """
[throttle]
recontact = "0s"

[campaigns.b2b_nps]
survey = "nps"
[campaigns.b2b_nps.audience]
"context.segment" = "b2b"
"""


async def survey_bot(bot: BotProcess, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        "--config",
        str(bot.workdir / "config.toml"),
        cwd=bot.workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_campaign_run_by_hand_reaches_its_audience_through_the_running_bot(
    emulator, start_bot
):
    bot = await start_bot(CAMPAIGN)
    customers = {701: "b2b", 702: "B2B", 703: "retail"}
    for customer, segment in customers.items():
        status, body = await bot.post_event(
            {
                "event_id": f"order-{customer}",
                "type": "purchase",
                "customer": {"telegram_id": customer, "language": "en"},
                "context": {"segment": segment},
                "delay_seconds": 0,
            }
        )
        assert status == 202, body
        await next_message(emulator, customer, 0)  # their purchase's CSAT question
    mark = len(emulator.calls)

    code, out, _ = await survey_bot(bot, "campaign", "run", "b2b_nps", "--dry-run")
    assert code == 0 and "campaign b2b_nps: 2 would be invited" in out, out
    code, out, _ = await survey_bot(bot, "campaign", "run", "b2b_nps")
    assert code == 0 and "campaign b2b_nps run 1: 2 invited" in out, out

    for customer in (701, 702):  # "B2B" matches "b2b": context values ignore case
        question = await next_message(emulator, customer, mark)
        assert [b["text"].split()[0] for b in score_buttons(question)] == [
            str(n) for n in range(11)
        ]
    assert not emulator.calls_of("sendMessage", chat_id=703)[1:], "retail got the b2b campaign"
    code, _, err = await survey_bot(bot, "campaign", "run", "b2c_nps")
    assert code == 2 and "unknown campaign 'b2c_nps' (configured: b2b_nps)" in err
