"""Deal pipelines: pipelines, their stages (open…, Won, Lost) and each deal's place in a column."""

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from .db import now
from .errors import BadRequest, Invalid, NotFound

DEFAULT_PIPELINE = "Sales Pipeline"
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
CLOSING_STAGES = (("Won", "won"), ("Lost", "lost"))
_TYPE_RANK = {"open": 0, "won": 1, "lost": 2}


@dataclass(frozen=True)
class StageRow:
    id: str
    pipeline_id: str
    name: str
    stage_type: str
    order: int


@dataclass(frozen=True)
class Placement:
    """Where a deal sits: pipeline, stage, and whether that stage closes it."""

    pipeline: str
    pipeline_stage: str
    is_closed: bool


@dataclass(frozen=True)
class Card:
    """A deal as its column holds it: the deal's data, its place, and when it entered the stage."""

    id: str
    data: dict[str, Any]
    position: int
    entered_at: str


@dataclass(frozen=True)
class Column:
    stage: StageRow
    cards: list[Card]


@dataclass(frozen=True)
class Layout:
    """A pipeline's board before a dialect draws it: its {id, name, is_default} and its columns in order."""

    pipeline: dict[str, Any]
    columns: list[Column]


def stage_body(row: StageRow, count: int) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "stage_type": row.stage_type, "order": row.order, "deal_count": count}


def _clash(names: list[str], name: str, what: str) -> None:
    if name.casefold() in (other.casefold() for other in names):
        raise Invalid({"name": [f"A {what} with this name already exists."]})


