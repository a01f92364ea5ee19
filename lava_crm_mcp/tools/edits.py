"""Safe writes around create and update: no silent duplicates, list links edited by adding and removing, a deal
created straight into a board stage (through the pipeline endpoint, never the legacy enum)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid, Opportunity, ResourceSpec, Stage
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.ids import check_id
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.tools._shared import ToolFailure, next_call
from lava_crm_mcp.tools.arguments import BodyArgs, edits, unclearable
from lava_crm_mcp.tools.matching import FIELDS, REASONS, fold, keys_of, norm_email

__all__ = [
    "apply_members",
    "cleared",
    "duplicate_of",
    "explain_refusal",
    "likely_twins",
    "placed_deal",
    "plan_members",
    "refuse_duplicate",
    "target_stage",
    "with_list_edits",
]


async def duplicate_of(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], value: str) -> Record | None:
    """The record whose natural key (email, name) equals `value`, ignoring case, if one exists."""
    found = await crm.search(spec.path, text=value, limit=50)
    key = spec.natural_key or ""
    same = norm_email if "email" in key else fold  # an email up to case; a name up to case, accents and spaces
    return next((row for row in found.items if same(field_value(row, key)) == same(value)), None)


async def likely_twins(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record: Record) -> list[str]:
    """After a create: the records the new one is likely the same as (the same phone, or the same name up to case
    and accents at the same account), each with its merge call. A note, never a refusal: two people can share a
    name, and only the caller knows."""
    if spec.path not in FIELDS:
        return []
    last = str(field_value(record, FIELDS[spec.path]["name"][-1]) or "")
    words = {last, fold(last), *(str(field_value(record, name) or "") for name in FIELDS[spec.path]["phone"])}
    found: dict[str, Record] = {}
    for word in sorted(word for word in words if word.strip()):
        found |= {row.id: row for row in (await crm.search(spec.path, text=word, limit=20)).items}
    mine = {kind: value for kind, value in keys_of(spec.path, record) if kind in ("phone", "name")}
    notes: list[str] = []
    for other in (row for ident, row in found.items() if ident != record.id):
        shared = [REASONS[kind] for kind, value in keys_of(spec.path, other) if mine.get(kind) == value]
        if shared:
            merge = next_call(f"merge_{spec.plural}", {"keep_id": other.id, "merge_id": record.id})
            label = f"{spec.display(other)} ({other.id})"
            notes.append(f"Likely the same {spec.noun} as {label}: {', '.join(shared)}. If so: {merge}.")
    return notes


def _existing(spec: ResourceSpec[Any, Any, Any], record: Record, value: str, *, refused: bool) -> ToolFailure:
    label = spec.display(record) or record.id
    update = next_call(f"update_{spec.noun}", {f"{spec.noun}_id": record.id}).replace(")", ", …)")
    said = "The CRM refused a second one: " if refused else ""
    hint = "" if refused or spec.crm_unique else ", or pass allow_duplicate=true to create another"
    return ToolFailure(
        f"{said}{spec.article.capitalize()} with {spec.natural_key} {value!r} already exists: {label} ({record.id}). "
        f"Change it with {update}{hint}."
    )


async def refuse_duplicate(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: BodyArgs) -> None:
    """Before a create: stop (naming the existing record) when one with the same natural key exists, or an open
    twin (a task with the same title, due date and parent: a retried create)."""
    if a.get("allow_duplicate"):
        return
    value = a.get(spec.natural_key) if spec.natural_key else None
    if value and (existing := await duplicate_of(crm, spec, str(value))):
        raise _existing(spec, existing, str(value), refused=False)
    if spec.twins and (twin := await _open_twin(crm, spec, a)):
        call = next_call(f"update_{spec.noun}", {f"{spec.noun}_id": twin.id}).replace(")", ", …)")
        raise ToolFailure(
            f"An identical open {spec.noun} already exists: {spec.display(twin)} ({twin.id}), same "
            f"{', '.join(name for name in spec.twins if a.get(name))}. Nothing was created (a repeated call?). "
            f"Change it with {call}, or pass allow_duplicate=true to create another."
        )


def _same(found: Any, wanted: Any) -> bool:
    """Two field values alike: lists as sets of ids, dates by their day, text ignoring case; both empty is alike."""
    if isinstance(found, list) or isinstance(wanted, list):
        return sorted(map(str, cast(list[Any], found or []))) == sorted(map(str, cast(list[Any], wanted or [])))
    return str(found or "")[:10].casefold() == str(wanted or "")[:10].casefold()


async def _open_twin(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: BodyArgs) -> Record | None:
    """An open record whose twin fields all equal the new one's (the title compared whole, ignoring case)."""
    title = str(a.get(spec.label[0]) or "")
    found = await crm.search(spec.path, text=title, filters={"status": "open"}, limit=50)
    body = a.body()
    for row in found.items:
        title_same = str(field_value(row, spec.label[0]) or "").casefold() == title.casefold()
        if title_same and all(_same(field_value(row, name), body.get(name)) for name in spec.twins[1:]):
            return row
    return None


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
