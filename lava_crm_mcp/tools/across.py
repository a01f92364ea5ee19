"""Reads across every noun in one call: one search over the whole CRM, and records by id whatever their kind."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from pydantic import BaseModel, Field, StringConstraints

from lava_crm_mcp.crm import CrmClient, CrmError, CrmNotFound, ResourceSpec
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.resources import RESOURCES, resource
from lava_crm_mcp.crm.search import Budget
from lava_crm_mcp.tools._shared import CUSTOMER_TEXT, READ, IdArg, ToolArgs, ToolSpec, next_call
from lava_crm_mcp.tools.render import Link, Result, cell
from lava_crm_mcp.tools.views import view

__all__ = ["GET_RECORDS", "SEARCH_CRM", "get_records", "locate", "search_crm"]

SHOWN = 5
PER_NOUN = Budget(pages=2, seconds=4.0)  # one search of seven: each reads little, so the whole stays quick
PROBE_ORDER = ("opportunities", "contacts", "accounts", "tasks", "leads", "cases", "invoices")


class Hits(BaseModel):
    """One noun's matches: how many (when known), the first few by name, and the search for all of them."""

    kind: str
    total: int | None
    items: list[Link]
    more: str | None = None


class CrmMatches(Result):
    query: str
    nouns: list[Hits]

    def render(self) -> str:
        lines = [f"{self.query!r} across the CRM:"]
        for hits in self.nouns:
            count = f"{hits.total}" if hits.total is not None else f"{len(hits.items)}+"
            names = ", ".join(f"{cell(item.name or item.id)} ({item.id})" for item in hits.items)
            more = f"; all: {hits.more}" if hits.more else ""
            lines.append(f"{hits.kind} ({count}): {names or 'none'}{more}")
        return "\n".join(lines)


class SearchCrmArgs(ToolArgs):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


async def search_crm(crm: CrmClient, a: SearchCrmArgs) -> CrmMatches:
    """Every noun searched side by side; a noun that fails says so instead of failing the others."""
    found: dict[str, Hits] = {}

    async def one(spec: ResourceSpec[Any, Any, Any]) -> None:
        try:
            hits = await crm.search(spec.path, text=a.query, limit=SHOWN, budget=PER_NOUN)
        except CrmError as exc:
            found[spec.path] = Hits(kind=spec.plural, total=None, items=[], more=f"(not searched: {exc.message})")
            return
        items = [Link(id=hit.id, name=spec.display(hit)) for hit in hits.items]
        more = next_call(f"search_{spec.plural}", {"query": a.query}) if hits.next is not None else None
        total = hits.total if hits.total is not None else (len(items) if hits.next is None else None)
        found[spec.path] = Hits(kind=spec.plural, total=total, items=items, more=more)

    async with anyio.create_task_group() as group:
        for spec in RESOURCES:
            group.start_soon(one, spec)
    return CrmMatches(query=a.query, nouns=[found[spec.path] for spec in RESOURCES])


class Found(BaseModel):
    kind: str
    id: str
    row: dict[str, Any]


class Records(Result):
    """The records found (each a compact row of its kind, linked records named) and the ids found nowhere."""

    items: list[Found]
    missing: list[str]
    errors: dict[str, str] = Field(default_factory=dict[str, str])
    """Ids that could not be read, with why (the others were)."""

    def render(self) -> str:
        lines = [f"{len(self.items)} found" + (f"; not found: {', '.join(self.missing)}" if self.missing else "")]
        lines += [f"could not read {ident}: {why}" for ident, why in self.errors.items()]
        for kind in dict.fromkeys(item.kind for item in self.items):
            v = view(resource(kind))
            rows = [v.row.model_validate(item.row) for item in self.items if item.kind == kind]
            # no activity is read for them
            lines += [f"{v.spec.plural}:", *(f"  {line}" for line in v.table(rows, with_activity=False))]
        return "\n".join(lines)


class GetRecordsArgs(ToolArgs):
    ids: Annotated[list[IdArg], Field(min_length=1, max_length=50, description="Any mix of kinds.")]


async def locate(crm: CrmClient, ident: str) -> tuple[str, Record] | None:
    """The record with this id, and the noun it is: nouns the name cache knows it as first, then each in turn."""
    known = [path for path in PROBE_ORDER if crm.labels.known(path, ident)]
    for path in [*known, *(path for path in PROBE_ORDER if path not in known)]:
        try:
            return path, await crm.records(path).get(ident)
        except CrmNotFound:
            continue
    return None


async def get_records(crm: CrmClient, a: GetRecordsArgs) -> Records:
    located: dict[str, tuple[str, Record] | None] = {}
    errors: dict[str, str] = {}
    limiter = anyio.CapacityLimiter(8)

    async def one(ident: str) -> None:
        async with limiter:
            try:
                located[ident] = await locate(crm, ident)
            except CrmError as exc:  # one unreadable id does not hide the others
                located[ident], errors[ident] = None, exc.message

    ids = list(dict.fromkeys(a.ids))
    async with anyio.create_task_group() as group:
        for ident in ids:
            group.start_soon(one, ident)
    items: list[Found] = []
    for path in PROBE_ORDER:
        records = [hit[1] for ident in ids if (hit := located[ident]) is not None and hit[0] == path]
        if records:
            v = view(resource(path))
            namer = await v.namer(crm, records)
            items += [Found(kind=path, id=r.id, row=v.row_of(r, namer).model_dump(mode="json")) for r in records]
    missing = [ident for ident in ids if located[ident] is None and ident not in errors]
    return Records(items=items, missing=missing, errors=errors)


SEARCH_CRM: ToolSpec[Any] = ToolSpec(
    "search_crm",
    "Search the CRM",
    "One search across contacts, accounts, leads, deals, tasks, cases and invoices: per kind the first matches "
    f"and the total, with the search for more. A phone number matches in any format. {CUSTOMER_TEXT}",
    SearchCrmArgs,
    CrmMatches,
    search_crm,
    READ,
    "crm",
)
GET_RECORDS: ToolSpec[Any] = ToolSpec(
    "get_records",
    "Get records",
    f"Up to 50 records by id, of any kinds, as compact rows (linked records named). {CUSTOMER_TEXT}",
    GetRecordsArgs,
    Records,
    get_records,
    READ,
    "crm",
)
