"""Safe writes around create and update: no silent duplicates, list links edited by adding and removing, a deal
created straight into a board stage (through the pipeline endpoint, never the legacy enum)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid, Opportunity, ResourceSpec, Stage
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.ids import check_id
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.tools._shared import ToolFailure, next_call
from lava_crm_mcp.tools.arguments import BodyArgs, edits, unclearable

__all__ = [
    "apply_members",
    "cleared",
    "duplicate_of",
    "explain_refusal",
    "placed_deal",
    "plan_members",
    "refuse_duplicate",
    "target_stage",
    "with_list_edits",
]


async def duplicate_of(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], value: str) -> Record | None:
    """The record whose natural key (email, name) equals `value`, ignoring case, if one exists."""
    found = await crm.search(spec.path, text=value, limit=50)
    key = value.strip().casefold()
    return next((row for row in found.items if str(field_value(row, spec.natural_key or "")).casefold() == key), None)


def _existing(spec: ResourceSpec[Any, Any, Any], record: Record, value: str, *, refused: bool) -> ToolFailure:
    label = spec.display(record) or record.id
    update = next_call(f"update_{spec.noun}", {f"{spec.noun}_id": record.id}).replace(")", ", …)")
    said = "The CRM refused a second one: " if refused else ""
    hint = "" if refused else ", or pass allow_duplicate=true to create another"
    return ToolFailure(
        f"{said}{spec.article.capitalize()} with {spec.natural_key} {value!r} already exists: {label} ({record.id}). "
        f"Change it with {update}{hint}."
    )


async def refuse_duplicate(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: BodyArgs) -> None:
    """Before a create: stop (naming the existing record) when one with the same natural key exists."""
    value = a.get(spec.natural_key) if spec.natural_key else None
    if value and not a.get("allow_duplicate") and (existing := await duplicate_of(crm, spec, str(value))):
        raise _existing(spec, existing, str(value), refused=False)


async def explain_refusal(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: BodyArgs, exc: CrmInvalid) -> None:
    """After the CRM refused a create over its natural key: name the record that already has it."""
    value = a.get(spec.natural_key) if spec.natural_key else None
    if value and spec.natural_key in exc.fields and (existing := await duplicate_of(crm, spec, str(value))):
        raise _existing(spec, existing, str(value), refused=True) from exc


def cleared(spec: ResourceSpec[Any, Any, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """An update's changes with its nulls checked: a field the CRM always holds cannot be cleared (the message says
    what to give instead); a list of links given as null becomes empty."""
    kept = sorted(name for name, value in changes.items() if value is None and name in unclearable(spec))
    if kept:
        raise ToolFailure(
            f"{', '.join(kept)} cannot be cleared (the CRM always holds a value there): give a new value instead, "
            "or leave it out to keep it."
        )
    lists = {name for name, info in spec.update.model_fields.items() if "list" in str(info.annotation)}
    return {name: [] if value is None and name in lists else value for name, value in changes.items()}


def _ids(a: BodyArgs, name: str) -> list[str]:
    values: list[str] = a.get(name) or []
    for value in values:
        check_id(value, name)
    return values


async def with_list_edits(
    crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str, a: BodyArgs, changes: dict[str, Any]
) -> list[str]:
    """Turn add_/remove_ arguments of list links (a deal's contacts) into the new whole list; notes say what did
    nothing. The rest of the list is kept."""
    notes: list[str] = []
    for name in spec.relations:
        add, remove = edits(name)
        if add not in type(a).model_fields or not (a.get(add) or a.get(remove)):
            continue
        current = list(field_value(await crm.records(spec.path).get(record_id), name) or [])
        added, removed = _ids(a, add), _ids(a, remove)
        notes += [f"{item} was already linked" for item in added if item in current]
        notes += [f"{item} was not linked" for item in removed if item not in current]
        changes[name] = list(dict.fromkeys([*(item for item in current if item not in removed), *added]))
    return notes


@dataclass(frozen=True)
class Relink:
    """One planned change of another record's link to this one (set, or cleared)."""

    path: str
    record_id: str
    field: str
    value: str | None


async def plan_members(
    crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str, a: BodyArgs
) -> tuple[list[Relink], list[str]]:
    """Check every id and read every record first (an account's contacts to link or unlink), so that a bad id
    stops the update before anything is written; notes say what will change nothing."""
    plans: list[Relink] = []
    notes: list[str] = []
    for member in spec.members:
        add, remove = edits(member.arg)
        added, removed = _ids(a, add), _ids(a, remove)
        records = crm.records(member.path)
        for item in added:
            await records.get(item)
            plans.append(Relink(member.path, item, member.field, record_id))
        for item in removed:
            if field_value(await records.get(item), member.field) != record_id:
                notes.append(f"{records.spec.noun} {item} was not linked")
            else:
                plans.append(Relink(member.path, item, member.field, None))
    return plans, notes


async def apply_members(crm: CrmClient, plans: list[Relink]) -> list[str]:
    """Write the planned link changes; if one fails, the error says which were already made."""
    done: list[str] = []
    for plan in plans:
        records = crm.records(plan.path)
        try:
            await records.update(plan.record_id, {plan.field: plan.value})
        except CrmError as exc:
            made = "; ".join(done) or "none"
            raise ToolFailure(f"{exc.message} Link changes already made: {made}. Call again for the rest.") from exc
        done.append(f"{'linked' if plan.value else 'unlinked'} {records.spec.noun} {plan.record_id}")
    return done


async def target_stage(crm: CrmClient, stage: str | None, pipeline: str | None) -> Stage | None:
    """The stage a new deal should sit in (by id or name; a named pipeline's first stage), found before creating."""
    if stage is not None:
        return (await crm.pipelines.locate(stage, pipeline))[1]
    if pipeline is not None:
        return next(item for item in (await crm.pipelines.find(pipeline)).stages if item.stage_type == "open")
    return None


async def placed_deal(crm: CrmClient, deal: Opportunity, target: Stage | None) -> Opportunity:
    """Move a just-created deal into its stage through the pipeline endpoint (never the legacy enum)."""
    if target is None or deal.pipeline_stage == target.id:
        return deal
    return await crm.pipelines.move_deal(deal.id, target.id)
