"""Generic storage of CRM records: one sqlite table with JSON data, a search text, a unique key and list queries."""

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .errors import NotFound
from .filters import SEPARATOR, Query
from .resources import RESOURCES, Resource

STAMPS = ("id", "created_at", "updated_at")
EVERYTHING = Query()
Record = dict[str, Any]
_INSIDE = "json_extract(data, ?) IN (SELECT value FROM json_each(?))"
_OUTSIDE = "json_extract(data, ?) NOT IN (SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class Filter:
    """Keep only records whose `field` is (or, negated, is not) one of `values`."""

    field: str
    values: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True)
class Window:
    """A slice of a list: at most `limit` records after skipping `offset`."""

    limit: int
    offset: int = 0


@dataclass(frozen=True)
class Rows:
    """One page of records and the total count of the query."""

    count: int
    items: list[Record]


def _record(row: tuple[str, str, str, str]) -> Record:
    ident, data, created_at, updated_at = row
    return {"id": ident, **json.loads(data), "created_at": created_at, "updated_at": updated_at}


def _data(record: Record) -> Record:
    return {key: value for key, value in record.items() if key not in STAMPS}


def _search_text(res: Resource, record: Record) -> str:
    return SEPARATOR.join(str(record.get(name) or "").casefold().replace(SEPARATOR, "") for name in res.search)


def _unique_key(res: Resource, record: Record) -> str | None:
    value = record.get(res.unique) if res.unique else None
    return value.casefold() if isinstance(value, str) and value else None


def _where(org: str, res: Resource, query: Query, where: Filter | None) -> tuple[str, list[object]]:
    tests = ["org = ?", "kind = ?", *(test for test, _ in query.tests)]
    args: list[object] = [org, res.name, *(value for _, value in query.tests)]
    if where is not None:
        tests.append(_OUTSIDE if where.negate else _INSIDE)
        args += [f"$.{where.field}", json.dumps(where.values)]
    return " AND ".join(tests), args


class Records:
    """Reads and writes records of any resource, always scoped to one org."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, res: Resource, org: str, ident: str) -> Record:
        row = self.conn.execute(
            "SELECT id, data, created_at, updated_at FROM records WHERE id = ? AND org = ? AND kind = ?",
            (ident, org, res.name),
        ).fetchone()
        if row is None:
            raise NotFound(res.noun)
        return _record(row)

    def exists(self, kind: str, org: str, ident: str) -> bool:
        sql = "SELECT 1 FROM records WHERE id = ? AND org = ? AND kind = ?"
        return self.conn.execute(sql, (ident, org, kind)).fetchone() is not None

    def taken(self, res: Resource, org: str, record: Record) -> bool:
        """Whether another record of the org already holds this record's unique value."""
        key = _unique_key(res, record)
        sql = "SELECT 1 FROM records WHERE org = ? AND kind = ? AND ukey = ? AND id != ?"
        return key is not None and self.conn.execute(sql, (org, res.name, key, record["id"])).fetchone() is not None

    def some(self, kind: str, org: str, ids: Collection[str]) -> dict[str, Record]:
        """The records of `kind` among `ids`, by id (ids of other orgs or kinds are left out)."""
        rows = self.conn.execute(
            "SELECT id, data, created_at, updated_at FROM records "
            "WHERE org = ? AND kind = ? AND id IN (SELECT value FROM json_each(?))",
            (org, kind, json.dumps(sorted(ids))),
        ).fetchall()
        return {row[0]: _record(row) for row in rows}

    def page(
        self, res: Resource, org: str, window: Window, query: Query = EVERYTHING, where: Filter | None = None
    ) -> Rows:
        """One slice of the query, counted in the same statement (a second one only for an empty later slice)."""
        sql, args = _where(org, res, query, where)
        rows = self.conn.execute(
            f"SELECT id, data, created_at, updated_at, count(*) OVER () FROM records WHERE {sql} "  # noqa: S608
            f"ORDER BY {query.order} LIMIT ? OFFSET ?",
            [*args, window.limit, window.offset],
        ).fetchall()
        if rows or window.offset == 0:
            return Rows(rows[0][4] if rows else 0, [_record(row[:4]) for row in rows])
        (count,) = self.conn.execute(f"SELECT count(*) FROM records WHERE {sql}", args).fetchone()  # noqa: S608
        return Rows(count, [])

    def insert(self, res: Resource, org: str, record: Record) -> Record:
        self.conn.execute(
            "INSERT INTO records (id, org, kind, created_at, updated_at, ukey, search, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["id"],
                org,
                res.name,
                record["created_at"],
                record["updated_at"],
                _unique_key(res, record),
                _search_text(res, record),
                json.dumps(_data(record)),
            ),
        )
        return record

    def save(self, res: Resource, org: str, record: Record) -> Record:
        self.conn.execute(
            "UPDATE records SET updated_at = ?, ukey = ?, search = ?, data = ? WHERE id = ? AND org = ?",
            (
                record["updated_at"],
                _unique_key(res, record),
                _search_text(res, record),
                json.dumps(_data(record)),
                record["id"],
                org,
            ),
        )
        return record

    def delete(self, res: Resource, org: str, ident: str) -> None:
        self.conn.execute("DELETE FROM records WHERE id = ? AND org = ? AND kind = ?", (ident, org, res.name))

    def mentioning(self, res: Resource, org: str, ident: str) -> list[Record]:
        """Records of `res` whose data mentions `ident` anywhere (candidates for reference cleanup)."""
        rows = self.conn.execute(
            "SELECT id, data, created_at, updated_at FROM records WHERE org = ? AND kind = ? AND instr(data, ?) > 0",
            (org, res.name, ident),
        ).fetchall()
        return [_record(row) for row in rows]

    def null_blank_refs(self) -> None:
        """Older sandboxes stored a blank reference as ""; the API reads "" as null, so make it null."""
        sql = "UPDATE records SET data = json_set(data, ?, json('null')) WHERE kind = ? AND json_extract(data, ?) = ''"
        for res in RESOURCES:
            for name in res.refs:
                self.conn.execute(sql, (f"$.{name}", res.name, f"$.{name}"))

    def next_number(self, org: str) -> int:
        (number,) = self.conn.execute(
            "UPDATE orgs SET invoice_seq = invoice_seq + 1 WHERE key = ? RETURNING invoice_seq", (org,)
        ).fetchone()
        return int(number)
