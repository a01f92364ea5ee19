"""CRM text made safe where it enters: control, format (zero-width, bidi, tag) and private-use characters are
stripped from every string of every answer before anything reads it, so no result, name or error message built from
CRM data can carry them.

An answer whose raw text is all printable and holds no escape (`str.isprintable`, C speed) has nothing to strip and
is used as it is; otherwise each string is cleaned.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, cast

from lava_crm_mcp.crm.dropped import ranges_here

__all__ = ["clean", "clean_body", "clean_text", "fold"]


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges)


_DROPPED = re.compile(f"[{_char_class(ranges_here())}]")


def clean_text(text: str) -> str:
    """The text without control, format, surrogate and private-use characters (newlines and tabs stay)."""
    return text if text.isprintable() else _DROPPED.sub("", text)  # printable: none of them (a C-speed check)


def clean(value: Any) -> Any:
    """`clean_text` applied to every string inside a JSON-like value, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(key): clean(item) for key, item in cast(dict[str, Any], value).items()}
    if isinstance(value, list):
        return [clean(item) for item in cast(list[Any], value)]
    return value


def clean_body(raw: str, body: Any) -> Any:
    """A decoded answer made safe: as it is when its raw text shows nothing to strip, else cleaned string by
    string."""
    return body if raw.isprintable() and "\\" not in raw else clean(body)  # an escape may spell any character


def fold(text: Any) -> str:
    """A name as people compare it: no accents, no case, single spaces ("Irène  Joliot" → "irene joliot")."""
    decomposed = unicodedata.normalize("NFKD", clean_text(str(text or "")))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())
