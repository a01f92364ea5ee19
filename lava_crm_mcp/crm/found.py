"""What a search found, and how far its count can be trusted.

A CRM's `count` is the number of matches only if it applied every filter it was sent, and a filter it ignores is
noticed only when a row fails its check here: a first page that passes by chance proves nothing. So the count is
verified on the CRM's own replies, in the same call: for each parameter sent, the same list without it must count
more (a parameter the CRM ignores changes nothing). A count that cannot be verified is never stated as the total;
the result says how many matched at least, and why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from lava_crm_mcp.crm.errors import CrmError
from lava_crm_mcp.crm.filters import Condition
from lava_crm_mcp.crm.models import Record

if TYPE_CHECKING:
    from lava_crm_mcp.crm.activity import ActivityIndex
    from lava_crm_mcp.crm.search import Cursor

__all__ = ["MAX_PROBES", "Found", "unverified"]

R = TypeVar("R", bound=Record)
Count = Callable[[Mapping[str, str]], Awaitable[int | None]]
MAX_PROBES = 3
UNCOUNTED = ("ordering",)  # parameters that change no count


@dataclass
class Found(Generic[R]):
    """What a search found, how much it read, and where it may continue."""

    items: list[R] = field(default_factory=list[R])
    total: int | None = None
    """The exact number of matches, when known (from a scan of every slice, or the CRM's count once verified)."""
    scanned: int = 0
    pages: int = 0
    next: Cursor | None = None
    ignored: list[str] = field(default_factory=list[str])
    """Arguments the CRM did not apply (found by the row checks); they were applied here."""
    local: list[str] = field(default_factory=list[str])
    """Arguments that could not be sent to the CRM (checked here only)."""
    stopped_early: bool = False
    """The scan hit its budget: more matches may exist beyond `next`."""
    sorted_here: bool = False
    """The CRM ignored the order (or cannot know it: `derived_order`): rows were sorted here, among those read."""
    derived_order: bool = False
    repeated: bool = False
    """The CRM sent rows it had already sent: its paging ignores what was asked, so the scan stopped there."""
    activity: ActivityIndex | None = None
    """When the records last had activity, when the search asked about it."""
    at_least: int | None = None
    """When `total` is not known and the scan began at the first row: how many match among the rows read."""
    uncounted: str | None = None
    """Why the CRM's count is not the total, when it gave one."""
    shifted: str | None = None
    """Why this page could not go on exactly after the previous one (the list changed and its last row is gone)."""
    failure: str | None = None
    """The CRM failed while the scan read on: what it said. The rows read before are kept; `next` resumes there."""

    @property
    def remarks(self) -> list[str]:
        """What a result says of its count and of a failure mid-scan, as sentences."""
        said: list[str] = []
        if self.total is None and self.at_least is not None:
            said.append(f"at least {self.at_least} match" + (f" ({self.uncounted})" if self.uncounted else ""))
        return [*said, *([self.failure] if self.failure else []), *([self.shifted] if self.shifted else [])]


def _owners(conditions: Sequence[Condition], text: str | None) -> dict[str, list[str]]:
    """Each parameter sent -> the arguments it carries."""
    owners: dict[str, list[str]] = {"search": ["query"]} if text else {}
    for condition in conditions:
        for key in condition.params:
            owners.setdefault(key, []).append(condition.arg)
    return owners


async def unverified(
    count: Count, params: Mapping[str, str], counted: int, conditions: Sequence[Condition], text: str | None
) -> list[str]:
    """The arguments whose parameters were not shown to be applied: the same list without the parameter counts no
    more than `counted` (or could not be counted). At most MAX_PROBES lists are counted, side by side."""
    keys = [key for key in params if key not in UNCOUNTED]
    owners = _owners(conditions, text)
    if len(keys) > MAX_PROBES:
        return _args(keys, owners)
    results: dict[str, int | None] = {}

    async def probe(key: str) -> None:
        try:
            results[key] = await count({name: value for name, value in params.items() if name != key})
        except CrmError:
            results[key] = None

    async with anyio.create_task_group() as group:
        for key in keys:
            group.start_soon(probe, key)
    return _args([key for key in keys if (results[key] or 0) <= counted], owners)


def _args(keys: Sequence[str], owners: Mapping[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(arg for key in keys for arg in owners.get(key, [key])))


def uncounted(crm_total: int, ignored: Sequence[str], unsent: Sequence[str], unproven: Sequence[str]) -> str:
    """Why the CRM's count is not the number of matches."""
    if ignored:
        return f"the CRM counts {crm_total}, but it did not apply {', '.join(ignored)}"
    if unproven:
        return (
            f"the CRM counts {crm_total}, but did not show that it applied {', '.join(unproven)}: without it, the "
            "CRM counts as many"
        )
    if unsent:
        return f"the CRM counts {crm_total}, without {', '.join(unsent)}, which is checked here only"
    return f"the CRM counts {crm_total}, with records this search leaves out"


def tally(rows: Sequence[Any], matches: Callable[[Any], bool]) -> int:
    """How many of these rows match."""
    return sum(1 for row in rows if matches(row))
