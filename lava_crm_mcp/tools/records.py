"""The search/get/create/update/delete tools of the seven record nouns, built from the noun table.

Each noun gets `search_<plural>`, `get_<noun>`, `create_<noun>`, `update_<noun>` and `delete_<noun>` (`record_tools`),
named from its entry in the noun table; the inventory (`tools/inventory.py`) lists them for every noun.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, create_model

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid, ResourceSpec, Stage
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.inputs import ID_PATTERN
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.tools._shared import (
    CUSTOMER_TEXT,
    READ,
    WRITE,
    ToolFailure,
    ToolSpec,
    next_call,
)
from lava_crm_mcp.tools.arguments import BodyArgs, IdArgs, body_args, id_args
from lava_crm_mcp.tools.edits import (
    apply_members,
    cleared,
    explain_refusal,
    likely_twins,
    placed_deal,
    plan_members,
    refuse_duplicate,
    target_stage,
    with_list_edits,
)
from lava_crm_mcp.tools.lifecycle import before_update
from lava_crm_mcp.tools.record_deletes import delete_tool
from lava_crm_mcp.tools.related import RelatedLists, alongside, related_lists
from lava_crm_mcp.tools.render import Created, RecordResult
from lava_crm_mcp.tools.searching import search_tool
from lava_crm_mcp.tools.views import View, view

__all__ = ["create_tool", "delete_tool", "get_tool", "record_tools", "update_tool"]


def _has_timeline(spec: ResourceSpec[Any, Any, Any]) -> bool:
    return any(item.timeline for item in spec.related)


def _record_result(v: View, related: type[BaseModel] | None) -> type[RecordResult[Any]]:
    fields: dict[str, Any] = {"related": (related | None, None)} if related is not None else {}
    if related is not None and _has_timeline(v.spec):
        fields["last_activity"] = (str | None, None)
    if related is not None and _has_timeline(v.spec) and v.spec.on_board:
        fields["in_stage_since"] = (str | None, None)
    model = create_model(f"{v.spec.noun.title()}Result", __base__=RecordResult[v.record], **fields)  # type: ignore[name-defined]

    def render(self: RecordResult[Any]) -> str:
        lines = v.lines(f"{self.kind} {getattr(self.record, 'id', '')}", self.record, self.notes)
        since = getattr(self, "in_stage_since", None)
        stage = f"; in this stage since {since}" if since else ""
        if "last_activity" in type(self).model_fields:
            lines.append(f"last activity: {getattr(self, 'last_activity', None) or 'none recorded'}{stage}")
        extra = getattr(self, "related", None)
        if isinstance(extra, RelatedLists):
            lines += extra.lines()
        return "\n".join(lines)

    model.render = render  # type: ignore[method-assign]
    return model


def _since_by_crm(record: Record, today: dt.date) -> str | None:
    """Since when a deal is in its stage, by the CRM's own count when it keeps one (`days_in_stage`)."""
    days = field_value(record, "days_in_stage")
    if isinstance(days, int | float) and not isinstance(days, bool) and 0 <= days < 36_500:
        return (today - dt.timedelta(days=int(days))).isoformat()
    return None


def get_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    name = f"get_{spec.noun}"
    v = view(spec)
    lists = related_lists(spec)
    result = _record_result(v, lists)

    async def get(crm: CrmClient, a: IdArgs) -> RecordResult[Any]:
        raw: list[Record] = []
        record_id = a.record_id()
        if not re.fullmatch(ID_PATTERN, record_id):  # not an id: a name (looked up by a search, never put in a path)
            record_id = await crm.id_of(spec.path, record_id, f"{spec.noun}_id")

        async def shown() -> tuple[BaseModel, list[str]]:
            raw.append(await crm.records(spec.path).get(record_id))
            return v.record_of(raw[0], await v.namer(crm, raw, full=True))

        (record_view, notes), related = await alongside(lists, crm, record_id, shown)
        lists_read = related.get("related")
        history: dict[str, Any] = {}
        if isinstance(lists_read, RelatedLists) and _has_timeline(spec):
            stage = getattr(getattr(record_view, "stage", None), "id", None)
            history = lists_read.history(stage) if spec.on_board else lists_read.history(None)
            history = {key: value for key, value in history.items() if key in result.model_fields}
            if spec.on_board and history.get("in_stage_since") is None:
                history["in_stage_since"] = _since_by_crm(raw[0], crm.today())
        return result(kind=spec.noun, record=record_view, notes=notes, **related, **history)

    with_ = f", with its {', '.join(item.label for item in spec.related)}" if spec.related else ""
    return ToolSpec(
        name,
        f"Get {spec.noun}",
        f"Get {spec.article} by id: every field, linked records named{with_}. {CUSTOMER_TEXT}",
        id_args(name, spec),
        result,
        get,
        READ,
        spec.plural,
        hints={"not_found": f"Find ids with search_{spec.plural}."},
    )