class Boards:
    """Pipelines, stages and placements of one database, always scoped to one org."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def provision(self, org: str) -> None:
        """Give the org its default pipeline if it has none (ids derived from the org, so stable)."""
        if self.conn.execute("SELECT 1 FROM pipelines WHERE org = ? AND is_default = 1", (org,)).fetchone() is None:
            ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lava-crm-sandbox/{org}/pipeline/default"))
            self.create_pipeline(org, DEFAULT_PIPELINE, ident=ident, is_default=True)

    def create_pipeline(self, org: str, name: str, *, ident: str | None = None, is_default: bool = False) -> str:
        _clash([row[1] for row in self._pipeline_rows(org)], name, "pipeline")
        ident = ident or str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO pipelines (id, org, name, is_default) VALUES (?, ?, ?, ?)", (ident, org, name, is_default)
        )
        seeds = [*((stage, "open") for stage in OPEN_STAGES), *CLOSING_STAGES]
        for order, (stage, kind) in enumerate(seeds):
            self._insert_stage(org, ident, str(uuid.uuid5(uuid.UUID(ident), stage)), stage, kind, order)
        return ident

    def pipelines(self, org: str) -> list[dict[str, Any]]:
        counts = self._counts(org)
        stages: dict[str, list[dict[str, Any]]] = {}
        for row in self._stage_rows("org = ?", org):
            stages.setdefault(row.pipeline_id, []).append(stage_body(row, counts.get(row.id, 0)))
        return [
            {"id": ident, "name": name, "is_default": bool(default), "stages": stages.get(ident, [])}
            for ident, name, default in self._pipeline_rows(org)
        ]

    def pipeline(self, org: str, ident: str) -> dict[str, Any]:
        return next(item for item in self.pipelines(org) if item["id"] == ident)

    def head(self, org: str, ident: str | None) -> dict[str, Any]:
        """The {id, name, is_default} of a pipeline, or of the default one when `ident` is None."""
        for pid, name, default in self._pipeline_rows(org):
            if pid == ident or (ident is None and default):
                return {"id": pid, "name": name, "is_default": bool(default)}
        raise NotFound("Pipeline")

    def stage(self, org: str, ident: str) -> StageRow:
        rows = self._stage_rows("org = ? AND id = ?", org, ident)
        if not rows:
            raise NotFound("Stage")
        return rows[0]

    def first_open(self, org: str) -> StageRow:
        head = self.head(org, None)
        return next(row for row in self._stage_rows("pipeline_id = ?", head["id"]) if row.stage_type == "open")

    def board(self, org: str, pipeline_id: str | None) -> Layout:
        head = self.head(org, pipeline_id)
        cards: dict[str, list[Card]] = {}
        for stage_id, deal_id, position, data, entered_at in self.conn.execute(
            "SELECT p.stage_id, p.deal_id, p.position, r.data, coalesce(p.entered_at, r.created_at) FROM placements p "
            "JOIN stages s ON s.id = p.stage_id JOIN records r ON r.id = p.deal_id "
            "WHERE s.pipeline_id = ? ORDER BY p.position",
            (head["id"],),
        ):
            cards.setdefault(stage_id, []).append(Card(deal_id, json.loads(data), position, entered_at))
        rows = self._stage_rows("pipeline_id = ?", head["id"])
        return Layout(head, [Column(row, cards.get(row.id, [])) for row in rows])

    def add_stage(self, org: str, pipeline_id: str, name: str, *, ident: str | None = None) -> dict[str, Any]:
        self.head(org, pipeline_id)
        rows = self._stage_rows("pipeline_id = ?", pipeline_id)
        _clash([row.name for row in rows], name, "stage")
        ident = ident or str(uuid.uuid4())
        self._insert_stage(org, pipeline_id, ident, name, "open", len(rows))
        self._renumber(pipeline_id)
        return self.stage_out(org, ident)

    def rename_stage(self, org: str, ident: str, name: str) -> dict[str, Any]:
        stage = self.stage(org, ident)
        others = [row.name for row in self._stage_rows("pipeline_id = ? AND id != ?", stage.pipeline_id, ident)]
        _clash(others, name, "stage")
        self.conn.execute("UPDATE stages SET name = ? WHERE id = ?", (name, ident))
        return self.stage_out(org, ident)

    def delete_stage(self, org: str, ident: str) -> None:
        stage = self.stage(org, ident)
        if stage.stage_type != "open":
            raise BadRequest("Won and Lost stages are required and cannot be deleted.")
        count = self._counts(org).get(ident, 0)
        if count:
            raise BadRequest(f"This stage still holds {count} deal(s); move them first.")
        self.conn.execute("DELETE FROM stages WHERE id = ?", (ident,))
        self._renumber(stage.pipeline_id)

    def stage_out(self, org: str, ident: str) -> dict[str, Any]:
        return stage_body(self.stage(org, ident), self._counts(org).get(ident, 0))

    def column(self, stage_id: str) -> list[str]:
        rows = self.conn.execute("SELECT deal_id FROM placements WHERE stage_id = ? ORDER BY position", (stage_id,))
        return [deal_id for (deal_id,) in rows]

    def place(self, org: str, deal_id: str, stage_id: str, index: int | None = None, *, at: str | None = None) -> None:
        """Put the deal in the stage at `index` (None: the end), taking it out of its current column first.

        A deal moved within its stage keeps the time it entered it; otherwise it enters `at` (default: now).
        """
        sql = "SELECT entered_at FROM placements WHERE deal_id = ? AND stage_id = ?"
        kept = self.conn.execute(sql, (deal_id, stage_id)).fetchone()
        self.remove(deal_id)
        column = self.column(stage_id)
        index = len(column) if index is None else index
        self.conn.execute(
            "UPDATE placements SET position = position + 1 WHERE stage_id = ? AND position >= ?", (stage_id, index)
        )
        self.conn.execute(
            "INSERT INTO placements (deal_id, org, stage_id, position, entered_at) VALUES (?, ?, ?, ?, ?)",
            (deal_id, org, stage_id, index, kept[0] if kept else at or now()),
        )

    def remove(self, deal_id: str) -> None:
        row = self.conn.execute("SELECT stage_id, position FROM placements WHERE deal_id = ?", (deal_id,)).fetchone()
        if row is not None:
            self.conn.execute("DELETE FROM placements WHERE deal_id = ?", (deal_id,))
            self.conn.execute("UPDATE placements SET position = position - 1 WHERE stage_id = ? AND position > ?", row)

    def placements(self, deal_ids: list[str]) -> dict[str, Placement]:
        marks = ", ".join("?" * len(deal_ids))
        join = "FROM placements p JOIN stages s ON s.id = p.stage_id"
        sql = f"SELECT p.deal_id, s.pipeline_id, s.id, s.stage_type {join} WHERE p.deal_id IN ({marks})"
        rows = self.conn.execute(sql, deal_ids)
        return {deal: Placement(pipeline, stage, kind != "open") for deal, pipeline, stage, kind in rows}

    def _pipeline_rows(self, org: str) -> list[tuple[str, str, int]]:
        sql = "SELECT id, name, is_default FROM pipelines WHERE org = ? ORDER BY is_default DESC, seq"
        return self.conn.execute(sql, (org,)).fetchall()

    def _stage_rows(self, where: str, *args: str) -> list[StageRow]:
        sql = f"SELECT id, pipeline_id, name, stage_type, ord FROM stages WHERE {where} ORDER BY ord"  # noqa: S608
        return [StageRow(*row) for row in self.conn.execute(sql, args)]

    def _insert_stage(self, org: str, pipeline_id: str, ident: str, name: str, kind: str, order: int) -> None:
        self.conn.execute(
            "INSERT INTO stages (id, org, pipeline_id, name, stage_type, ord) VALUES (?, ?, ?, ?, ?, ?)",
            (ident, org, pipeline_id, name, kind, order),
        )

    def _renumber(self, pipeline_id: str) -> None:
        rows = sorted(
            self._stage_rows("pipeline_id = ?", pipeline_id), key=lambda r: (_TYPE_RANK[r.stage_type], r.order)
        )
        self.conn.executemany("UPDATE stages SET ord = ? WHERE id = ?", [(i, row.id) for i, row in enumerate(rows)])

    def _counts(self, org: str) -> dict[str, int]:
        rows = self.conn.execute("SELECT stage_id, count(*) FROM placements WHERE org = ? GROUP BY stage_id", (org,))
        return dict(rows.fetchall())
