"""How the outbox workers wait: until woken, until the next due time, or a bounded while."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from survey_flows.clock import Clock


async def idle_until(
    wake: asyncio.Event, next_due: datetime | None, clock: Clock, max_idle: float
) -> None:
    """Sleep until woken, until `next_due`, or for `max_idle` seconds, whichever comes first.

    The cap bounds how late work is noticed when the clock or another process changed things.
    """
    timeout = max_idle
    if next_due is not None:
        timeout = min(timeout, max((next_due - clock()).total_seconds(), 0.0))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout)
    wake.clear()