def _created_model(v: View) -> type[Created[Any]]:
    model = create_model(f"{v.spec.noun.title()}Created", __base__=Created[v.record])  # type: ignore[name-defined]

    def render(self: Created[Any]) -> str:
        if self.record is None:
            said = f" ({self.message})" if self.message else ""
            return (
                f"The CRM accepted the new {self.kind}{said} but returned no id, so it was not re-read. "
                f"Do not create it again; find it with {self.find_with}."
            )
        return "\n".join(v.lines(f"Created {self.kind} {getattr(self.record, 'id', '')}", self.record, self.notes))

    model.render = render  # type: ignore[method-assign]
    return model


def create_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    name = f"create_{spec.noun}"
    v = view(spec)
    result = _created_model(v)

    async def create(crm: CrmClient, a: BodyArgs) -> Created[Any]:
        a = await _linked(crm, spec, a)
        await refuse_duplicate(crm, spec, a)
        target = await target_stage(crm, a.get("stage"), a.get("pipeline")) if spec.on_board else None
        try:
            made = await crm.records(spec.path).create(a.body())
        except CrmInvalid as exc:
            await explain_refusal(crm, spec, a, exc)
            raise
        shown, notes, record = None, list[str](), made.record
        if record is not None:
            record = await _placed(crm, record, target)
            shown, notes = v.record_of(record, await v.namer(crm, [record], full=True))
            notes += await likely_twins(crm, spec, record)
        return result(
            kind=spec.noun, record=shown, notes=notes, message=made.message, find_with=f"search_{spec.plural}"
        )

    def check(a: BodyArgs) -> str:
        key = spec.natural_key if spec.natural_key and a.get(spec.natural_key) else None
        words = str(a.get(key)) if key else " ".join(str(a.get(field)) for field in spec.label if a.get(field))
        return f"See whether it exists with {next_call(f'search_{spec.plural}', {'query': words})}."

    duplicate = f" Refused if one with this {spec.natural_key} exists." if spec.natural_key else ""
    return ToolSpec(
        name,
        f"Create {spec.noun}",
        f"Create {spec.article}.{duplicate}",
        body_args(name, spec.create, spec, with_id=False),
        result,
        create,
        WRITE,
        spec.plural,
        check=check,
    )


async def _linked(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: BodyArgs) -> BodyArgs:
    """The arguments with every link given by name (an account, a deal's contacts) as that one record's id."""
    given = {name: a.get(name) for name in spec.relations if a.get(name)}
    resolved = await crm.linked_by_id(spec.path, given) if given else given
    return a.model_copy(update=resolved) if resolved != given else a


def _read_back(spec: ResourceSpec[Any, Any, Any], gone: str = "") -> Any:
    """The check of an update or delete whose outcome is unknown: the record as it is now."""

    id_field = f"{spec.noun}_id"

    def check(a: Any) -> str:
        return f"See it as it is now with {next_call(f'get_{spec.noun}', {id_field: getattr(a, id_field)})}{gone}."

    return check


async def _placed(crm: CrmClient, record: Any, target: Stage | None) -> Any:
    """A new deal moved into the stage asked for; if that move fails, the deal exists and the message says so."""
    try:
        return await placed_deal(crm, record, target)
    except CrmError as exc:
        call = next_call("move_deal_to_stage", {"deal_id": record.id, "stage": target.id if target else None})
        raise ToolFailure(
            f"Created deal {record.id} but could not move it into its stage: {exc.message} "
            f"Do not create it again; move it with {call}."
        ) from exc


def update_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    name = f"update_{spec.noun}"
    v, id_field = view(spec), f"{spec.noun}_id"
    result = _record_result(v, None)

    async def update(crm: CrmClient, a: BodyArgs) -> RecordResult[Any]:
        a = await _linked(crm, spec, a)
        record_id, changes = getattr(a, id_field), cleared(spec, a.changes(id_field))
        if not changes and not any(a.get(extra) for extra in a.extras):
            raise ToolFailure(f"Nothing to update: pass {id_field} and at least one field to change.")
        relinks, unchanged = await plan_members(crm, spec, record_id, a)
        notes = await with_list_edits(crm, spec, record_id, a, changes)
        notes += await before_update(crm, spec, record_id, changes)
        records = crm.records(spec.path)
        record = await records.update(record_id, changes) if changes else await records.get(record_id)
        notes += [*await apply_members(crm, relinks), *unchanged]
        shown, cut = v.record_of(record, await v.namer(crm, [record], full=True))
        return result(kind=spec.noun, record=shown, notes=notes + cut)

    extra = " Stage is not a field: use move_deal_to_stage." if spec.on_board else ""
    links = " add_/remove_ ids edit links." if spec.members or "contacts" in spec.relations else ""
    return ToolSpec(
        name,
        f"Update {spec.noun}",
        f"Change only the fields given of {spec.article}; null clears one.{links}{extra}",
        body_args(name, spec.update, spec, with_id=True),
        result,
        update,
        WRITE,
        spec.plural,
        hints={"not_found": f"Find ids with search_{spec.plural}."},
        check=_read_back(spec),
    )


def record_tools(spec: ResourceSpec[Any, Any, Any]) -> tuple[ToolSpec[Any], ...]:
    """A noun's five record tools, in the order clients list them."""
    return (search_tool(spec), get_tool(spec), create_tool(spec), update_tool(spec), delete_tool(spec))
