"""The search tool of a record noun: its arguments from the noun table, rows naming linked records, and a note on
everything the CRM did not apply (checked here), sort order, pages read, values left blank."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, create_model

from lava_crm_mcp.crm import CrmClient, ResourceSpec
from lava_crm_mcp.crm.filters import Window
from lava_crm_mcp.crm.search import Found
from lava_crm_mcp.tools._shared import READ, ToolSpec, next_call
from lava_crm_mcp.tools.arguments import SearchArgs, search_args
from lava_crm_mcp.tools.render import SearchPage
from lava_crm_mcp.tools.views import View, unreadable_note, view

__all__ = ["search_tool"]


def _note(found: Found[Any], spec: ResourceSpec[Any, Any, Any], given: Mapping[str, Any]) -> str | None:
    notes: list[str] = []
    if found.ignored:
        notes.append(f"The CRM did not apply {', '.join(found.ignored)}; each row was checked here")
    if found.local:
        notes.append(f"{', '.join(found.local)} checked here, not by the CRM")
    if found.derived_order:
        notes.append(f"sorted here, among the {found.scanned} records read")
    elif found.sorted_here:
        notes.append(f"The CRM ignored the order; sorted here among the {found.scanned} records read")
    if found.activity is not None:
        notes.append(found.activity.note())
    notes += [said for item in spec.filters if item.name in given and (said := getattr(item, "undated", None))]
    if found.stopped_early:
        notes.append(f"Stopped after reading {found.scanned} records ({found.pages} pages): more may match")
    odd = [(row.id, name, raw) for row in found.items for name, raw in row.unreadable.items()]
    if odd:
        ident, name, raw = odd[0]
        notes.append(f"{len(odd)} value(s) left blank in these rows, e.g. {ident}: {unreadable_note(name, raw)}")
    if found.repeated:
        notes.append(
            "The CRM sent rows it had already sent (its paging ignores what was asked), so reading stopped "
            "there: more may exist that cannot be listed"
        )
    notes += found.remarks  # the adapter's words on its count ("at least N match", and why) and a failure mid-scan
    return "; ".join(notes) if notes else None


def _states_today(spec: ResourceSpec[Any, Any, Any]) -> bool:
    """Nouns with relative date windows say which day "today" is."""
    return any(isinstance(item, Window) for item in spec.filters)


def usual_pipeline(rows: Sequence[BaseModel]) -> str | None:
    """The pipeline most of these deal rows are in (rows name a pipeline only when the org has several)."""
    names = Counter(str(pipeline) for row in rows if (pipeline := getattr(row, "pipeline", None)))
    return names.most_common(1)[0][0] if names else None


def _pipeline_note(rows: Sequence[BaseModel], usual: str) -> str:
    mixed = any(str(getattr(row, "pipeline", None) or usual) != usual for row in rows)
    return f"in {usual}" + (" unless a [pipeline] is named" if mixed else "")


def _page_model(v: View) -> type[SearchPage[Any]]:
    fields: dict[str, Any] = {"today": (dt.date | None, None)} if _states_today(v.spec) else {}
    model = create_model(f"{v.spec.noun.title()}Page", __base__=SearchPage[v.row], **fields)  # type: ignore[name-defined]

    def render(self: SearchPage[Any]) -> str:
        today = getattr(self, "today", None)
        usual = usual_pipeline(self.items)
        said = [f"today is {today}"] if today else []
        lines = [self.head(*said, *([_pipeline_note(self.items, usual)] if usual else []))]
        if self.items:
            lines += v.table(self.items, with_activity=self.with_activity, usual=usual)
        return "\n".join(lines)

    model.render = render  # type: ignore[method-assign]
    return model


def search_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    name = f"search_{spec.plural}"
    v, args = view(spec), search_args(name, spec)
    page = _page_model(v)

    async def search(crm: CrmClient, a: SearchArgs) -> SearchPage[Any]:
        found = await crm.search(
            spec.path,
            text=a.get("query"),
            filters=a.filters(),
            sort=a.get("sort"),
            cursor=a.get("cursor"),
            limit=a.get("limit"),
        )
        namer = await v.namer(crm, found.items, activity=found.activity)
        given = a.model_dump(exclude={"cursor"}, exclude_defaults=True, mode="json")
        more = next_call(name, {**given, "cursor": str(found.next)}) if found.next else None
        today = {"today": crm.today()} if _states_today(spec) else {}
        return page(
            kind=spec.plural,
            items=[v.row_of(item, namer) for item in found.items],
            total=found.total,
            has_more=found.next is not None,
            next_call=more,
            note=_note(found, spec, a.filters()),
            with_activity=found.activity is not None,
            **today,
        )

    return ToolSpec(
        name,
        f"Search {spec.plural}",
        f"Find {spec.plural} by {spec.matches} and filters.",
        args,
        page,
        search,
        READ,
        spec.plural,
    )
