"""Deterministic demo data: one small company's CRM, with ids derived from (org, natural key)."""

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import count

from . import demo_data as data
from .db import stamp
from .resources import BY_NAME
from .service import Service

EPOCH = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=7, minutes=13)
_PARENTS = {"deal": "opportunity", "lead": "lead", "case": "case"}
TaskRow = tuple[str, str, str, int, int | None, tuple[int, ...], tuple[str, int]]


def record_id(org: str, kind: str, key: str) -> str:
    """The id the demo gives the record of `kind` with natural `key` (a title, a name, an email) in `org`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lava-crm-sandbox/{org}/{kind}/{key}"))


class Seeder:
    """Creates records through the normal service, with stable ids and spread-out creation times."""

    def __init__(self, service: Service, org: str) -> None:
        self.service, self.org = service, org
        self._clock: Iterator[int] = count()

    def ident(self, kind: str, key: str) -> str:
        return record_id(self.org, kind, key)

    def add(self, kind: str, key: str, body: Mapping[str, object]) -> str:
        ident, at = self.ident(kind, key), stamp(EPOCH + STEP * next(self._clock))
        return self.service.create(BY_NAME[kind], self.org, body, ident=ident, at=at)["id"]


def _accounts(seeder: Seeder) -> list[str]:
    return [
        seeder.add(
            "accounts",
            name,
            {
                "name": name,
                "industry": industry,
                "billing_city": city,
                "billing_country": country,
                "website": f"https://{domain}",
                "email": f"hello@{domain}",
                "status": status,
            },
        )
        for name, industry, city, country, domain, status in data.ACCOUNTS
    ]


def _contacts(seeder: Seeder, accounts: list[str]) -> list[str]:
    ids: list[str] = []
    for first, last, title, account, mobile in data.CONTACTS:
        domain = data.ACCOUNTS[account][4] if account is not None else "example.org"
        email = f"{first}.{last}@{domain}".lower().replace(" ", "")
        body = {
            "first_name": first,
            "last_name": last,
            "title": title,
            "primary_email": email,
            "mobile_number": mobile,
            "account": accounts[account] if account is not None else None,
            "organization": data.ACCOUNTS[account][0] if account is not None else None,
            "country": data.ACCOUNTS[account][3] if account is not None else "US",
        }
        ids.append(seeder.add("contacts", email, body))
    return ids


def _leads(seeder: Seeder) -> list[str]:
    ids: list[str] = []
    for title, first, last, company, status, source, amount, probability in data.LEADS:
        email = f"{first}.{last}@{company.split()[0]}.example".lower()
        ids.append(
            seeder.add(
                "leads",
                title,
                {
                    "title": title,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "account_name": company,
                    "status": status,
                    "source": source,
                    "opportunity_amount": amount,
                    "probability": probability,
                },
            )
        )
    return ids


def _stages(seeder: Seeder) -> dict[tuple[str, str], str]:
    boards, org = seeder.service.boards, seeder.org
    partners = boards.create_pipeline(org, "Partnerships", ident=seeder.ident("pipelines", "Partnerships"))
    boards.add_stage(org, partners, "Contacted", ident=seeder.ident("stages", "Partnerships/Contacted"))
    return {
        ("default" if pipeline["is_default"] else pipeline["name"], stage["name"]): stage["id"]
        for pipeline in boards.pipelines(org)
        for stage in pipeline["stages"]
    }


def _deals(seeder: Seeder, accounts: list[str], contacts: list[str]) -> list[str]:
    stages, ids = _stages(seeder), list[str]()
    for name, account, amount, currency, place, people, probability, closed_on in data.DEALS:
        title = f"{data.ACCOUNTS[account][0]} – {name}"
        legacy = place[1].upper() if place[1].upper() in {"PROSPECTING", "QUALIFICATION", "PROPOSAL"} else None
        body = {
            "name": title,
            "account": accounts[account],
            "amount": amount,
            "currency": currency,
            "pipeline_stage": stages[place],
            "contacts": [contacts[i] for i in people],
            "probability": probability,
            "closed_on": closed_on,
            "lead_source": "Website",
            "stage": legacy or ("NEGOTIATION" if place[1] == "Negotiation" else "PROSPECTING"),
        }
        ids.append(seeder.add("opportunities", title, body))
    return ids


def _day(today: date, offset: int | None) -> str | None:
    return None if offset is None else (today + timedelta(days=offset)).isoformat()


def _tasks(seeder: Seeder, rows: Sequence[TaskRow], refs: dict[str, list[str]], today: date) -> None:
    for title, status, priority, due, account, people, (parent, index) in rows:
        body = {
            "title": title,
            "status": status,
            "priority": priority,
            "due_date": _day(today, due),
            "account": None if account is None else refs["accounts"][account],
            "contacts": [refs["contacts"][i] for i in people],
            _PARENTS[parent]: refs[parent][index],
        }
        seeder.add("tasks", title, body)


def _cases(seeder: Seeder, refs: dict[str, list[str]]) -> list[str]:
    return [
        seeder.add(
            "cases",
            name,
            {
                "name": name,
                "status": status,
                "priority": priority,
                "case_type": kind,
                "account": refs["accounts"][account],
                "contacts": [refs["contacts"][i] for i in people],
                "closed_on": closed_on,
            },
        )
        for name, status, priority, kind, account, people, closed_on in data.CASES
    ]


def _invoices(seeder: Seeder, refs: dict[str, list[str]], today: date) -> None:
    for title, status, account, contact, currency, amount, issued, due in data.INVOICES:
        seeder.add(
            "invoices",
            title,
            {
                "invoice_title": title,
                "status": status,
                "account": refs["accounts"][account],
                "contact": refs["contacts"][contact],
                "currency": currency,
                "amount": amount,
                "issue_date": _day(today, issued),
                "due_date": _day(today, due),
            },
        )


def seed(service: Service, org: str, *, today: date | None = None) -> None:
    """Fill the org with the demo company (once per org, inside the provisioning transaction).

    Task and invoice dates are offsets from `today` (default: the current UTC date); see demo_data.
    """
    today = today or datetime.now(UTC).date()
    seeder = Seeder(service, org)
    refs: dict[str, list[str]] = {"accounts": _accounts(seeder)}
    refs["contacts"] = _contacts(seeder, refs["accounts"])
    refs["lead"] = _leads(seeder)
    refs["deal"] = _deals(seeder, refs["accounts"], refs["contacts"])
    _tasks(seeder, data.TASKS, refs, today)
    refs["case"] = _cases(seeder, refs)
    _invoices(seeder, refs, today)
    _tasks(seeder, data.FOLLOW_UPS, refs, today)
