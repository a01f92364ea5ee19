"""Record operations of the seven resources and the deal move, combining validation, storage and the board."""

import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from . import validate
from .board import Boards, StageRow
from .db import now
from .errors import Invalid, NotFound
from .filters import Query
from .records import Filter, Record, Records, Rows, Window
from .resources import BY_NAME, Resource, referrers
from .shapes import MoveBody

DEALS = BY_NAME["opportunities"]
_CLOSING = {"won": "CLOSED_WON", "lost": "CLOSED_LOST"}


def _settle(record: Record, stage_type: str) -> None:
    """Closing rule of the board: a won/lost stage sets the legacy stage and, if empty, closed_on."""
    if stage_type in _CLOSING:
        record["stage"] = _CLOSING[stage_type]
        record["closed_on"] = record.get("closed_on") or datetime.now(UTC).date().isoformat()


def _index(column: list[str], move: MoveBody) -> int | None:
    for name, anchor, shift in (("above_id", move.above_id, 0), ("below_id", move.below_id, 1)):
        if anchor is not None:
            if anchor not in column:
                raise Invalid({name: [f'Deal "{anchor}" is not in the target stage.']})
            return column.index(anchor) + shift
    return None


class Service:
    """What the handlers call: every method runs inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.records = Records(conn)
        self.boards = Boards(conn)

    def present(self, res: Resource, items: list[Record]) -> list[Record]:
        """Records as the API shows them: deals gain their board placement."""
        if not res.on_board or not items:
            return items
        places = self.boards.placements([item["id"] for item in items])
        return [{**item, **asdict(places[item["id"]])} for item in items]

    def show(self, res: Resource, org: str, ident: str) -> Record:
        return self.present(res, [self.records.get(res, org, ident)])[0]

    def page(self, res: Resource, org: str, window: Window, query: Query, where: Filter | None = None) -> Rows:
        rows = self.records.page(res, org, window, query, where)
        return Rows(rows.count, self.present(res, rows.items))

    def create(
        self, res: Resource, org: str, body: Mapping[str, object], *, ident: str | None = None, at: str | None = None
    ) -> Record:
        data = validate.fields(res, body, None, partial=False)
        extras = {name: data.pop(name) for name in res.create_only}
        stamp = at or now()
        record: Record = {"id": ident or str(uuid.uuid4()), **data, "created_at": stamp, "updated_at": stamp}
        errors = validate.rules(self.records, res, org, record, set(data))
        stage = self._landing(org, extras.get("pipeline_stage"), errors) if res.on_board else None
        if errors:
            raise Invalid(errors)
        if res.numbered:
            record[res.numbered] = f"INV-{self.records.next_number(org):04d}"
        if stage is not None:
            _settle(record, stage.stage_type)
        self.records.insert(res, org, record)
        if stage is not None:
            self.boards.place(org, record["id"], stage.id, at=stamp)
        return self.show(res, org, record["id"])

    def update(self, res: Resource, org: str, ident: str, body: Mapping[str, object], *, partial: bool) -> Record:
        current = self.records.get(res, org, ident)
        data = validate.fields(res, body, current, partial=partial)
        for name in res.create_only:
            data.pop(name)
        record = {**current, **data, "updated_at": now()}
        errors = validate.rules(self.records, res, org, record, set(body) & set(data))
        if errors:
            raise Invalid(errors)
        self.records.save(res, org, record)
        return self.show(res, org, ident)

    def delete(self, res: Resource, org: str, ident: str) -> None:
        self.records.get(res, org, ident)
        self.records.delete(res, org, ident)
        if res.on_board:
            self.boards.remove(ident)
        for source, name in referrers(res.name):
            for record in self.records.mentioning(source, org, ident):
                self._unlink(source, org, record, name, ident)

    def move(self, org: str, deal_id: str, body: Mapping[str, object]) -> Record:
        deal = self.records.get(DEALS, org, deal_id)
        move = validate.parse(MoveBody, body)
        stage = self.boards.stage(org, move.stage_id)
        column = [other for other in self.boards.column(stage.id) if other != deal_id]
        self.boards.place(org, deal_id, stage.id, _index(column, move))
        _settle(deal, stage.stage_type)
        self.records.save(DEALS, org, {**deal, "updated_at": now()})
        return self.show(DEALS, org, deal_id)

    def _landing(self, org: str, stage_id: Any, errors: validate.Errors) -> StageRow | None:
        if not stage_id:
            return self.boards.first_open(org)
        try:
            return self.boards.stage(org, str(stage_id))
        except NotFound:
            errors["pipeline_stage"] = [f'Invalid pk "{stage_id}" - object does not exist.']
            return None

    def _unlink(self, res: Resource, org: str, record: Record, name: str, ident: str) -> None:
        value = record.get(name)
        if value == ident:
            record[name] = None
        elif isinstance(value, list) and ident in value:
            record[name] = [item for item in value if item != ident]  # pyright: ignore[reportUnknownVariableType]
        else:
            return
        self.records.save(res, org, record)
