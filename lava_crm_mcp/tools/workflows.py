"""A rep's workflows as single tools: log an activity, convert a lead. Both are safe to call again after a lost
answer: each step first looks for what an earlier attempt made, and reuses it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid, Stage
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import ACTIVITY_PREFIXES
from lava_crm_mcp.crm.inputs import MONEY_PATTERN
from lava_crm_mcp.crm.kinds import ANY_CASE_CURRENCY
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.placement import place
from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS, TASKS
from lava_crm_mcp.tools._shared import WRITE, IdArg, Lookup, ToolArgs, ToolFailure, ToolSpec, repeat_check
from lava_crm_mcp.tools.edits import duplicate_of, placed_deal, target_stage
from lava_crm_mcp.tools.render import Link, Result, one_line
from lava_crm_mcp.tools.views import view

__all__ = ["CONVERT_LEAD", "LOG_ACTIVITY", "convert_lead", "log_activity"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Money = Annotated[str | None, StringConstraints(pattern=MONEY_PATTERN)]
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


class ConvertLeadArgs(ToolArgs):
    lead_id: IdArg
    account_name: Lookup | None = Field(None, description="Default: the lead's company.")
    deal_name: Lookup | None = Field(None, description="To also make a deal (default name: the lead's title).")
    amount: Money = Field(None, description="Default: the lead's amount.")
    currency: ANY_CASE_CURRENCY | None = None
    pipeline: Lookup | None = None
    stage: Lookup | None = Field(None, description="Deal stage id or name.")


class Step(BaseModel):
    kind: str
    record: Link | None
    outcome: str


class LeadConverted(Result):
    lead: Link
    steps: list[Step]

    def render(self) -> str:
        lines = [f"Converted lead {self.lead.id} ({one_line(self.lead.name or '')}):"]
        for step in self.steps:
            what = f"{one_line(step.record.name or '')} ({step.record.id})" if step.record else "-"
            lines.append(f"  {step.kind} {what}: {step.outcome}")
        return "\n".join(lines)


class _Conversion:
    """The steps of one convert_lead call, each finding before creating; a failure says what is already done."""

    def __init__(self, crm: CrmClient, a: ConvertLeadArgs) -> None:
        self.crm, self.a, self.steps = crm, a, list[Step]()

    def done(self, kind: str, record: Record | None, outcome: str, name: str | None = None) -> None:
        link = Link(id=record.id, name=name) if record is not None else None
        self.steps.append(Step(kind=kind, record=link, outcome=outcome))

    def failed(self, where: str, exc: CrmError) -> ToolFailure:
        so_far = (
            "; ".join(f"{s.kind} {s.record.id if s.record else '-'} ({s.outcome})" for s in self.steps) or "nothing"
        )
        return ToolFailure(
            f"Converting the lead stopped at the {where}: {exc.message} Done so far: {so_far}. Call convert_lead "
            "again with the same arguments: it reuses what exists and creates nothing twice."
        )

    async def account(self, company: str) -> Record:
        existing = await duplicate_of(self.crm, ACCOUNTS, company)
        if existing is not None:
            self.done("account", existing, "reused", ACCOUNTS.display(existing))
            return existing
        try:
            made = (await self.crm.records("accounts").create({"name": company})).record
        except CrmInvalid:  # made meanwhile by someone else: the CRM keeps names unique
            made = await duplicate_of(self.crm, ACCOUNTS, company)
        if made is None:
            raise ToolFailure(f"The CRM accepted account {company!r} but it cannot be found; search_accounts.")
        self.done("account", made, "created", company)
        return made

    async def contact(self, lead: Record, account: Record) -> Record | None:
        first, last, email = (field_value(lead, name) for name in ("first_name", "last_name", "email"))
        existing = await duplicate_of(self.crm, CONTACTS, email) if email else None
        if existing is None and first and last:
            found = await self.crm.search("contacts", text=f"{first} {last}", filters={"account_id": account.id})
            existing = next((c for c in found.items if CONTACTS.display(c) == f"{first} {last}"), None)
        if existing is not None:
            if not field_value(existing, "account"):
                await self.crm.records("contacts").update(existing.id, {"account": account.id})
            self.done("contact", existing, "reused", CONTACTS.display(existing))
            return existing
        if not (first and last):
            self.done("contact", None, "skipped: the lead has no first and last name")
            return None
        body = {
            "first_name": first,
            "last_name": last,
            "primary_email": email,
            "mobile_number": field_value(lead, "phone"),
            "account": account.id,
            "organization": ACCOUNTS.display(account),
        }
        made = (await self.crm.records("contacts").create({k: v for k, v in body.items() if v})).record
        self.done("contact", made, "created", f"{first} {last}")
        return made

    async def deal(self, lead: Record, account: Record, contact: Record | None, target: Stage | None) -> None:
        name = self.a.deal_name or str(field_value(lead, "title"))
        found = await self.crm.search("opportunities", text=name, filters={"account_id": account.id})
        deal = next((d for d in found.items if field_value(d, "name") == name), None)
        outcome = "reused"
        if deal is None:
            body: dict[str, Any] = {
                "name": name,
                "account": account.id,
                "amount": self.a.amount or field_value(lead, "opportunity_amount"),
                "currency": self.a.currency,
                "contacts": [contact.id] if contact else None,
            }
            deal = (await self.crm.records("opportunities").create({k: v for k, v in body.items() if v})).record
            outcome = "created"
        if deal is None:
            raise ToolFailure(f"The CRM accepted deal {name!r} but returned no id; find it with search_deals.")
        if outcome == "created" or await self._unplaced(deal):  # a reused deal a rep has moved stays put
            deal = await placed_deal(self.crm, deal, target)
        stage = place(deal, await self.crm.pipelines.catalog()).stage
        self.done("deal", deal, outcome + (f", in stage {stage.name}" if stage else ""), name)

    async def _unplaced(self, deal: Record) -> bool:
        """Whether a deal still sits where a new one lands (an earlier attempt created it but did not move it)."""
        pipelines = await self.crm.pipelines.catalog()
        default = next((p for p in pipelines if p.is_default), None)
        landing = next((s.id for s in default.stages if s.stage_type == "open"), None) if default else None
        return field_value(deal, "pipeline_stage") in (landing, None)


async def convert_lead(crm: CrmClient, a: ConvertLeadArgs) -> LeadConverted:
    """Make the lead an account, a contact and (optionally) a deal, linked, and mark it converted."""
    lead = await crm.records("leads").get(a.lead_id)
    company = a.account_name or field_value(lead, "account_name")
    if not company:
        raise ToolFailure(f"Lead {a.lead_id} has no company (account_name): pass account_name to say which account.")
    target = await target_stage(crm, a.stage, a.pipeline)
    run, where = _Conversion(crm, a), "account"
    try:
        account = await run.account(str(company))
        where = "contact"
        contact = await run.contact(lead, account)
        if a.deal_name or a.stage or a.pipeline:
            where = "deal"
            await run.deal(lead, account, contact, target)
        where = "lead"
        converted = field_value(lead, "status") == "converted"
        if not converted:
            await crm.records("leads").update(lead.id, {"status": "converted"})
        run.done(
            "lead", lead, "already converted" if converted else "marked converted", str(field_value(lead, "title"))
        )
    except CrmError as exc:
        raise run.failed(where, exc) from exc
    return LeadConverted(lead=Link(id=lead.id, name=str(field_value(lead, "title"))), steps=run.steps)


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
CONVERT_LEAD = ToolSpec(
    "convert_lead",
    "Convert lead",
    "Turn a lead into an account (reused if one has its company name), a contact (reused if one has its email) "
    "and optionally a deal at a stage; marks it converted. Safe to repeat: nothing is made twice.",
    ConvertLeadArgs,
    LeadConverted,
    convert_lead,
    WRITE,
    "leads",
    hints={"not_found": "Find lead ids with search_leads."},
    check=repeat_check("convert_lead", "it finds what was made before creating anything"),
)
