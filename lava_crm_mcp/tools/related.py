"""Related records on `get_*`: a few of each kind (newest first), their total, and the exact search for all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import anyio
from pydantic import BaseModel, create_model

from lava_crm_mcp.crm import CrmClient, ResourceSpec
from lava_crm_mcp.crm.resources import Related as RelatedSpec
from lava_crm_mcp.crm.resources import resource
from lava_crm_mcp.crm.search import Found
from lava_crm_mcp.tools._shared import next_call
from lava_crm_mcp.tools.render import Related
from lava_crm_mcp.tools.timeline import Entry, entry_of
from lava_crm_mcp.tools.views import view

__all__ = ["SHOWN", "RelatedLists", "alongside", "related_lists"]

SHOWN = 5
T = TypeVar("T")


def _key(item: RelatedSpec) -> str:
    return item.label.replace(" ", "_")


def _search_call(item: RelatedSpec, record_id: str) -> str:
    arguments = {item.via: record_id, **item.preset, "sort": item.sort}
    return next_call(f"search_{resource(item.path).plural}", arguments)


class RelatedLists(BaseModel):
    """Base of each noun's related lists; one field per kind, named after its label.

    In the text, a list leaves out the column that would only repeat the record it is listed under.
    """

    specs: ClassVar[tuple[RelatedSpec, ...]] = ()

    @classmethod
    async def read(cls, crm: CrmClient, record_id: str) -> RelatedLists:
        """Every related list, side by side; lists of one noun through one link (open tasks, activities) share a
        read of that noun's records when they fit in one."""
        found: dict[str, Related[Any]] = {}

        async def group_of(items: list[RelatedSpec]) -> None:
            variants = [(item.preset, item.sort) for item in items]
            hits = await crm.search_each(items[0].path, {items[0].via: record_id}, variants, SHOWN)
            for item, found_here in zip(items, hits, strict=True):
                found[_key(item)] = await _related(crm, item, record_id, found_here)

        groups: dict[tuple[str, str], list[RelatedSpec]] = {}
        for item in cls.specs:
            groups.setdefault((item.path, item.via), []).append(item)
        async with anyio.create_task_group() as tasks:
            for items in groups.values():
                tasks.start_soon(group_of, items)
        return cls.model_validate(found)

    def history(self, stage_id: str | None) -> dict[str, str | None]:
        """When the record last had activity (its newest activity or timeline entry), and, for a deal in stage
        `stage_id`, since when it has been there (the newest entry that moved it there, if it is the newest move)."""
        days: list[str] = []
        entries: list[Entry] = []
        for item in self.specs:
            value: Related[Any] | None = getattr(self, _key(item))
            if value is None:
                continue
            if item.timeline:
                entries = list(value.items)
                days += [entry.at[:10] for entry in entries if entry.at]
            elif item.preset.get("kind") == "activity":
                days += [str(day)[:10] for row in value.items if (day := getattr(row, "due_date", None))]
        found: dict[str, str | None] = {"last_activity": max(days, default=None)}
        if stage_id is not None:
            moves = [entry for entry in entries if "to_stage_id" in entry.details]
            newest = moves[0] if moves else None
            hit = newest is not None and newest.details["to_stage_id"] == stage_id and newest.at
            found["in_stage_since"] = newest.at[:10] if hit and newest and newest.at else None
        return found

    def lines(self) -> list[str]:
        lines: list[str] = []
        for item in self.specs:
            value: Related[Any] | None = getattr(self, _key(item))
            if value is not None and item.timeline:
                lines += _entry_lines(item.label, value)
            elif value is not None:
                target = resource(item.path)
                parent = next((getattr(f, "field", None) for f in target.filters if f.name == item.via), None)
                # no `last_activity` (no activity is read for them), nor the link back to this record
                keep = [i for i in view(target).shown(with_activity=False) if target.columns[i].fields != (parent,)]
                rows = [[cells[i] for i in keep] for cells in map(view(target).cells, value.items)]
                lines += value.lines(item.label, [target.columns[i].header for i in keep], rows)
        return lines


def _entry_lines(label: str, value: Related[Any]) -> list[str]:
    if not value.items:
        return [f"{label}: none"]
    total = f"{value.total}" if value.total is not None else f"{len(value.items)}+"
    head = f"{label} ({total}), newest first" + (f"; all: {value.more}" if value.more else "")
    return [head, *(f"  {entry.text()}" for entry in value.items)]


async def _related(crm: CrmClient, item: RelatedSpec, record_id: str, hits: Found[Any]) -> Related[Any]:
    more = _search_call(item, record_id) if hits.next is not None else None
    if item.timeline:
        entries = [entry for hit in hits.items if (entry := entry_of(hit)) is not None]
        total = hits.total if hits.total is not None else (len(entries) if hits.next is None else None)
        return Related[Entry](total=total, items=entries, more=more)
    target_view = view(resource(item.path))
    namer = await target_view.namer(crm, hits.items)
    rows = [target_view.row_of(hit, namer) for hit in hits.items]
    total = hits.total if hits.total is not None else (len(rows) if hits.next is None else None)
    return Related[target_view.row](total=total, items=rows, more=more)  # type: ignore[name-defined]


def related_lists(spec: ResourceSpec[Any, Any, Any]) -> type[RelatedLists] | None:
    """The related-lists model of a noun, or None when it declares none."""
    if not spec.related:
        return None
    fields: dict[str, Any] = {
        _key(item): (Related[Entry if item.timeline else view(resource(item.path)).row] | None, None)  # type: ignore[name-defined]
        for item in spec.related
    }
    model = create_model(f"{spec.noun.title()}Related", __base__=RelatedLists, **fields)
    model.specs = spec.related
    return model


async def alongside(
    lists: type[RelatedLists] | None, crm: CrmClient, record_id: str, read: Callable[[], Awaitable[T]]
) -> tuple[T, dict[str, RelatedLists]]:
    """`read()` (the record) and the record's related lists, side by side: the lists need only the id, so a `get_*`
    waits for one round trip to the CRM, not two. If either fails, the other is cancelled."""
    related: dict[str, RelatedLists] = {}
    found: list[T] = []

    async def read_lists(lists: type[RelatedLists]) -> None:
        related["related"] = await lists.read(crm, record_id)

    async with anyio.create_task_group() as group:
        if lists is not None:
            group.start_soon(read_lists, lists)
        found.append(await read())
    return found[0], related
