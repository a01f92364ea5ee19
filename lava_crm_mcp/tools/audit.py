"""What a write tool's result may say for the audit trail: one `AuditItem` per record it wrote (or tried to).

The server writes one audit line per write (`lava_crm_mcp/audit.py`). For most tools it finds the record by itself:
the tool's `<noun>_id` argument, or the id in its result. A result that touches many records (a batch move, a sync, a
merge) implements `Audited`, and then gets one line per item, each with its own outcome:

    class BatchMoved(Result):
        moved: list[Row]

        def audit_items(self) -> list[AuditItem]:
            return [AuditItem("deal", row.id, "done" if row.ok else "refused") for row in self.moved]

An item holds no field value: a noun, a record id and an outcome, plus at most a short fixed phrase from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = ["AuditItem", "AuditOutcome", "Audited"]

AuditOutcome = Literal["done", "refused", "unknown", "previewed"]
"""done: written; refused: not written (the CRM or a check said no); unknown: may have been written (no answer);
previewed: the first call of a confirmed write, which writes nothing."""


@dataclass(frozen=True)
class AuditItem:
    """One record a write touched: its noun ("deal"), its id (None when the CRM gave none) and the outcome."""

    noun: str
    record_id: str | None
    outcome: AuditOutcome
    detail: str | None = None
    """A short fixed phrase written in the code (e.g. "already gone"), never record data."""


@runtime_checkable
class Audited(Protocol):
    """A result that lists its own audit items (one line each)."""

    def audit_items(self) -> list[AuditItem]: ...
