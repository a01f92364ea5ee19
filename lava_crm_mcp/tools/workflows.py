"""A rep's workflows as single tools: log an activity, convert a lead. Both are safe to call again after a lost
answer: each step first looks for what an earlier attempt made, and reuses it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, create_model

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import ACTIVITY_PREFIXES
from lava_crm_mcp.crm.resources import TASKS
from lava_crm_mcp.tools._shared import WRITE, IdArg, ToolArgs, ToolFailure, ToolSpec, repeat_check
from lava_crm_mcp.tools.render import Result
from lava_crm_mcp.tools.views import view

__all__ = ["LOG_ACTIVITY", "log_activity"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PARENTS = {
    "contact_id": "contacts",
    "deal_id": "opportunity",
    "account_id": "account",
    "lead_id": "lead",
    "case_id": "case",
}


class LogActivityArgs(ToolArgs):
    kind: Literal["call", "email", "meeting", "note"]
    subject: Text
    details: Annotated[str | None, StringConstraints(max_length=10_000)] = None
    occurred_on: dt.date | None = Field(None, description="Default: today.")
    contact_id: IdArg | None = None
    deal_id: IdArg | None = None
    account_id: IdArg | None = None
    lead_id: IdArg | None = None
    case_id: IdArg | None = None


class ActivityLogged(Result):
    """The task that records the activity; `logged` is false when the same one was already there."""

    activity: Any
    logged: bool

    def render(self) -> str:
        said = "Logged" if self.logged else "Already logged (nothing written)"
        return "\n".join(view(TASKS).lines(f"{said}: task {self.activity.id}", self.activity, []))


ActivityResult = create_model("ActivityLogged", __base__=ActivityLogged, activity=(view(TASKS).record, ...))


async def _account_of(crm: CrmClient, a: LogActivityArgs) -> str | None:
    """The account the activity also belongs to: given, else that of its deal, contact or case."""
    if a.account_id:
        return a.account_id
    for argument, path in (("deal_id", "opportunities"), ("contact_id", "contacts"), ("case_id", "cases")):
        if getattr(a, argument):
            account = field_value(await crm.records(path).get(getattr(a, argument)), "account")
            return str(account) if account else None
    return None


async def log_activity(crm: CrmClient, a: LogActivityArgs) -> ActivityLogged:
    """Record a call, email, meeting or note as a completed task on what it concerns (once, even if retried)."""
    given = {argument: getattr(a, argument) for argument in PARENTS if getattr(a, argument)}
    if not given:
        raise ToolFailure("Say what the activity concerns: pass contact_id, deal_id, account_id, lead_id or case_id.")
    title, day = f"{ACTIVITY_PREFIXES[a.kind]}{a.subject}", a.occurred_on or crm.today()
    account = await _account_of(crm, a)
    same = await crm.search("tasks", text=a.subject, filters={"kind": a.kind, **given, "due_from": day, "due_to": day})
    done = next((task for task in same.items if field_value(task, "title") == title), None)
    logged = done is None
    if done is None:
        body = {
            "title": title,
            "status": "Completed",
            "due_date": day.isoformat(),
            "description": a.details,
            "account": account,
            "contacts": [a.contact_id] if a.contact_id else None,
            "opportunity": a.deal_id,
            "lead": a.lead_id,
            "case": a.case_id,
        }
        made = await crm.records("tasks").create({key: value for key, value in body.items() if value is not None})
        if made.record is None:
            raise ToolFailure(
                f"The CRM logged the {a.kind} but returned no id; find it with search_tasks(kind={a.kind!r})."
            )
        done = made.record
    task_view = view(TASKS)
    shown, _ = task_view.record_of(done, await task_view.namer(crm, [done], full=True))
    return ActivityResult(activity=shown, logged=logged)


LOG_ACTIVITY = ToolSpec(
    "log_activity",
    "Log activity",
    "Log a call, email, meeting or note on what it concerns (kept as a completed task; get_* lists it under "
    "activities). Repeating the same call logs it once.",
    LogActivityArgs,
    ActivityResult,
    log_activity,
    WRITE,
    "tasks",
    hints={"not_found": "Find ids with search_contacts, search_deals, search_accounts, search_leads or search_cases."},
    check=repeat_check("log_activity", "it logs the activity once"),
)
