"""delete_<noun>: a preview of what links to the record and a confirm token, then the delete (`twophase.py`).

An account's or contact's delete is also guarded (`money_guard.py`): an unpaid invoice or open deal it would leave
linked to nobody blocks it, listed with its value, until the call says `reassign_to` or `leave_unlinked`; the
preview shows what will be done with them, and the confirmed delete moves them before deleting.
"""

from __future__ import annotations

from typing import Any

from lava_crm_mcp.crm import CrmClient, CrmNotFound, ResourceSpec
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.tools._shared import DESTRUCTIVE, ToolFailure, ToolSpec, next_call
from lava_crm_mcp.tools.arguments import IdArgs, id_args
from lava_crm_mcp.tools.deletes import DeleteResult, impact
from lava_crm_mcp.tools.money_guard import Stranded, exists, guard_args, settle, stranded, stranded_text

__all__ = ["delete_tool"]


def _choice(spec: ResourceSpec[Any, Any, Any], a: IdArgs, items: list[Stranded]) -> str | None:
    """What the call says to do with the stranded money (None: it says nothing, and the delete is blocked)."""
    target, leave = getattr(a, "reassign_to", None), getattr(a, "leave_unlinked", False)
    if target and leave:
        raise ToolFailure("Pass reassign_to or leave_unlinked, not both.")
    if target == a.record_id():
        raise ToolFailure(f"reassign_to is the {spec.noun} being deleted: name another {spec.noun}.")
    if not items:
        return None
    if target:
        return f"moved to {spec.noun} {target} first"
    return "left linked to no account or contact" if leave else None


def _blocked(spec: ResourceSpec[Any, Any, Any], record: Record, a: IdArgs, items: list[Stranded]) -> str:
    id_field = f"{spec.noun}_id"
    calls = "; ".join(item.reassign for item in items[:3]) + ("; …" if len(items) > 3 else "")
    again = next_call(f"delete_{spec.noun}", {id_field: record.id, "reassign_to": f"<another {spec.noun} id>"})
    return (
        f"Deleting it would leave {len(items)} with no account or contact: {stranded_text(items)}. Say what to do "
        f"with them: {again} moves them there first, or leave_unlinked=true deletes anyway. Or link each yourself: "
        f"{calls}."
    )


async def _state(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: IdArgs) -> tuple[Record, DeleteResult]:
    """The record and what deleting it does now: its links, the money it would strand and what the call says."""
    record = await crm.records(spec.path).get(a.record_id())
    links, items = await impact(crm, spec, record.id), await stranded(crm, spec, record.id)
    plan = _choice(spec, a, items)
    if items and (target := getattr(a, "reassign_to", None)):
        await exists(crm, spec, target)
    result = DeleteResult(
        kind=spec.noun,
        id=record.id,
        name=spec.display(record),
        outcome="preview" if plan or not items else "blocked",
        links=links,
        stranded=items,
        settled=plan,
        version=record.updated_at,
    )
    if result.outcome == "blocked":
        result.reason = _blocked(spec, record, a, items)
    return record, result


def delete_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    name = f"delete_{spec.noun}"

    async def preview(crm: CrmClient, a: IdArgs) -> DeleteResult:
        try:
            return (await _state(crm, spec, a))[1]
        except CrmNotFound:
            return DeleteResult(kind=spec.noun, id=a.record_id(), outcome="gone")

    async def delete(crm: CrmClient, a: IdArgs) -> DeleteResult:
        try:  # idempotent: deleting what is gone changes nothing, and says so
            record, now = await _state(crm, spec, a)  # read first: afterwards the CRM has cleared the links
        except CrmNotFound:
            return DeleteResult(kind=spec.noun, id=a.record_id(), outcome="gone")
        if now.outcome == "blocked":
            return now  # without a confirmation step, the guard still stands
        target = getattr(a, "reassign_to", None)
        if now.stranded and target:
            await settle(crm, spec, record.id, now.stranded, target)
        try:
            await crm.records(spec.path).delete(record.id)
        except CrmNotFound:
            return DeleteResult(kind=spec.noun, id=record.id, outcome="gone")
        now.outcome, now.version = "deleted", None
        return now

    return ToolSpec(
        name,
        f"Delete {spec.noun}",
        f"Delete {spec.article}: the first call previews what links to it and gives the confirm token.",
        id_args(name, spec, confirm=True, extra=guard_args(spec)),
        DeleteResult,
        delete,
        DESTRUCTIVE,
        spec.plural,
        hints={"not_found": f"Find ids with search_{spec.plural}."},
        preview=preview,
        check=lambda a: (
            f"See it as it is now with {next_call(f'get_{spec.noun}', {f'{spec.noun}_id': a.record_id()})} "
            "(not found means it was deleted)."
        ),
    )
