"""CRM text is cleaned where it enters: the precomputed table matches this Python's Unicode, and both the fast path
(printable text used as is) and the slow path (escapes, raw control characters) strip exactly what they must."""

from __future__ import annotations

import json
import unicodedata

import pytest

from lava_crm_mcp.crm.dropped import DROPPED_RANGES, UNICODE_VERSION, dropped_ranges, ranges_here
from lava_crm_mcp.crm.text import clean, clean_body, clean_text

HIDDEN = ["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\U000e0041", "\ue000", "\x00", "\x1b", "\x7f", "\x9b"]
KEPT = ["plain", "Zoë Łukasz", "東京", "emoji 🚀", "tab\there", "line\nbreak", "no\u00a0break", "a\u2028b"]


@pytest.mark.skipif(unicodedata.unidata_version != UNICODE_VERSION, reason="the table is for another Unicode")
def test_the_precomputed_table_is_what_unicodedata_says() -> None:
    assert dropped_ranges() == DROPPED_RANGES


def test_the_ranges_in_use_cover_every_dropped_category() -> None:
    dropped = {code for first, last in ranges_here() for code in range(first, last + 1)}
    for code in (0x00, 0x1F, 0x7F, 0x9F, 0xAD, 0x200B, 0x202E, 0xD800, 0xE000, 0xFEFF, 0xE0041, 0x10FFFD):
        assert code in dropped, hex(code)
    for code in (0x09, 0x0A, 0x20, 0x41, 0xA0, 0x2028, 0x1F680):
        assert code not in dropped, hex(code)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_hidden_characters_are_stripped_and_nothing_else(hidden: str) -> None:
    assert clean_text(f"Ada{hidden} Love{hidden}lace") == "Ada Lovelace"


@pytest.mark.parametrize("kept", KEPT)
def test_visible_text_tabs_and_newlines_are_kept(kept: str) -> None:
    assert clean_text(kept) == kept


def test_clean_walks_every_string_of_a_nested_answer() -> None:
    body = {"name\u200b": "A\u202eB", "rows": [{"x": "\x00y", "n": 3, "ok": True, "none": None}]}
    assert clean(body) == {"name": "AB", "rows": [{"x": "y", "n": 3, "ok": True, "none": None}]}


@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_escaped_hidden_character_in_raw_json_is_stripped(hidden: str) -> None:
    raw = json.dumps({"first_name": f"Ada{hidden}", "note": "fine"})  # ASCII: every hidden one is an escape
    assert clean_body(raw, json.loads(raw)) == {"first_name": "Ada", "note": "fine"}


@pytest.mark.parametrize("hidden", HIDDEN[:6])
def test_a_raw_hidden_character_in_the_body_is_stripped(hidden: str) -> None:
    raw = json.dumps({"first_name": f"Ada{hidden}"}, ensure_ascii=False)
    assert clean_body(raw, json.loads(raw)) == {"first_name": "Ada"}


def test_a_printable_answer_is_used_as_it_is() -> None:
    raw = json.dumps({"first_name": "Zoë", "tags": ["東京"]}, ensure_ascii=False)
    body = json.loads(raw)
    assert clean_body(raw, body) is body
