"""How a record looks to the model: a compact row or a bounded record, references named, the board stage as truth.

Each noun's view is generated from its entry in the noun table (`crm/resources.py`): the columns give the row, the
wire model gives the record, the relations say which ids get names. A deal shows its board pipeline, stage and
status; its legacy `stage` enum is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast, get_args, get_origin

from pydantic import BaseModel, create_model

from lava_crm_mcp.crm import CrmClient, Pipeline, ResourceSpec
from lava_crm_mcp.crm.activity import ActivityIndex
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import completion, without_completion
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.names import Ref
from lava_crm_mcp.crm.placement import Status, place
from lava_crm_mcp.crm.writes import dropped_note
from lava_crm_mcp.tools.render import Link, Parent, cell, shown, table, to_the_minute

__all__ = ["LONG_TEXT", "SHORT_TEXT", "Namer", "View", "unreadable_note", "view"]

LONG_TEXT = 2_000
SHORT_TEXT = 300
CELL_TEXT = 80
MAX_LINKS = 20
# Wire fields replaced by the board placement, and `closed_on`, which is read by the deal's status: the date it is
# expected to close while open (`expected_close`), the date it closed once won or lost (`closed_on`).
BOARD_ONLY = ("stage", "pipeline", "pipeline_stage", "is_closed", "closed_on")
BOARD_FIELDS = ("pipeline_stage", "status", "expected_close", "closed_on")  # row columns read from the placement
STAMPS = ("created_at", "updated_at")  # shown last: what a record is comes before when it was touched
ACTIVITY = ("last_activity",)  # not a field of the record: from the activity index a search read
KINDS = {"opportunities": "deal", "cases": "case", "leads": "lead", "accounts": "account", "contacts": "contact"}


def _whole(record: Record, name: str) -> str:
    return f"read_description(record_id={record.id!r})" if name == "description" else "not readable whole"


def cut(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[: limit - 1] + "…", True)


@dataclass(frozen=True)
class Namer:
    """The names of every record a batch references, read once for the batch."""

    names: dict[Ref, str | None]
    pipelines: Sequence[Pipeline]
    activity: ActivityIndex | None = None

    def link(self, path: str, record_id: Any, limit: int = SHORT_TEXT) -> Link | None:
        """The reference with its record's name (cut to `limit` characters, like any other text)."""
        if record_id in (None, ""):
            return None
        name = self.names.get((path, str(record_id)))
        return Link(id=str(record_id), name=cut(name, limit)[0] if name else None)


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(get_origin(arg) is list for arg in get_args(annotation))


