"""The CJK font electronic notices are set in (found once per process).

A notice must carry its font: a PDF that names a font the reader's machine lacks shows boxes,
and text extraction (search, screen readers, archiving) needs the glyph-to-Unicode map an
embedded TrueType subset brings. The first usable TrueType font of :data:`CANDIDATES` is
registered with reportlab and embedded as a subset. Without one, notices fall back to the
Adobe CID font ``STSong-Light`` — readable in most PDF readers but not embedded, so what a
reader shows depends on its own fonts; a warning is logged once.

Install one on Debian/Ubuntu with ``apt-get install fonts-wqy-zenhei``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger("zwfw.cases")

# Streams stay Flate-compressed binary: reportlab's default ASCII85 layer on top makes them a
# quarter larger and costs ~25 ms per page image in its pure-Python encoder.
rl_config.useA85 = 0

#: Registered name of the embedded font in reportlab.
EMBEDDED_NAME = "ZwfwCJK"
#: Built-in (not embedded) Adobe CID font used when no TrueType CJK font is installed.
FALLBACK_NAME = "STSong-Light"

#: (path, index of the face in a .ttc collection), first usable wins. Only TrueType outlines
#: work with reportlab: the OpenType/CFF Noto CJK files are listed for systems that ship a
#: TrueType build under that name and are skipped (with a debug log) otherwise.
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian/Ubuntu fonts-wqy-zenhei
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),  # Fedora/RHEL wqy-zenhei-fonts
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # fonts-wqy-microhei
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
    ("/usr/share/fonts/google-droid/DroidSansFallback.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # fonts-arphic-uming
    ("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSerifSC-Regular.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
)

#: Characters a candidate must have glyphs for to count as a Chinese font.
_PROBE = "办件受理通知书"


class FontStatus(TypedDict):
    name: str
    path: str
    embedded: bool


@dataclass(frozen=True)
class _Chosen:
    name: str
    path: str
    embedded: bool


_lock = threading.Lock()
_choice: _Chosen | None = None


def _try_truetype(path: str, index: int) -> TTFont | None:
    if not Path(path).is_file():
        return None
    try:
        font = TTFont(EMBEDDED_NAME, path, subfontIndex=index)
    except (TTFError, OSError, ValueError) as exc:
        logger.debug("CJK font %s (face %d) not usable: %s", path, index, exc)
        return None
    glyphs = font.face.charToGlyph
    if any(ord(char) not in glyphs for char in _PROBE):
        logger.debug("CJK font %s (face %d) lacks Chinese glyphs", path, index)
        return None
    return font


def _search() -> _Chosen:
    for path, index in CANDIDATES:
        font = _try_truetype(path, index)
        if font is not None:
            pdfmetrics.registerFont(font)
            return _Chosen(EMBEDDED_NAME, path, embedded=True)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_NAME))
    logger.warning(
        "No TrueType CJK font found (tried %s); electronic notices use the built-in CID "
        "font %s, which is NOT embedded in the PDF. Install fonts-wqy-zenhei.",
        ", ".join(path for path, _ in CANDIDATES),
        FALLBACK_NAME,
    )
    return _Chosen(FALLBACK_NAME, "", embedded=False)


def _chosen() -> _Chosen:
    global _choice  # noqa: PLW0603 - one search per process
    if _choice is None:
        with _lock:
            if _choice is None:
                _choice = _search()
    return _choice


def cjk_font_name() -> str:
    """The reportlab font name to set Chinese text in (registering the font on first use)."""
    return _chosen().name


def font_status() -> FontStatus:
    """``{"name", "path", "embedded"}`` of the font notices use (for checks and the admin)."""
    chosen = _chosen()
    return {"name": chosen.name, "path": chosen.path, "embedded": chosen.embedded}


def reset_for_tests() -> None:
    """Forget the choice, so that the next use searches :data:`CANDIDATES` again."""
    global _choice  # noqa: PLW0603
    with _lock:
        _choice = None
