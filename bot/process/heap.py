"""The garbage collector, tuned once start-up is over.

Everything imported and built while starting (aiogram's and pydantic's classes and models, the
catalogues, the config) lives as long as the process. CPython's full collections walk all of
it again and again: a burst of presses or an export's tens of thousands of rows triggers one
every few thousand allocations. `gc.freeze()` moves those objects out of the collector's sight;
the collector still frees everything made afterwards.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def settle_after_startup() -> None:
    """Collect once, then freeze what survived: call when the process is ready to serve."""
    gc.collect()
    gc.freeze()
    logger.debug("%d start-up objects frozen for the garbage collector", gc.get_freeze_count())
