"""Charts are drawn in one worker process, not in the bot's.

matplotlib (about 30 MB once a chart is drawn) stays out of the bot's own process, and a slow
chart never holds up a customer's press: the bot awaits the PNG while it goes on answering.
The worker is started on first use (`spawn`: a fresh interpreter, nothing inherited), replaced
after 100 charts so its memory does not creep, and started again if it dies.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

logger = logging.getLogger(__name__)

CHARTS_PER_WORKER = 100

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            max_tasks_per_child=CHARTS_PER_WORKER,
        )
    return _pool


def _render(kind: str, args: tuple[Any, ...]) -> bytes:
    """In the worker: draw one chart."""
    from bot.charts import figures as charts
    from bot.charts import reasons as chart_reasons

    renderers: dict[str, Callable[..., bytes]] = {
        "trend": charts.render_trend,
        "overview": charts.render_overview,
        "segments": charts.render_segments,
        "reasons": chart_reasons.render_reasons,
    }
    return renderers[kind](*args)


def _cjk_family() -> str | None:
    from bot.charts.fonts import cjk_family

    return cjk_family()


async def _run(func: Any, *args: Any) -> Any:
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), func, *args)
    except BrokenProcessPool:
        logger.warning("the chart worker died; starting a new one")
        _pool = None
        return await loop.run_in_executor(_executor(), func, *args)


async def draw(kind: str, *args: Any) -> bytes:
    """A chart's PNG, drawn in the worker: kind is trend, overview, segments or reasons."""
    png: bytes = await _run(_render, kind, args)
    return png


trend_png = functools.partial(draw, "trend")
overview_png = functools.partial(draw, "overview")
segments_png = functools.partial(draw, "segments")
reasons_png = functools.partial(draw, "reasons")

_cjk: list[str | None] = []


async def cjk_family() -> str | None:
    """The CJK font the worker found (asked once per process)."""
    if not _cjk:
        _cjk.append(await _run(_cjk_family))
    return _cjk[0]


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
