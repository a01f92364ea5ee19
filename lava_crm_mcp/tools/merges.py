"""Duplicates found and merged: `find_duplicates` groups likely duplicates with the reason; `merge_contacts` and
`merge_accounts` move everything that links to one record onto the other, fill the kept record's empty fields, write
a timeline entry and delete the merged record — previewed and confirmed like a delete (`twophase.py`).

A merge that stops halfway says what it already moved; calling it again continues (what was moved no longer links to
the merged record, so it is not moved twice).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, Field

from lava_crm_mcp.crm import CrmClient, CrmError, ResourceSpec
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS, resource
from lava_crm_mcp.crm.search import Budget
from lava_crm_mcp.tools._shared import DESTRUCTIVE, READ, ConfirmArg, IdArg, ToolArgs, ToolFailure, ToolSpec, next_call
from lava_crm_mcp.tools.audit import AuditItem
from lava_crm_mcp.tools.deletes import Dependents, dependents_of, impact, impact_text
from lava_crm_mcp.tools.matching import group_duplicates
from lava_crm_mcp.tools.progress import progress
from lava_crm_mcp.tools.render import Link, Result, cell
from lava_crm_mcp.tools.timeline import write_entry
from lava_crm_mcp.tools.twophase import Previewed

__all__ = ["FIND_DUPLICATES", "MERGE_ACCOUNTS", "MERGE_CONTACTS"]

READ_ALL = 500  # records compared by find_duplicates (a bounded scan)
GROUPS = 20
SKIPPED = frozenset({"id", "created_at", "updated_at"})


class DuplicateGroup(BaseModel):
    records: list[Link]
    reasons: list[str]
    merge: str


class Duplicates(Result):
    kind: str
    groups: list[DuplicateGroup]
    scanned: int
    complete: bool

    def render(self) -> str:
        read = f"{self.scanned} {self.kind} read" + ("" if self.complete else " (more exist: not all compared)")
        lines = [f"{len(self.groups)} group(s) of likely duplicate {self.kind}; {read}."]
        for group in self.groups:
            names = ", ".join(f"{cell(item.name or '-')} ({item.id})" for item in group.records)
            lines.append(f"  {names}: {'; '.join(group.reasons)}. Merge: {group.merge}")
        return "\n".join(lines)


class FindDuplicatesArgs(ToolArgs):
    noun: Literal["contacts", "accounts"]


async def find_duplicates(crm: CrmClient, a: FindDuplicatesArgs) -> Duplicates:
    spec = resource(a.noun)
    found = await crm.search(spec.path, limit=READ_ALL, budget=Budget(pages=READ_ALL // 20, seconds=10.0))
    by_id = {record.id: record for record in found.items}
    groups = group_duplicates(spec.path, found.items)[:GROUPS]
    return Duplicates(
        kind=spec.plural,
        groups=[
            DuplicateGroup(
                records=[Link(id=ident, name=spec.display(by_id[ident])) for ident in group.ids],
                reasons=group.reasons,
                merge=next_call(f"merge_{spec.plural}", {"keep_id": group.ids[0], "merge_id": group.ids[1]}),
            )
            for group in groups
        ],
        scanned=len(found.items),
        complete=found.next is None and not found.stopped_early,
    )


class MergeArgs(ToolArgs):
    keep_id: Annotated[IdArg, Field(description="The record that stays.")]
    merge_id: Annotated[IdArg, Field(description="The one merged into it, then deleted.")]
    confirm: ConfirmArg = None


class Merged(Previewed):
    """A merge: what would move (preview) or moved (merged), the kept record's fields filled, and any stop."""

    kind: str
    keep: Link
    merge: Link
    outcome: Literal["preview", "merged"]
    moved: list[Dependents] = Field(default_factory=list[Dependents])
    filled: dict[str, Any] = Field(default_factory=dict[str, Any])

    def audit_items(self) -> list[AuditItem]:
        if self.outcome == "preview":
            return [AuditItem(self.kind, self.keep.id, "previewed"), AuditItem(self.kind, self.merge.id, "previewed")]
        return [
            AuditItem(self.kind, self.keep.id, "done", "kept"),
            AuditItem(self.kind, self.merge.id, "done", "merged"),
        ]

    def render(self) -> str:
        merged, kept = (f"{cell(link.name or '-')} ({link.id})" for link in (self.merge, self.keep))
        what = f"{self.kind} {merged} into {kept}"
        fill = f" Fields filled from it: {', '.join(self.filled)}." if self.filled else ""
        if self.outcome == "merged":
            return f"Merged {what}; moved {impact_text(self.moved)}.{fill} The merged {self.kind} is deleted."
        note = f"{self.note}\n" if self.note else ""
        return (
            f"{note}Nothing merged yet. Merging {what} moves {impact_text(self.moved)}.{fill} Then the merged "
            f"{self.kind} is deleted. To merge, call {self.next_call} within 5 minutes."
        )


