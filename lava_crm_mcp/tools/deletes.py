"""Deletes that show their impact: a preview of every record that links to the one to delete (by kind, with
counts), and, after a confirmed delete, what was left without the link.

The dependents are found from the noun table: a noun whose relation points at the deleted noun and that has an
id filter on that relation (a deal's `account` → `search_deals(account_id=…)`).
"""

from __future__ import annotations

from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field

from lava_crm_mcp.crm import CrmClient, ResourceSpec
from lava_crm_mcp.crm.filters import RefIs
from lava_crm_mcp.crm.resources import RESOURCES
from lava_crm_mcp.tools._shared import next_call
from lava_crm_mcp.tools.money_guard import Stranded, stranded_text
from lava_crm_mcp.tools.render import Link, cell
from lava_crm_mcp.tools.twophase import Previewed

__all__ = [
    "SHOWN",
    "DeleteResult",
    "Dependents",
    "dependents_of",
    "impact",
    "impact_text",
]

SHOWN = 3


class Dependents(BaseModel):
    """Records of one kind that link to the record: how many, the first few by name, the search for all."""

    kind: str
    total: int | None
    items: list[Link]
    more: str | None = None

    def text(self) -> str:
        count = f"{self.total}" if self.total is not None else f"{len(self.items)}+"
        names = ", ".join(cell(item.name or item.id) for item in self.items)
        more = f"; all: {self.more}" if self.more else ""
        return f"{self.kind}: {count}" + (f" ({names}{more})" if names else "")


def dependents_of(spec: ResourceSpec[Any, Any, Any]) -> list[tuple[ResourceSpec[Any, Any, Any], RefIs]]:
    """(noun, id filter) pairs whose records link to a record of `spec` (the filter names the link field)."""
    return [
        (noun, item)
        for noun in RESOURCES
        for item in noun.filters
        if isinstance(item, RefIs) and noun.relations.get(item.field) == spec.path
    ]


async def impact(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str) -> list[Dependents]:
    """Every kind of record that links to this one, read concurrently (a few of each, with the total)."""
    found: dict[str, Dependents] = {}

    async def one(noun: ResourceSpec[Any, Any, Any], via: str) -> None:
        hits = await crm.search(noun.path, filters={via: record_id}, limit=SHOWN)
        items = [Link(id=hit.id, name=noun.display(hit)) for hit in hits.items]
        total = hits.total if hits.total is not None else (len(items) if hits.next is None else None)
        more = next_call(f"search_{noun.plural}", {via: record_id}) if hits.next is not None else None
        found[noun.plural] = Dependents(kind=noun.plural, total=total, items=items, more=more)

    pairs = dependents_of(spec)
    async with anyio.create_task_group() as group:
        for noun, via in pairs:
            group.start_soon(one, noun, via.name)
    return [found[noun.plural] for noun, _ in pairs]


def impact_text(groups: list[Dependents]) -> str:
    linked = [group for group in groups if group.total != 0]
    return "; ".join(group.text() for group in linked) if linked else "nothing links to it"


class DeleteResult(Previewed):
    """A destructive tool's answer. `outcome`: preview (nothing deleted; `links` are what would lose the link,
    `confirm` the token for the second call), blocked (cannot be deleted as it is), deleted (`links` are what was
    left without the link), or gone (nothing to delete)."""

    kind: str
    id: str
    name: str | None = None
    outcome: Literal["preview", "blocked", "deleted", "gone"]
    links: list[Dependents] = Field(default_factory=list[Dependents])
    reason: str | None = None
    stranded: list[Stranded] = Field(default_factory=list[Stranded])
    """Unpaid invoices and open deals the delete leaves (or left) linked to no account or contact."""
    settled: str | None = None
    """What is done with them, as the call said (moved to another record first, or left unlinked)."""

    def model_post_init(self, context: Any, /) -> None:
        self.target = self.target or self.id

    def render(self) -> str:
        what = f"{self.kind} {cell(self.name)} ({self.id})" if self.name else f"{self.kind} {self.id}"
        linked = [group for group in self.links if group.total != 0]
        if self.outcome == "gone":
            return f"No {self.kind} {self.id} to delete: it is already gone (or the id is wrong). Nothing changed."
        money = (
            f" Unpaid invoices and open deals {self.settled}: {stranded_text(self.stranded)}." if self.settled else ""
        )
        if self.outcome == "deleted":
            return f"Deleted {what}." + (f" Left without this link: {impact_text(linked)}." if linked else "") + money
        head = f"Nothing deleted yet. {what}: {impact_text(self.links)}."
        if self.outcome == "blocked":
            return f"{head} {self.reason}"
        lose = " Deleting it leaves those without this link." if linked else ""
        note = f"{self.note}\n" if self.note else ""
        return f"{note}{head}{lose}{money} To delete it, call {self.next_call} within 5 minutes."
