"""Related records on `get_*`: a few of each kind (newest first), their total, and the exact search for all."""

from __future__ import annotations

from typing import Any, ClassVar

import anyio
from pydantic import BaseModel, create_model

from lava_crm_mcp.crm import CrmClient, ResourceSpec
from lava_crm_mcp.crm.resources import Related as RelatedSpec
from lava_crm_mcp.crm.resources import resource
from lava_crm_mcp.tools._shared import next_call
from lava_crm_mcp.tools.render import Related
from lava_crm_mcp.tools.views import view

__all__ = ["SHOWN", "RelatedLists", "related_lists"]

SHOWN = 5


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
        found: dict[str, Related[Any]] = {}

        async def one(item: RelatedSpec) -> None:
            target = resource(item.path)
            filters = {item.via: record_id, **item.preset}
            hits = await crm.search(item.path, filters=filters, sort=item.sort, limit=SHOWN)
            target_view = view(target)
            namer = await target_view.namer(crm, hits.items)
            rows = [target_view.row_of(hit, namer) for hit in hits.items]
            more = _search_call(item, record_id) if hits.next is not None else None
            total = hits.total if hits.total is not None else (len(rows) if hits.next is None else None)
            found[_key(item)] = Related[target_view.row](total=total, items=rows, more=more)  # type: ignore[name-defined]

        async with anyio.create_task_group() as group:
            for item in cls.specs:
                group.start_soon(one, item)
        return cls.model_validate(found)

    def lines(self) -> list[str]:
        lines: list[str] = []
        for item in self.specs:
            value: Related[Any] | None = getattr(self, _key(item))
            if value is not None:
                target = resource(item.path)
                parent = next((getattr(f, "field", None) for f in target.filters if f.name == item.via), None)
                keep = [i for i, column in enumerate(target.columns) if column.fields != (parent,)]
                rows = [[cells[i] for i in keep] for cells in map(view(target).cells, value.items)]
                lines += value.lines(item.label, [target.columns[i].header for i in keep], rows)
        return lines


def related_lists(spec: ResourceSpec[Any, Any, Any]) -> type[RelatedLists] | None:
    """The related-lists model of a noun, or None when it declares none."""
    if not spec.related:
        return None
    fields: dict[str, Any] = {
        _key(item): (Related[view(resource(item.path)).row] | None, None)  # type: ignore[name-defined]
        for item in spec.related
    }
    model = create_model(f"{spec.noun.title()}Related", __base__=RelatedLists, **fields)
    model.specs = spec.related
    return model