@dataclass(frozen=True)
class View:
    """One noun as rows and records: their models, and how a wire record becomes each."""

    spec: ResourceSpec[Any, Any, Any]
    row: type[BaseModel]
    record: type[BaseModel]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.spec.columns]

    def shown(self, with_activity: bool) -> list[int]:
        """The columns a text table shows: `last_activity` only when a search read when records last had activity."""
        return [i for i, column in enumerate(self.spec.columns) if with_activity or column.fields != ACTIVITY]

    def table(self, rows: Iterable[BaseModel], *, with_activity: bool, usual: str | None = None) -> list[str]:
        """Rows as a text table of the columns `shown` says (a header line, then a line per row)."""
        shown = self.shown(with_activity)
        cells = (self.cells(row, usual) for row in rows)
        return table([self.headers[i] for i in shown], ([values[i] for i in shown] for values in cells))

    def refs(self, records: Iterable[Record], *, full: bool) -> list[Ref]:
        """Every (path, id) the rows (or full records) of these records name."""
        wanted = (
            self.spec.relations
            if full
            else {
                name: path
                for column in self.spec.columns
                for name in column.fields
                if (path := self.spec.relations.get(name))
            }
        )
        found: list[Ref] = []
        for record in records:
            for name, path in wanted.items():
                value: Any = field_value(record, name)
                ids = cast(list[Any], value)[:MAX_LINKS] if isinstance(value, list) else [value]
                found += [(path, str(item)) for item in ids if item not in (None, "")]
        return found

    async def namer(
        self, crm: CrmClient, records: Sequence[Record], *, full: bool = False, activity: ActivityIndex | None = None
    ) -> Namer:
        pipelines: list[Pipeline] = []
        if self.spec.on_board and records:
            stage_ids = {field_value(record, "pipeline_stage") for record in records} - {None, ""}

            def stale(catalog: list[Pipeline]) -> bool:
                return bool(stage_ids - {stage.id for pipeline in catalog for stage in pipeline.stages})

            pipelines = await crm.pipelines.fresh_if(stale)
        return Namer(await crm.names(self.refs(records, full=full), known=list(records)), pipelines, activity)

    def _value(self, record: Record, name: str, namer: Namer, notes: list[str] | None) -> Any:
        if name in DERIVED:
            return _derived(self.spec, record, name, namer)
        path = self.spec.relations.get(name)
        value = field_value(record, name)
        if name == "description" and self.spec.completion:
            value = without_completion(value) or None
        if name in STAMPS and notes is None and isinstance(value, str):
            return value[:10]  # in rows, the day is enough
        limit = SHORT_TEXT if notes is not None else CELL_TEXT
        if path is None:
            if isinstance(value, str):
                limit = LONG_TEXT if name in self.spec.long_text else SHORT_TEXT
                value, was_cut = cut(value, limit if notes is not None else CELL_TEXT)
                if was_cut and notes is not None:
                    whole = len(field_value(record, name))
                    notes.append(f"{name} cut at {limit:,} of {whole:,} characters; whole: {_whole(record, name)}")
            return value
        if isinstance(value, list):
            ids: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
            if len(ids) > MAX_LINKS and notes is not None:
                notes.append(f"{name}: {MAX_LINKS} of {len(ids)} shown")
            return [namer.link(path, item, limit) for item in ids[:MAX_LINKS]]
        return namer.link(path, value, limit)

    def _board(self, record: Record, namer: Namer) -> dict[str, Any]:
        where = place(record, namer.pipelines)
        pipeline = Link(id=where.pipeline.id, name=where.pipeline.name) if where.pipeline else None
        stage = Link(id=where.stage.id, name=where.stage.name) if where.stage else None
        day = field_value(record, "closed_on")
        day = str(day)[:10] if day not in (None, "") else None
        expected = day if where.status == "open" else None
        closed = None if where.status == "open" else day
        return {
            "pipeline": pipeline,
            "stage": stage,
            "status": where.status,
            "expected_close": expected,
            "closed_on": closed,
        }

    def _parent(self, record: Record, fields: Sequence[str], namer: Namer) -> Parent | None:
        for name in fields:
            value: Any = field_value(record, name)
            items = cast(list[Any], value) if isinstance(value, list) else [value]
            first: Any = items[0] if items else None
            if first not in (None, "", []):
                path = self.spec.relations[name]
                link = namer.link(path, first, CELL_TEXT)
                return Parent(kind=KINDS.get(path, path), id=str(first), name=link.name if link else None)
        return None

    def row_of(self, record: Record, namer: Namer) -> BaseModel:
        board = self._board(record, namer) if self.spec.on_board else {}
        if len(namer.pipelines) < 2:  # one pipeline: naming it in every row says nothing
            board.pop("pipeline", None)
        data: dict[str, Any] = {}
        for column in self.spec.columns:
            if column.first_of:
                data["parent"] = self._parent(record, column.fields, namer)
                continue
            for name in column.fields:
                if board and name in BOARD_FIELDS:
                    data |= board
                else:
                    data[name] = self._value(record, name, namer, None)
        return self.row.model_validate(data)

    def record_of(self, record: Record, namer: Namer) -> tuple[BaseModel, list[str]]:
        notes: list[str] = []
        data = {
            name: self._value(record, name, namer, notes)
            for name in self.record.model_fields
            if (name in type(record).model_fields or name in DERIVED)
            and not (self.spec.on_board and name in BOARD_ONLY)
        }
        if self.spec.on_board:
            data |= self._board(record, namer)
        notes += [unreadable_note(name, raw) for name, raw in record.unreadable.items()]
        notes += [dropped_note(record.dropped, self.spec.write_aliases)] if record.dropped else []  # a write's only
        return self.record.model_validate(data), notes

    def cells(self, row: BaseModel, usual: str | None = None) -> list[Any]:
        """The text cells of a row, one per column; a deal's stage names its pipeline unless it is `usual`."""
        values: list[Any] = []
        for column in self.spec.columns:
            if column.first_of:
                values.append(getattr(row, "parent", None))
                continue
            names = ["stage" if name == "pipeline_stage" else name for name in column.fields]
            parts = [str(getattr(row, name)) for name in names if getattr(row, name, None) not in (None, "", [])]
            if "stage" in names and parts and (pipeline := getattr(row, "pipeline", None)) and str(pipeline) != usual:
                parts.append(f"[{pipeline}]")
            values.append(" ".join(parts) or None)
        return values

    def lines(self, head: str, record: BaseModel, notes: Sequence[str]) -> list[str]:
        """`head: key=value; …`, then a line per note on what was cut."""
        return [f"{head}: {self.text(record)}", *(f"({note})" for note in notes)]

    def text(self, record: BaseModel) -> str:
        """`key=value; …` for the fields that carry something; references as `name (id)`; long free text always
        as a JSON string, so where customer-written text starts and ends is never in doubt."""
        shown: list[str] = []
        for key, value in record:
            if key == "id" or value in (None, "", []):
                continue
            if key in self.spec.long_text:
                shown.append(f"{key}={json.dumps(str(value), ensure_ascii=False)}")
            elif isinstance(value, Link):
                shown.append(f"{key}={_linked(value)}")
            elif isinstance(value, list):
                shown.append(f"{key}={', '.join(_linked(item) for item in value)}")  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
            else:
                shown.append(f"{key}={cell(to_the_minute(value))}")
        return "; ".join(shown)


