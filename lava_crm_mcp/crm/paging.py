"""Paging that cannot lie: where the next slice of a list starts is read from the reply itself.

A request asks for a slice by every convention the family uses at once (`page`, and `limit`/`offset`). The reply
then says where the next slice starts, in the first of these it carries: a `next` link (its `offset`, or its
`page` times the page size), an `offset` key (the next offset; null at the end; per section for sectioned
lists), a count (the next slice starts after the rows read, while there are more), or only its size (a full
slice may have more). Rows a reader has seen before are its own business (see `search.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from lava_crm_mcp.crm.errors import CrmProtocolError

__all__ = ["PAGE_SIZE", "Slice", "find_rows", "slice_params"]

PAGE_SIZE = 20
Path = tuple[str, ...]
_CATALOGUES = frozenset({"users", "countries", "status", "source", "industries", "teams", "tags", "comments"})
_COUNTS = ("count", "total", "total_count", "total_items")


def slice_params(start: int, size: int = PAGE_SIZE) -> dict[str, str | None]:
    """The slice from row `start`: as a page number (page-based CRMs) and as limit/offset (offset-based ones)."""
    return {
        "page": str(start // size + 1) if start else None,
        "limit": str(size),
        "offset": str(start) if start else None,
    }


def _dig(body: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(body, dict):
            return None
        body = cast(dict[str, Any], body).get(key)
    return body


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in cast(list[Any], value))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class Slice:
    """The rows of one list reply, how many the list holds (when it says), and where the next slice starts."""

    def __init__(self, rows: list[Any], start: int, next_start: int | None, total: int | None) -> None:
        self.rows, self.start, self.next_start, self.total = rows, start, next_start, total

    @classmethod
    def read(
        cls,
        body: Any,
        start: int,
        *,
        size: int = PAGE_SIZE,
        list_paths: Iterable[Path] = (),
        count_paths: Iterable[Path] = (),
    ) -> Slice:
        rows, holders = find_rows(body, list_paths)
        total = _total(body, holders, count_paths)
        return cls(rows, start, _next_start(holders, start, size, len(rows), total), total)


def find_rows(body: Any, list_paths: Iterable[Path] = ()) -> tuple[list[Any], list[dict[str, Any]]]:
    """The records of a list reply, and the objects that held them (where their counts and offsets are)."""
    if isinstance(body, list):
        return cast(list[Any], body), []
    if not isinstance(body, dict):
        raise CrmProtocolError("The CRM answered a list request without a list.")
    data = cast(dict[str, Any], body)
    if isinstance(data.get("results"), list):
        return data["results"], [data]
    held: list[tuple[list[Any], dict[str, Any]]] = []
    for path in list_paths:
        rows, holder = _dig(data, path), _dig(data, path[:-1]) if len(path) > 1 else data
        if isinstance(rows, list) and isinstance(holder, dict):
            held.append((cast(list[Any], rows), cast(dict[str, Any], holder)))
    if not held:
        held = [(value, data) for key, value in data.items() if key not in _CATALOGUES and _is_rows(value)]
    if not held:
        raise CrmProtocolError(f"The CRM answered a list request with keys {sorted(data)[:8]} and no records.")
    holders = list({id(holder): holder for _, holder in held}.values())
    return [row for rows, _ in held for row in rows], holders


def _holder_count(holder: dict[str, Any]) -> int | None:
    keys = [key for key in holder if key in _COUNTS or key.endswith("_count")]
    return next((count for key in keys if (count := _int(holder[key])) is not None), None)


def _total(body: Any, holders: list[dict[str, Any]], count_paths: Iterable[Path]) -> int | None:
    """The rows in the whole list: the declared count paths, else each holder's count (unknown if one lacks it)."""
    declared = [count for path in count_paths if (count := _int(_dig(body, path))) is not None]
    if declared:
        return sum(declared)
    counts = [_holder_count(holder) for holder in holders]
    return sum(count for count in counts if count is not None) if counts and None not in counts else None


def _from_link(link: str, size: int) -> int | None:
    """Where a `next` link starts. A server echoes the paging parameter it does not use unchanged (our request
    carries both), so the one that moved on, the larger, is the one it reads."""
    query = parse_qs(urlsplit(link).query)
    found: list[int] = []
    if "offset" in query and query["offset"][0].isdigit():
        found.append(int(query["offset"][0]))
    if "page" in query and query["page"][0].isdigit():
        limit = query.get("limit", [str(size)])[0]
        found.append((int(query["page"][0]) - 1) * (int(limit) if limit.isdigit() else size))
    return max(found, default=None)


def _next_start(holders: list[dict[str, Any]], start: int, size: int, count: int, total: int | None) -> int | None:
    links = [holder["next"] for holder in holders if "next" in holder]
    if links:
        found = [_from_link(link, size) for link in links if isinstance(link, str)]
        known = [value for value in found if value is not None]
        if any(isinstance(link, str) for link in links):
            return max(known) if known else start + count
        return None
    offsets = [holder["offset"] for holder in holders if "offset" in holder]
    if offsets:
        known = [value for value in map(_int, offsets) if value is not None]
        return max(known) if known else None
    if total is not None:
        return start + count if start + count < total and count else None
    return start + count if count >= size else None
