"""Charts are drawn in one worker process, not in the bot's.

matplotlib (about 30 MB once a chart is drawn) stays out of the bot's own process, and a slow
chart never holds up a customer's press: the bot awaits the PNG while it goes on answering.
The worker is started on first use (`spawn`: a fresh interpreter, nothing inherited), replaced
after 100 charts so its memory does not creep, and started again if it dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar, TypeVarTuple, assert_never

from bot.charts.models import ChartJob, OverviewChart, ReasonsChart, SegmentsChart, TrendChart

logger = logging.getLogger(__name__)

CHARTS_PER_WORKER = 100

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def _render(job: ChartJob) -> bytes:
    """In the worker: draw one chart."""
    from bot.charts import figures
    from bot.charts import reasons as reasons_chart

    match job:
        case TrendChart():
            return figures.render_trend(
                job.metric, job.title, job.points, job.total, job.labels, job.frame
            )
        case OverviewChart():
            return figures.render_overview(job.title, job.series, job.labels, job.frame)
        case SegmentsChart():
            return figures.render_segments(job.metric, job.title, job.segments, job.labels)
        case ReasonsChart():
            fig = reasons_chart.draw_reasons(
                job.title, job.edges, job.counts, job.names, job.labels, job.tz, job.ylabel
            )
            return figures.png_or_empty(fig, job.title, job.labels)
        case _:
            assert_never(job)


def _cjk_family() -> str | None:
    """In the worker: the CJK font it draws Chinese with."""
    from bot.charts.fonts import cjk_family

    return cjk_family()


class ChartWorker:
    """The chart worker process, owned by the app (which closes it on the way out) and given to
    whatever draws charts. The process starts on first use."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._cjk_asked = False
        self._cjk: str | None = None

    async def draw(self, job: ChartJob) -> bytes:
        """The chart's PNG, drawn in the worker."""
        return await self._run(_render, job)

    async def cjk_family(self) -> str | None:
        """The CJK font the worker found (asked once: fonts do not change while it runs)."""
        if not self._cjk_asked:
            self._cjk = await self._run(_cjk_family)
            self._cjk_asked = True
        return self._cjk

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=CHARTS_PER_WORKER,
            )
        return self._pool

    async def _run(self, func: Callable[[*Ts], T], *args: *Ts) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), func, *args)
        except BrokenProcessPool:
            logger.warning("the chart worker died; starting a new one")
            self._pool = None
            return await loop.run_in_executor(self._executor(), func, *args)
