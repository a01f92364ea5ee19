"""The sqlite3 connection, its schema, and one-transaction-per-request helpers."""

import os
import sqlite3
from collections.abc import Generator
from contextlib import contextmanager
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs (
    key TEXT PRIMARY KEY,
    seeded INTEGER NOT NULL DEFAULT 0,
    invoice_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ukey TEXT,
    search TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_list ON records (org, kind, created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS records_unique ON records (org, kind, ukey) WHERE ukey IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_account
    ON records (org, kind, json_extract(data, '$.account'), created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS records_status
    ON records (org, kind, json_extract(data, '$.status'), created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS records_opportunity
    ON records (org, kind, json_extract(data, '$.opportunity'), created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS records_due_date ON records (org, kind, json_extract(data, '$.due_date'));
CREATE TABLE IF NOT EXISTS pipelines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    is_default INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pipelines_org ON pipelines (org, is_default DESC, seq);
CREATE TABLE IF NOT EXISTS stages (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    pipeline_id TEXT NOT NULL,
    name TEXT NOT NULL,
    stage_type TEXT NOT NULL,
    ord INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS stages_pipeline ON stages (pipeline_id, ord);
CREATE TABLE IF NOT EXISTS placements (
    deal_id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    entered_at TEXT
);
CREATE INDEX IF NOT EXISTS placements_stage ON placements (stage_id, position);
"""


def _casefold(text: object) -> str | None:
    return text.casefold() if isinstance(text, str) else None


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open the database in autocommit mode (transactions are explicit), create the schema, add `casefold()`."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.create_function("casefold", 1, _casefold, deterministic=True)
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
    conn.executescript(SCHEMA)
    _migrate(conn)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file made by an older sandbox up to the schema (placements gained `entered_at`)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(placements)")}
    if "entered_at" not in columns:
        conn.execute("ALTER TABLE placements ADD COLUMN entered_at TEXT")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Generator[None]:
    """Run the block as one transaction: committed if it returns, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def now() -> str:
    """The current time as an ISO-8601 UTC timestamp with microseconds."""
    return stamp(datetime.now(UTC))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
