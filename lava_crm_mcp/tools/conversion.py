"""convert_lead: a lead made an account, a contact and (optionally) a deal, linked, then marked converted — each
found before it is created (by the stated rules: the company's name, the lead's email, without one the same name at
that account), so a repeated call makes nothing twice, and a failure says what is already done."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid, Stage
from lava_crm_mcp.crm.filters import field_value, is_phone, phone_key
from lava_crm_mcp.crm.inputs import MONEY_PATTERN
from lava_crm_mcp.crm.kinds import ANY_CASE_CURRENCY
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.placement import place
from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS
from lava_crm_mcp.tools._shared import WRITE, IdArg, Lookup, ToolArgs, ToolFailure, ToolSpec, next_call, repeat_check
from lava_crm_mcp.tools.audit import AuditItem
from lava_crm_mcp.tools.edits import duplicate_of, placed_deal, target_stage
from lava_crm_mcp.tools.matching import fold, norm_email
from lava_crm_mcp.tools.render import Link, Result, one_line

__all__ = ["CONVERT_LEAD", "convert_lead"]

Money = Annotated[str | None, StringConstraints(pattern=MONEY_PATTERN)]


class ConvertLeadArgs(ToolArgs):
    lead_id: IdArg
    account_name: Lookup | None = Field(None, description="Default: the lead's company.")
    deal_name: Lookup | None = Field(None, description="To also make a deal (default name: the lead's title).")
    amount: Money = Field(None, description="Default: the lead's amount.")
    currency: ANY_CASE_CURRENCY | None = None
    pipeline: Lookup | None = None
    stage: Lookup | None = Field(None, description="Deal stage id or name.")


def _fits(contact: Record, email: Any) -> bool:
    """Whether a namesake may be the lead's person: the lead has no email, or the contact has none."""
    return not email or not field_value(contact, "primary_email")


def _same_value(field: str, held: Any, value: Any) -> bool:
    if field == "primary_email":
        return norm_email(held) == norm_email(value)
    return phone_key(str(held)) == phone_key(str(value)) if is_phone(str(held)) else str(held) == str(value)


class Step(BaseModel):
    kind: str
    record: Link | None
    outcome: str


class LeadConverted(Result):
    lead: Link
    steps: list[Step]

    def audit_items(self) -> list[AuditItem]:
        """A line per record the conversion made, reused or marked (the outcome's fixed first words)."""
        return [
            AuditItem(step.kind, step.record.id, "done", re.split(r"[:,(]", step.outcome)[0].strip())
            for step in self.steps
            if step.record is not None
        ]

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
            self.done("account", existing, "reused: an account has this name", ACCOUNTS.display(existing))
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
        """The lead's person: the contact with the lead's email; without an email, the one of the same name at the
        account; else a new contact. Never a namesake with another email (that one is named, to merge if the same
        person)."""
        first, last, email = (field_value(lead, name) for name in ("first_name", "last_name", "email"))
        existing = await duplicate_of(self.crm, CONTACTS, email) if email else None
        namesake = await self._namesake(first, last, account) if first and last and existing is None else None
        reused = existing or (namesake if namesake is not None and _fits(namesake, email) else None)
        if reused is not None:
            return await self._reuse(lead, account, reused, email, by_email=existing is not None)
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
        outcome = "created"
        if namesake is not None and made is not None:
            merge = next_call("merge_contacts", {"keep_id": namesake.id, "merge_id": made.id})
            outcome += (
                f" (contact {namesake.id} has this name at this account but another email: if the same person, {merge})"
            )
        self.done("contact", made, outcome, f"{first} {last}")
        return made

    async def _namesake(self, first: Any, last: Any, account: Record) -> Record | None:
        found = await self.crm.search("contacts", text=f"{first} {last}", filters={"account_id": account.id})
        return next((c for c in found.items if fold(CONTACTS.display(c)) == fold(f"{first} {last}")), None)

    async def _reuse(self, lead: Record, account: Record, contact: Record, email: Any, *, by_email: bool) -> Record:
        """The contact kept, its empty email, phone and account filled from the lead; the lead's values it holds
        otherwise are listed as not copied."""
        why = (
            "it has the lead's email"
            if by_email
            else "same name at this account" + ("; the lead has no email" if not email else "; it had no email")
        )
        fill: dict[str, Any] = {} if field_value(contact, "account") else {"account": account.id}
        kept: list[str] = []
        for theirs, ours in (("email", "primary_email"), ("phone", "mobile_number")):
            value, held = field_value(lead, theirs), field_value(contact, ours)
            if value and not held:
                fill[ours] = value
            elif value and not _same_value(ours, held, value):
                kept.append(f"{theirs} {value!r} (the contact keeps {held!r})")
        if fill:
            contact = await self.crm.records("contacts").update(contact.id, fill)
        not_copied = f"; not copied from the lead: {', '.join(kept)}" if kept else ""
        self.done("contact", contact, f"reused: {why}{not_copied}", CONTACTS.display(contact))
        return contact

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


CONVERT_LEAD = ToolSpec(
    "convert_lead",
    "Convert lead",
    "Turn a lead into an account (reused if one has its company name), a contact (reused if one has its email; "
    "without one, the same name at that account) and optionally a deal at a stage; marks it converted. Safe to "
    "repeat: nothing is made twice.",
    ConvertLeadArgs,
    LeadConverted,
    convert_lead,
    WRITE,
    "leads",
    hints={"not_found": "Find lead ids with search_leads."},
    check=repeat_check("convert_lead", "it finds what was made before creating anything"),
)
