"""Fonts for glosses and texts in four languages (Chinese needs a CJK font).

matplotlib's bundled DejaVu Sans has no CJK glyphs. :func:`setup_fonts` (called by every
plotting function) adds the first installed CJK font it finds as a fallback family, so Chinese
glosses render wherever the machine has one (e.g. Debian's ``fonts-noto-cjk``). Where none is
installed, Chinese characters show as boxes and the per-glyph warnings are silenced once, so an
executed notebook is not flooded with them; the README says how to get the font.
"""

from __future__ import annotations

import functools
import warnings

import matplotlib
from matplotlib import font_manager

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "SimHei", "Microsoft YaHei",
                "PingFang SC", "Heiti SC", "AR PL UMing CN")


@functools.lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """Name of an installed CJK font family, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def setup_fonts() -> str | None:
    """Make CJK text render if a CJK font is installed; return its family name (or None)."""
    family = cjk_family()
    if family is None:
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        return None
    current = list(matplotlib.rcParams["font.sans-serif"])
    if family not in current:
        matplotlib.rcParams["font.sans-serif"] = current + [family]
    families = list(matplotlib.rcParams["font.family"])
    if families != ["sans-serif"]:
        matplotlib.rcParams["font.family"] = ["sans-serif"]
    return family
