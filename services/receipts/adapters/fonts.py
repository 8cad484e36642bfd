"""The CJK font evidence PDFs and coverage charts are drawn with."""

from __future__ import annotations

from pathlib import Path

FONT_PACKAGE = "fonts-wqy-zenhei"


class FontUnavailable(RuntimeError):
    """The configured CJK font cannot be read."""


def require_font(path: Path) -> Path:
    """``path`` if it is a readable file; otherwise say which package provides the default."""
    if not path.is_file():
        raise FontUnavailable(
            f"CJK font {path} not found: install the Debian package {FONT_PACKAGE} "
            f"(apt-get install {FONT_PACKAGE}) or set RECEIPTS_FONT_PATH to a TrueType font"
        )
    return path
