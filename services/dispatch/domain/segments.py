"""How a Chinese SMS is split and billed.

Chinese text travels as UCS-2: one segment holds 70 characters; a longer message is sent as
concatenated parts of 67, because the concatenation header takes the room of 3. Characters
outside the BMP (emoji) take two UTF-16 units. The signature the gateway puts in front
(``【签名】``) counts too, so parts are counted on the text as the handset shows it.
"""

from __future__ import annotations

SINGLE_PART_UNITS = 70
MULTI_PART_UNITS = 67


def displayed_text(sign_name: str, text: str) -> str:
    """The message as the handset shows it: the gateway prefixes the signature."""
    return f"【{sign_name}】{text}" if sign_name else text


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _width(text: str) -> int:
    """UTF-16 code units: what a UCS-2 segment holds (counted in C, not per character)."""
    return len(text.encode("utf-16-le")) // 2


def split_parts(text: str) -> list[str]:
    """The parts a carrier sends ``text`` as; a surrogate pair is never cut in two."""
    width = _width(text)
    if width <= SINGLE_PART_UNITS:
        return [text]
    if width == len(text):
        # Only BMP characters: every part but the last is exactly MULTI_PART_UNITS long.
        return [text[i : i + MULTI_PART_UNITS] for i in range(0, len(text), MULTI_PART_UNITS)]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        width = _units(char)
        if used + width > MULTI_PART_UNITS:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    parts.append("".join(current))
    return parts


def count_parts(text: str) -> int:
    """Billed parts of ``text`` (0 for an empty text, which no carrier would send)."""
    return len(split_parts(text)) if text else 0
