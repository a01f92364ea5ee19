"""What an update does besides the fields given, when a record changes state:

- a task marked Completed records the day and who completed it (a line this server appends to its description, as
  the CRM keeps no completion date), and loses that line when reopened;
- a case closed (Closed, Rejected or Duplicate) gets today as its close date, and one reopened loses it, unless
  the update gives `closed_on` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lava_crm_mcp.crm import CrmClient, ResourceSpec
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import completion, completion_line, without_completion
from lava_crm_mcp.crm.resources import CASES, TASKS
from lava_crm_mcp.tools.caller import caller

__all__ = ["before_update"]

CLOSED_CASE = frozenset({"closed", "rejected", "duplicate"})
DESCRIPTION = 10_000
Hook = Callable[[CrmClient, str, dict[str, Any]], Awaitable[list[str]]]


def _status(value: Any) -> str:
    return str(value or "").casefold()


async def _task(crm: CrmClient, task_id: str, changes: dict[str, Any]) -> list[str]:
    current = await crm.records(TASKS.path).get(task_id)
    done_now, done_before = (
        _status(changes["status"]) == "completed",
        _status(field_value(current, "status")) == "completed",
    )
    text = changes["description"] if "description" in changes else field_value(current, "description")
    base = without_completion(text).rstrip()
    if done_now and not done_before:
        line = completion_line(crm.today(), caller().label)
        if len(base) + len(line) + 2 > DESCRIPTION:
            return ["completed_on was not recorded: the description is at its length limit"]
        changes["description"] = f"{base}\n\n{line}" if base else line
    elif done_before and not done_now and completion(current) is not None:
        changes["description"] = base or None
    return []


async def _case(crm: CrmClient, case_id: str, changes: dict[str, Any]) -> list[str]:
    if "closed_on" in changes:
        return []
    current = await crm.records(CASES.path).get(case_id)
    closed_now, closed_before = (
        _status(changes["status"]) in CLOSED_CASE,
        _status(field_value(current, "status")) in CLOSED_CASE,
    )
    if closed_now and not closed_before:
        changes["closed_on"] = crm.today().isoformat()
    elif closed_before and not closed_now and field_value(current, "closed_on"):
        changes["closed_on"] = None
    return []


HOOKS: dict[str, Hook] = {TASKS.path: _task, CASES.path: _case}


async def before_update(
    crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str, changes: dict[str, Any]
) -> list[str]:
    """Add to `changes` what the state change it makes implies; notes on what could not be done."""
    hook = HOOKS.get(spec.path)
    if hook is None or changes.get("status") is None:
        return []
    return await hook(crm, record_id, changes)
