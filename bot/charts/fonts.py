"""A font with Chinese glyphs for the charts, found through matplotlib's font manager.

DejaVu Sans (matplotlib's own) has no CJK glyphs: Chinese labels drew as boxes. With a CJK font
on the system (Debian/Ubuntu: `apt install fonts-noto-cjk`) it is added as a fallback family
after DejaVu Sans, so Latin text keeps its look and Chinese characters come from the CJK font.
Without one, Chinese readers get the charts' words in English, and the log says so once.

matplotlib caches the system's fonts the first time it runs; a font installed later is not in
that cache, so the font files are looked for as well (about 10 ms, once per process).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import matplotlib
from matplotlib import font_manager

logger = logging.getLogger(__name__)

BASE_FAMILY = "DejaVu Sans"
# File names of fonts with Chinese glyphs: Noto CJK (fonts-noto-cjk), Source Han, WenQuanYi.
_CJK_FILES = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy-", "droidsansfallback")


def _cjk_in_cache() -> str | None:
    names = sorted({entry.name for entry in font_manager.fontManager.ttflist})
    sans = [n for n in names if "CJK" in n and "Sans" in n]
    found = sans or [n for n in names if "CJK" in n or "WenQuanYi" in n]
    return found[0] if found else None


@functools.cache
def cjk_family() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    found = _cjk_in_cache()
    if found is None:
        for path in font_manager.findSystemFonts():
            if Path(path).name.lower().startswith(_CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    logger.debug("font %s could not be read", path)
        found = _cjk_in_cache()
    # Every chart: DejaVu Sans first, the CJK font for the glyphs it lacks.
    matplotlib.rcParams["font.family"] = [BASE_FAMILY, *([found] if found else [])]
    return found