def _fillable(spec: ResourceSpec[Any, Any, Any], keep: Record, merge: Record) -> dict[str, Any]:
    """Fields empty on the kept record that the merged one has (its id and time stamps aside)."""
    return {
        name: value
        for name in spec.update.model_fields
        if name not in SKIPPED
        and field_value(keep, name) in (None, "", [])
        and (value := field_value(merge, name)) not in (None, "", [])
    }


async def _records(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], a: MergeArgs) -> tuple[Record, Record]:
    if a.keep_id == a.merge_id:
        raise ToolFailure("keep_id and merge_id are the same record: give two different ids.")
    records = crm.records(spec.path)
    return await records.get(a.keep_id), await records.get(a.merge_id)


def _preview(spec: ResourceSpec[Any, Any, Any]) -> Any:
    async def preview(crm: CrmClient, a: MergeArgs) -> Merged:
        keep, merge = await _records(crm, spec, a)
        return Merged(
            kind=spec.noun,
            keep=Link(id=keep.id, name=spec.display(keep)),
            merge=Link(id=merge.id, name=spec.display(merge)),
            outcome="preview",
            moved=await impact(crm, spec, merge.id),
            filled=_fillable(spec, keep, merge),
            target=f"{keep.id}>{merge.id}",
            version=f"{keep.updated_at}/{merge.updated_at}",
        )

    return preview


async def _move_links(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], keep: str, merge: str) -> list[Dependents]:
    """Relink every record that points at `merge` to `keep`, kind by kind, until none is left (bounded)."""
    moved: list[Dependents] = []
    for noun, link in dependents_of(spec):
        field, via = link.field, link.name
        done: list[Link] = []
        for _ in range(20):  # 20 reads of 50: a record with more than 1,000 dependents is finished by calling again
            found = await crm.search(noun.path, filters={via: merge}, limit=50)
            for record in found.items:
                new = _relinked(field_value(record, field), keep, merge)
                try:
                    await crm.records(noun.path).update(record.id, {field: new})
                except CrmError as exc:
                    so_far = impact_text([*moved, Dependents(kind=noun.plural, total=len(done), items=done)])
                    raise ToolFailure(
                        f"The merge stopped while moving {noun.noun} {record.id}: {exc.message} Moved so far: "
                        f"{so_far}. Nothing was deleted. Call merge again (a fresh preview, then confirm): it "
                        "continues with what is left."
                    ) from exc
                done.append(Link(id=record.id, name=noun.display(record)))
                await progress(len(done), max(len(done), found.total or 0), f"moving {noun.plural}")
            if not found.items:
                break
        moved.append(Dependents(kind=noun.plural, total=len(done), items=done[:3]))
    return moved


def _relinked(value: Any, keep: str, merge: str) -> Any:
    """A link field pointing at `merge` made to point at `keep` (in a list of links, once)."""
    if isinstance(value, list):
        return list(dict.fromkeys(keep if item == merge else item for item in cast(list[Any], value)))
    return keep


def _merge(spec: ResourceSpec[Any, Any, Any]) -> Any:
    async def merge(crm: CrmClient, a: MergeArgs) -> Merged:
        keep, gone = await _records(crm, spec, a)
        filled = _fillable(spec, keep, gone)
        moved = await _move_links(crm, spec, keep.id, gone.id)
        await crm.records(spec.path).delete(gone.id)
        if filled:  # after the delete: an email or name the CRM keeps unique is free only now
            keep = await crm.records(spec.path).update(keep.id, filled)
        link = {"contacts": [keep.id]} if spec is CONTACTS else {"account": keep.id}
        details = {"merged": gone.id, "merged_name": spec.display(gone), "filled": sorted(filled)}
        note = await write_entry(crm, f"Merged {spec.display(gone)} into this {spec.noun}", details, link)
        return Merged(
            kind=spec.noun,
            keep=Link(id=keep.id, name=spec.display(keep)),
            merge=Link(id=gone.id, name=spec.display(gone)),
            outcome="merged",
            moved=moved,
            filled=filled,
            note=note,
        )

    return merge


FIND_DUPLICATES: ToolSpec[Any] = ToolSpec(
    "find_duplicates",
    "Find duplicates",
    "Group likely duplicate contacts or accounts (same email, phone digits, or name up to case and accents), each "
    "group with why and the merge call.",
    FindDuplicatesArgs,
    Duplicates,
    find_duplicates,
    READ,
    "crm",
)


def _merge_tool(spec: ResourceSpec[Any, Any, Any]) -> ToolSpec[Any]:
    return ToolSpec(
        f"merge_{spec.plural}",
        f"Merge {spec.plural}",
        f"Merge one {spec.noun} into another: its links move over, empty fields are filled from it, then it is "
        "deleted. First call previews; confirm with its token.",
        MergeArgs,
        Merged,
        _merge(spec),
        DESTRUCTIVE,
        spec.plural,
        hints={"not_found": f"Find ids with search_{spec.plural} or find_duplicates."},
        preview=_preview(spec),
        check=lambda a: f"See both with get_records(ids=[{a.keep_id!r}, {a.merge_id!r}]).",
    )


MERGE_CONTACTS = _merge_tool(CONTACTS)
MERGE_ACCOUNTS = _merge_tool(ACCOUNTS)
