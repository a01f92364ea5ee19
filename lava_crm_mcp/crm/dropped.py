"""The characters `text.py` strips: control, format, surrogate and private-use code points (Unicode categories Cc,
Cf, Cs, Co) except newline and tab, as ranges of code points. Generated from `unicodedata`
(Unicode 14.0.0, Python 3.11), so that importing costs nothing; under another Unicode version they are computed at
import (about 0.2 s). A test compares the table with `dropped_ranges()`.
"""

from __future__ import annotations

import sys
import unicodedata

__all__ = ["DROPPED_RANGES", "UNICODE_VERSION", "dropped_ranges", "ranges_here"]

_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_KEPT = frozenset({0x09, 0x0A})


def dropped_ranges() -> tuple[tuple[int, int], ...]:
    """The dropped code points of this Python's Unicode version, as (first, last) ranges."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if code not in _KEPT and unicodedata.category(chr(code)) in _CATEGORIES:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)


def ranges_here() -> tuple[tuple[int, int], ...]:
    """The table below when this Python's Unicode is the one it was made from, else computed now."""
    return DROPPED_RANGES if unicodedata.unidata_version == UNICODE_VERSION else dropped_ranges()


UNICODE_VERSION = "14.0.0"
DROPPED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008),
    (0x000B, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xF8FF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)
