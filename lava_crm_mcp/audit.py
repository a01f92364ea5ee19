"""The audit trail: one JSON line per record a write touched, on the logger `lava_crm_mcp.audit`.

    {"time":"2026-08-03T09:14:07.482Z","actor":"ada@example.com via oauth client claude","actor_kind":"oauth",
     "tool":"delete_account","noun":"account","id":"a-17","outcome":"done","call":"3f9c1b2a7d4e"}

A line holds who (the caller, named as in timeline entries), which tool, the noun and record id, and the outcome
(`done`, `refused`, `unknown`, or `previewed` for the first call of a confirmed delete, which writes nothing), plus
`detail`, a short fixed phrase, for a few outcomes. `call` ties the lines of one call (a batch) together. Never a
field value, an argument or a secret. A call refused before it ran (an unknown tool, bad arguments, a mode or scope
refusal) wrote nothing and has no line.

Which records: a result that implements `tools/audit.py`'s `Audited` lists them itself (one line per item);
otherwise the tool's `<noun>_id` (or `<noun>_ids`) argument, else the id in its result. The noun is the tool name's
second word (`move_deal_to_stage` → deal), made singular.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Sequence
from logging.handlers import WatchedFileHandler
from typing import Any, cast

from lava_crm_mcp.crm.errors import CrmOutcomeUnknown
from lava_crm_mcp.tools.audit import Audited, AuditItem, AuditOutcome
from lava_crm_mcp.tools.caller import Caller

__all__ = ["AUDIT_LOGGER", "AuditSinkError", "configure_audit", "failed_items", "items_of", "write_lines"]

AUDIT_LOGGER = "lava_crm_mcp.audit"
audit_logger = logging.getLogger(AUDIT_LOGGER)
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what the adapter accepts as an id (crm/ids.py); anything else is "?"
# What a delete's (or merge's) own `outcome` means for the trail; other values (a move's won/lost) mean nothing here.
RESULT_OUTCOMES: dict[str, tuple[AuditOutcome, str | None]] = {
    "preview": ("previewed", None),
    "blocked": ("refused", "blocked"),
    "gone": ("done", "already gone"),
}


class AuditSinkError(Exception):
    """LAVA_MCP_AUDIT_LOG names a file that cannot be appended to; the message says what to change."""


def configure_audit(path: str | None) -> None:
    """Audit lines as bare JSON lines on a handler of their own (whatever LAVA_CRM_LOG_LEVEL says): appended to the
    file `path` (reopened when a log rotation moves it), else on stderr."""
    handler: logging.Handler
    if path:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640))
            handler = WatchedFileHandler(path, mode="a", encoding="utf-8")
        except OSError as exc:
            raise AuditSinkError(
                f"LAVA_MCP_AUDIT_LOG: cannot append to {path} ({exc.strerror}); give a file in an existing directory "
                "this user can write, or unset it to write audit lines to stderr."
            ) from None
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for old in list(audit_logger.handlers):
        audit_logger.removeHandler(old)
        old.close()
    audit_logger.addHandler(handler)
    audit_logger.setLevel(logging.INFO)
    audit_logger.propagate = False


def noun_of(tool: str) -> str:
    """`update_contact` → contact, `move_deals_to_stage` → deal, `log_activity` → activity."""
    word = tool.split("_")[1] if "_" in tool else tool
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _shown(value: object) -> str | None:
    """An id fit for the trail; "?" for anything that is not one (the model may put any text in an id argument)."""
    if value is None:
        return None
    text = str(value)
    return text if SAFE_ID.fullmatch(text) else "?"


def _argument_ids(noun: str, args: Any) -> list[str | None] | None:
    one = getattr(args, f"{noun}_id", None)
    if isinstance(one, str):
        return [_shown(one)]
    many: object = getattr(args, f"{noun}_ids", None)
    if isinstance(many, list | tuple):
        return [_shown(item) for item in cast("Sequence[object]", many)]
    return None


def _result_id(noun: str, result: Any) -> str | None:
    """The written record's id in a result: `id`, `<noun>_id`, `record.id` or `<noun>.id`."""
    for found in (
        getattr(result, "id", None),
        getattr(result, f"{noun}_id", None),
        getattr(getattr(result, "record", None), "id", None),
        getattr(getattr(result, noun, None), "id", None),
    ):
        if isinstance(found, str | int) and not isinstance(found, bool):
            return _shown(found)
    return None


def items_of(tool: str, args: Any, result: object) -> list[AuditItem]:
    """The audit items of a write that returned `result`."""
    if isinstance(result, Audited):
        return result.audit_items()
    noun = noun_of(tool)
    ids = _argument_ids(noun, args) or [_result_id(noun, result)]
    outcome, detail = RESULT_OUTCOMES.get(str(getattr(result, "outcome", "")), ("done", None))
    if outcome == "previewed" and getattr(args, "confirm", None):
        detail = "confirm not accepted; a fresh preview was shown"
    return [AuditItem(noun, record_id, outcome, detail) for record_id in ids]


def is_unknown(exc: BaseException) -> bool:
    """Whether a failed write may have been applied: a CrmOutcomeUnknown behind it (the CRM's answer was lost), or
    the dispatcher's own limit on the call (a TimeoutError, which it reports as an unknown outcome for a write)."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain of causes, not the whole history
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if isinstance(seen, CrmOutcomeUnknown | TimeoutError):
            return True
    return False


def failed_items(tool: str, args: Any, outcome: AuditOutcome) -> list[AuditItem]:
    """The audit items of a write that failed (`refused`) or whose outcome is not known (`unknown`)."""
    noun = noun_of(tool)
    return [AuditItem(noun, record_id, outcome) for record_id in _argument_ids(noun, args) or [None]]


def write_lines(caller: Caller, tool: str, items: list[AuditItem]) -> None:
    """One line per item, stamped now (UTC), tied together by a random call id."""
    if not audit_logger.isEnabledFor(logging.INFO):
        return
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    call = secrets.token_hex(6)
    for item in items:
        line: dict[str, object] = {
            "time": stamp,
            "actor": caller.label,
            "actor_kind": caller.kind,
            "tool": tool,
            "noun": item.noun,
            "id": item.record_id,
            "outcome": item.outcome,
            "call": call,
        }
        if item.detail:
            line["detail"] = item.detail
        audit_logger.info("%s", json.dumps(line, separators=(",", ":")))