DERIVED = ("last_activity", "completed_on")


def _derived(spec: ResourceSpec[Any, Any, Any], record: Record, name: str, namer: Namer) -> str | None:
    """A value that is not a field of the record: when it last had activity, when it was completed."""
    if name == "completed_on":
        done = completion(record) if spec.completion else None
        return done.on.isoformat() if done is not None else None
    day = namer.activity.of(spec.path, record) if namer.activity is not None else None
    return day.isoformat() if day is not None else None


def unreadable_note(name: str, raw: str) -> str:
    """What to say of a field the CRM sent in a form this server cannot read (it is shown blank)."""
    text, _ = cut(raw, 60)
    return f"{name} left blank: the CRM sent {shown(text)}, which is not a valid {name}"


def _linked(value: Any) -> str:
    return f"{cell(value.name)} ({value.id})" if isinstance(value, Link) and value.name else cell(value)


def _annotation(spec: ResourceSpec[Any, Any, Any], name: str) -> Any:
    if name in spec.relations:
        return list[Link] if _is_list(spec.model.model_fields[name].annotation) else Link | None
    return spec.model.model_fields[name].annotation


def _board_fields() -> dict[str, Any]:
    placed = {"pipeline": (Link | None, None), "stage": (Link | None, None), "status": (Status | None, None)}
    return placed | {"expected_close": (str | None, None), "closed_on": (str | None, None)}


def _row_model(spec: ResourceSpec[Any, Any, Any]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for column in spec.columns:
        if column.first_of:
            fields["parent"] = (Parent | None, None)
            continue
        for name in column.fields:
            if spec.on_board and name in BOARD_FIELDS:
                fields |= _board_fields()
            elif name in DERIVED:
                fields[name] = (str | None, None)
            else:
                fields[name] = (_annotation(spec, name), ... if name == "id" else None)
    return create_model(f"{spec.noun.title()}Row", **fields)


def _record_model(spec: ResourceSpec[Any, Any, Any]) -> type[BaseModel]:
    """Every field of the wire model (references as links), the board placement for deals, timestamps last."""
    fields: dict[str, Any] = {}
    for name, info in spec.model.model_fields.items():
        if name in STAMPS or (spec.on_board and name in BOARD_ONLY):
            continue
        many = name in spec.relations and _is_list(info.annotation)
        fields[name] = (_annotation(spec, name), ... if name == "id" else ([] if many else None))
    if spec.on_board:
        fields |= _board_fields()
    if spec.completion:
        fields["completed_on"] = (str | None, None)
    fields |= {name: (_annotation(spec, name), None) for name in STAMPS}
    return create_model(f"{spec.noun.title()}Record", **fields)


_VIEWS: dict[str, View] = {}


def view(spec: ResourceSpec[Any, Any, Any]) -> View:
    """The view of a noun (built once)."""
    if spec.path not in _VIEWS:
        _VIEWS[spec.path] = View(spec, _row_model(spec), _record_model(spec))
    return _VIEWS[spec.path]
