"""The CJK font the PDFs embed, so they render on machines with no Chinese fonts installed.

reportlab's built-in CID fonts (STSong-Light) are not embedded: a viewer without a Chinese
font shows empty boxes. A TrueType font is embedded as a subset of the glyphs used. The font
comes from ``DISPATCH_FONT_PATH`` or the first readable one of the usual Debian locations.
Noto CJK fonts ship PostScript (CFF) outlines, which reportlab cannot embed; they are tried
after WenQuanYi Zen Hei and skipped if so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_PACKAGE = "fonts-wqy-zenhei"
CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf"), 0),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2),
)


class FontUnavailable(RuntimeError):
    """No CJK font that can be embedded was found; the message says how to get one."""


@dataclass(frozen=True)
class EmbeddedFont:
    name: str
    path: Path


def _register(path: Path, subfont_index: int) -> EmbeddedFont:
    # reportlab keeps fonts in a process-wide registry: one name per file and subfont.
    digest = hashlib.blake2b(f"{path}:{subfont_index}".encode(), digest_size=4).hexdigest()
    name = f"CJK-{digest}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=subfont_index))
    return EmbeddedFont(name, path)


def load_cjk_font(configured: Path | None) -> EmbeddedFont:
    """Register the configured font, or the first usable candidate; fail naming the fix."""
    if configured is not None:
        try:
            return _register(configured, 0)
        except (OSError, TTFError) as exc:
            raise FontUnavailable(
                f"DISPATCH_FONT_PATH={configured} cannot be embedded in PDFs ({exc}); point "
                f"it at a TrueType CJK font such as the Debian package {FONT_PACKAGE}'s "
                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
            ) from exc
    tried: list[str] = []
    for path, subfont_index in CANDIDATES:
        if not path.is_file():
            continue
        try:
            return _register(path, subfont_index)
        except (OSError, TTFError) as exc:
            tried.append(f"{path} ({exc})")
    detail = f"; unusable: {', '.join(tried)}" if tried else ""
    raise FontUnavailable(
        "no CJK TrueType font found for the printed notices: install the Debian package "
        f"{FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) or set DISPATCH_FONT_PATH{detail}"
    )
