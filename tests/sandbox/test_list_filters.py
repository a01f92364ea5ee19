"""Server-side list filters and ordering of every resource, in both dialects, over one small seeded org."""

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

pytestmark = pytest.mark.anyio
Ids = dict[str, str]
TITLE = {
    "contacts": "last_name",
    "accounts": "name",
    "leads": "title",
    "opportunities": "name",
    "tasks": "title",
    "cases": "name",
    "invoices": "invoice_title",
}
ITEMS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "contacts": lambda body: body["results"],
    "accounts": lambda body: body["active_accounts"]["open_accounts"] + body["closed_accounts"]["close_accounts"],
    "leads": lambda body: body["open_leads"]["open_leads"] + body["close_leads"]["close_leads"],
    "opportunities": lambda body: body["opportunities"],
    "tasks": lambda body: body["tasks"],
    "cases": lambda body: body["cases"],
    "invoices": lambda body: body["results"],
}
"""Where a django-crm list keeps its records (both partitions of a split list)."""


async def _add(api: httpx.AsyncClient, ids: Ids, resource: str, key: str, body: dict[str, Any]) -> None:
    resolved = {name: ids.get(value, value) if isinstance(value, str) else value for name, value in body.items()}
    resolved = {
        name: [ids[v] for v in cast(list[str], value)] if isinstance(value, list) else value
        for name, value in resolved.items()
    }
    response = await api.post(f"/api/{resource}/", json=resolved)
    assert response.status_code in {200, 201}, response.text
    ids[key] = response.json()["id"]


async def _seed(app: Starlette) -> Ids:
    """The org every test here reads; `@Name` values in bodies and cases stand for the id of record `Name`."""
    ids: Ids = {}
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as api:
        for name, industry, status in (
            ("Acme", "SOFTWARE", "open"),
            ("Globex", "FINANCE", "close"),
            ("Initech", None, "open"),
        ):
            await _add(api, ids, "accounts", f"@{name}", {"name": name, "industry": industry, "status": status})
        for first, last, email, account in (
            ("Ada", "Lovelace", "ada@acme.example", "@Acme"),
            ("Grace", "Hopper", "grace@globex.example", "@Globex"),
            ("Alan", "Turing", "alan@bletchley.example", None),
        ):
            body = {"first_name": first, "last_name": last, "primary_email": email, "account": account}
            await _add(api, ids, "contacts", f"@{first}", body)
        for title, status, source in (
            ("Warehouse migration", "in process", "email"),
            ("Fleet pilot", "assigned", "partner"),
            ("Old quote", "closed", "email"),
        ):
            await _add(api, ids, "leads", f"@{title}", {"title": title, "status": status, "source": source})
        await _pipelines(api, ids)
        await _deals(api, ids)
        await _work(api, ids)
    return ids


async def _pipelines(api: httpx.AsyncClient, ids: Ids) -> None:
    partners = (await api.post("/api/deal-pipelines/", json={"name": "Partners"})).json()
    default = (await api.get("/api/deal-pipelines/board/")).json()
    ids |= {"@Partners": partners["id"], "@Sales": default["pipeline"]["id"]}
    ids |= {f"@Partners/{stage['name']}": stage["id"] for stage in partners["stages"]}
    ids |= {f"@Sales/{stage['name']}": stage["id"] for stage in default["stages"]}


async def _deals(api: httpx.AsyncClient, ids: Ids) -> None:
    for name, account, amount, currency, people, stage, closed_on in (
        ("Acme platform", "@Acme", "48000.00", "GBP", ["@Ada"], "@Sales/Prospecting", None),
        ("Acme renewal", "@Acme", "12000.00", "USD", ["@Ada", "@Grace"], "@Sales/Won", "2025-05-02"),
        ("Globex audit", "@Globex", None, "USD", ["@Grace"], "@Sales/Lost", "2025-04-25"),
        ("Partner referral", None, "5000.00", "EUR", [], "@Partners/Prospecting", None),
        ("Small add-on", "@Initech", "900.50", "USD", [], "@Sales/Proposal", None),
    ):
        body = {
            "name": name,
            "account": account,
            "amount": amount,
            "currency": currency,
            "contacts": people,
            "pipeline_stage": stage,
            "closed_on": closed_on,
        }
        await _add(api, ids, "opportunities", f"@{name}", body)


async def _work(api: httpx.AsyncClient, ids: Ids) -> None:
    for name, status, priority, account in (
        ("Export times out", "Assigned", "High", "@Acme"),
        ("SSO question", "Closed", "Normal", "@Globex"),
        ("Sensor outage", "Pending", "Urgent", None),
    ):
        await _add(
            api, ids, "cases", f"@{name}", {"name": name, "status": status, "priority": priority, "account": account}
        )
    for title, status, priority, parents, people, due in (
        ("Call Ada", "New", "High", {"account": "@Acme", "opportunity": "@Acme platform"}, ["@Ada"], "2026-03-01"),
        (
            "Email Grace",
            "In Progress",
            "Medium",
            {"account": "@Globex", "opportunity": "@Globex audit"},
            ["@Grace"],
            "2026-03-05",
        ),
        ("File report", "Completed", "Low", {}, [], None),
        ("Call Barbara", "New", "Medium", {"lead": "@Warehouse migration"}, [], "2026-02-20"),
        (
            "Reproduce timeout",
            "In Progress",
            "High",
            {"account": "@Acme", "case": "@Export times out"},
            ["@Ada", "@Grace"],
            "2026-03-10",
        ),
    ):
        body = {"title": title, "status": status, "priority": priority, **parents, "contacts": people, "due_date": due}
        await _add(api, ids, "tasks", f"@{title}", body)
    for title, status, account, contact, due in (
        ("Starter plan", "Paid", "@Acme", "@Ada", "2026-01-31"),
        ("Consulting", "Sent", "@Globex", "@Grace", "2026-03-31"),
        ("Draft invoice", "Draft", None, None, None),
    ):
        body = {"invoice_title": title, "status": status, "account": account, "contact": contact, "due_date": due}
        await _add(api, ids, "invoices", f"@{title}", body)


@dataclass(frozen=True)
class World:
    """One seeded org served by a drf and a django-crm sandbox over the same file, and its records' ids."""

    apps: dict[str, Starlette]
    ids: Ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = tmp_path_factory.mktemp("filters") / "crm.sqlite3"
    drf = create_app(db)
    ids = anyio.run(_seed, drf)
    crm = create_app(db, dialect="django-crm")
    yield World({"drf": drf, "django-crm": crm}, ids)
    drf.state.sandbox.close()
    crm.state.sandbox.close()


@pytest.fixture
async def client(world: World, dialect: str, connect: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(world.apps[dialect]) as client:
        yield client


async def listed(client: httpx.AsyncClient, world: World, resource: str, params: dict[str, str]) -> httpx.Response:
    return await client.get(f"/api/{resource}/", params={k: world.ids.get(v, v) for k, v in params.items()})


def titles(resource: str, body: dict[str, Any]) -> list[str]:
    """The records' titles in list order, from either dialect's body."""
    items = body["results"] if "results" in body else ITEMS[resource](body)
    return [item[TITLE[resource]] for item in items]


FILTERS: list[tuple[str, dict[str, str], list[str]]] = [
    ("contacts", {"account": "@Acme"}, ["Lovelace"]),
    ("contacts", {"account": "@Initech"}, []),
    ("contacts", {"email": "GLOBEX"}, ["Hopper"]),
    ("contacts", {"email": ".example"}, ["Hopper", "Lovelace", "Turing"]),
    ("contacts", {"email": "nobody"}, []),
    ("contacts", {"email": "example", "account": "@Globex"}, ["Hopper"]),
    ("contacts", {"email": "example", "search": "turing"}, ["Turing"]),
    ("accounts", {"industry": "software"}, ["Acme"]),
    ("accounts", {"industry": "RETAIL"}, []),
    ("accounts", {"status": "close"}, ["Globex"]),
    ("accounts", {"status": "open"}, ["Acme", "Initech"]),
    ("accounts", {"status": "open", "industry": "finance"}, []),
    ("accounts", {"status": "open", "search": "init"}, ["Initech"]),
    ("leads", {"status": "in process"}, ["Warehouse migration"]),
    ("leads", {"status": "converted"}, []),
    ("leads", {"source": "email"}, ["Old quote", "Warehouse migration"]),
    ("leads", {"source": "call"}, []),
    ("leads", {"source": "email", "status": "closed"}, ["Old quote"]),
    ("leads", {"source": "email", "search": "warehouse"}, ["Warehouse migration"]),
    ("opportunities", {"account": "@Acme"}, ["Acme platform", "Acme renewal"]),
    ("opportunities", {"account": "unknown"}, []),
    ("opportunities", {"contacts": "@Grace"}, ["Acme renewal", "Globex audit"]),
    ("opportunities", {"contacts": "@Alan"}, []),
    ("opportunities", {"pipeline": "@Partners"}, ["Partner referral"]),
    ("opportunities", {"pipeline": "@Sales"}, ["Acme platform", "Acme renewal", "Globex audit", "Small add-on"]),
    ("opportunities", {"pipeline_stage": "@Partners/Prospecting"}, ["Partner referral"]),
    ("opportunities", {"pipeline_stage": "@Sales/Negotiation"}, []),
    ("opportunities", {"open": "true"}, ["Acme platform", "Partner referral", "Small add-on"]),
    ("opportunities", {"open": "False"}, ["Acme renewal", "Globex audit"]),
    ("opportunities", {"stage_type": "won"}, ["Acme renewal"]),
    ("opportunities", {"stage_type": "lost"}, ["Globex audit"]),
    ("opportunities", {"stage_type": "open", "pipeline": "@Partners"}, ["Partner referral"]),
    ("opportunities", {"amount__gte": "12000"}, ["Acme platform", "Acme renewal"]),
    ("opportunities", {"amount__lte": "5000"}, ["Partner referral", "Small add-on"]),
    ("opportunities", {"amount__gte": "900.5", "amount__lte": "900.50"}, ["Small add-on"]),
    ("opportunities", {"amount__gte": "0"}, ["Acme platform", "Acme renewal", "Partner referral", "Small add-on"]),
    ("opportunities", {"amount__gte": "100000"}, []),
    ("opportunities", {"currency": "usd"}, ["Acme renewal", "Globex audit", "Small add-on"]),
    ("opportunities", {"currency": "JPY"}, []),
    ("opportunities", {"closed_on__gte": "2025-05-01"}, ["Acme renewal"]),
    ("opportunities", {"closed_on__lte": "2025-05-01"}, ["Globex audit"]),
    ("opportunities", {"closed_on__gte": "2000-01-01"}, ["Acme renewal", "Globex audit"]),
    ("opportunities", {"account": "@Acme", "open": "true"}, ["Acme platform"]),
    ("opportunities", {"search": "acme", "stage_type": "won"}, ["Acme renewal"]),
    ("tasks", {"status": "New"}, ["Call Ada", "Call Barbara"]),
    ("tasks", {"status": "Done"}, []),
    ("tasks", {"status__in": "New, Completed"}, ["Call Ada", "Call Barbara", "File report"]),
    ("tasks", {"status__in": "In Progress"}, ["Email Grace", "Reproduce timeout"]),
    ("tasks", {"status__in": "Blocked,Done"}, []),
    ("tasks", {"priority": "High"}, ["Call Ada", "Reproduce timeout"]),
    ("tasks", {"priority": "Urgent"}, []),
    ("tasks", {"account": "@Acme"}, ["Call Ada", "Reproduce timeout"]),
    ("tasks", {"account": "@Initech"}, []),
    ("tasks", {"opportunity": "@Acme platform"}, ["Call Ada"]),
    ("tasks", {"opportunity": "@Small add-on"}, []),
    ("tasks", {"contacts": "@Grace"}, ["Email Grace", "Reproduce timeout"]),
    ("tasks", {"contacts": "@Alan"}, []),
    ("tasks", {"lead": "@Warehouse migration"}, ["Call Barbara"]),
    ("tasks", {"lead": "@Fleet pilot"}, []),
    ("tasks", {"case": "@Export times out"}, ["Reproduce timeout"]),
    ("tasks", {"case": "@SSO question"}, []),
    ("tasks", {"due_date__gte": "2026-03-05"}, ["Email Grace", "Reproduce timeout"]),
    ("tasks", {"due_date__lte": "2026-03-01"}, ["Call Ada", "Call Barbara"]),
    ("tasks", {"due_date__lte": "2026-01-01"}, []),
    ("tasks", {"due_date__gte": "2000-01-01"}, ["Call Ada", "Call Barbara", "Email Grace", "Reproduce timeout"]),
    (
        "tasks",
        {"status__in": "New,In Progress", "due_date__lte": "2026-03-05"},
        ["Call Ada", "Call Barbara", "Email Grace"],
    ),
    ("tasks", {"search": "call", "priority": "High"}, ["Call Ada"]),
    ("cases", {"status": "Pending"}, ["Sensor outage"]),
    ("cases", {"status": "New"}, []),
    ("cases", {"status__in": "Assigned,Closed"}, ["Export times out", "SSO question"]),
    ("cases", {"status__in": "Rejected"}, []),
    ("cases", {"priority": "Urgent"}, ["Sensor outage"]),
    ("cases", {"priority": "Low"}, []),
    ("cases", {"account": "@Acme"}, ["Export times out"]),
    ("cases", {"account": "@Initech"}, []),
    ("cases", {"status__in": "Assigned,Closed", "account": "@Globex"}, ["SSO question"]),
    ("cases", {"search": "outage", "priority": "Urgent"}, ["Sensor outage"]),
    ("invoices", {"status": "Paid"}, ["Starter plan"]),
    ("invoices", {"status": "Cancelled"}, []),
    ("invoices", {"status__in": "Paid,Sent"}, ["Consulting", "Starter plan"]),
    ("invoices", {"status__in": "Pending"}, []),
    ("invoices", {"account": "@Globex"}, ["Consulting"]),
    ("invoices", {"account": "@Initech"}, []),
    ("invoices", {"contact": "@Ada"}, ["Starter plan"]),
    ("invoices", {"contact": "@Alan"}, []),
    ("invoices", {"due_date_gte": "2026-02-01"}, ["Consulting"]),
    ("invoices", {"due_date_lte": "2026-02-01"}, ["Starter plan"]),
    ("invoices", {"due_date_gte": "2027-01-01"}, []),
    ("invoices", {"status__in": "Paid,Draft", "account": "@Acme"}, ["Starter plan"]),
    ("invoices", {"search": "inv-0002", "status": "Sent"}, ["Consulting"]),
]


@pytest.mark.parametrize(("resource", "params", "expected"), FILTERS)
async def test_each_filter_keeps_exactly_the_matching_records_in_both_dialects(
    client: httpx.AsyncClient, world: World, resource: str, params: dict[str, str], expected: list[str]
) -> None:
    response = await listed(client, world, resource, params)
    assert response.status_code == 200, response.text
    assert sorted(titles(resource, response.json())) == expected


@pytest.mark.parametrize(
    ("resource", "params", "total"),
    [
        ("tasks", {"colour": "red", "status": "", "due_date__gte": "  "}, 5),
        ("invoices", {"due_date__gte": "2099-01-01"}, 3),  # the invoice spelling is due_date_gte
        ("contacts", {"ordering": "nonsense"}, 3),  # contacts take no ordering
        ("opportunities", {"ordering": ""}, 5),
    ],
)
async def test_unknown_and_empty_parameters_are_ignored(
    client: httpx.AsyncClient, world: World, resource: str, params: dict[str, str], total: int
) -> None:
    response = await listed(client, world, resource, params)
    assert len(titles(resource, response.json())) == total


async def test_django_crm_partitions_combine_with_the_filters(world: World, connect: Any) -> None:
    async with connect(world.apps["django-crm"]) as crm:
        accounts = (await crm.get("/api/accounts/", params={"industry": "finance"})).json()
        leads = (await crm.get("/api/leads/", params={"source": "email"})).json()
    assert (accounts["active_accounts"]["open_accounts"], len(accounts["closed_accounts"]["close_accounts"])) == ([], 1)
    assert [lead["title"] for lead in leads["open_leads"]["open_leads"]] == ["Warehouse migration"]
    assert (leads["open_leads"]["leads_count"], leads["close_leads"]["leads_count"]) == (1, 1)


ORDERINGS = [
    ("opportunities", "amount", ["Small add-on", "Partner referral", "Acme renewal", "Acme platform", "Globex audit"]),
    ("opportunities", "-amount", ["Acme platform", "Acme renewal", "Partner referral", "Small add-on", "Globex audit"]),
    (
        "opportunities",
        "closed_on",
        ["Globex audit", "Acme renewal", "Small add-on", "Partner referral", "Acme platform"],
    ),
    (
        "opportunities",
        "-closed_on",
        ["Acme renewal", "Globex audit", "Small add-on", "Partner referral", "Acme platform"],
    ),
    (
        "opportunities",
        "created_at",
        ["Acme platform", "Acme renewal", "Globex audit", "Partner referral", "Small add-on"],
    ),
    (
        "opportunities",
        "-created_at",
        ["Small add-on", "Partner referral", "Globex audit", "Acme renewal", "Acme platform"],
    ),
    ("tasks", "due_date", ["Call Barbara", "Call Ada", "Email Grace", "Reproduce timeout", "File report"]),
    ("tasks", "-due_date", ["Reproduce timeout", "Email Grace", "Call Ada", "Call Barbara", "File report"]),
    ("tasks", "created_at", ["Call Ada", "Email Grace", "File report", "Call Barbara", "Reproduce timeout"]),
    ("invoices", "due_date", ["Starter plan", "Consulting", "Draft invoice"]),
    ("invoices", "-due_date", ["Consulting", "Starter plan", "Draft invoice"]),
    ("invoices", "-created_at", ["Draft invoice", "Consulting", "Starter plan"]),
]


@pytest.mark.parametrize(("resource", "ordering", "expected"), ORDERINGS)
async def test_ordering_sorts_numbers_and_dates_with_empty_values_last_then_newest_first(
    client: httpx.AsyncClient, world: World, resource: str, ordering: str, expected: list[str]
) -> None:
    response = await listed(client, world, resource, {"ordering": ordering})
    assert titles(resource, response.json()) == expected


async def test_ordering_combines_with_filters(client: httpx.AsyncClient, world: World) -> None:
    response = await listed(client, world, "opportunities", {"ordering": "-amount", "currency": "USD"})
    assert titles("opportunities", response.json()) == ["Acme renewal", "Small add-on", "Globex audit"]


NOT_A_CHOICE = "Select a valid choice. {} is not one of the available choices."
INVALID = [
    ("opportunities", {"amount__gte": "lots"}, {"amount__gte": ["Enter a number."]}),
    ("opportunities", {"amount__lte": "NaN"}, {"amount__lte": ["Enter a number."]}),
    ("opportunities", {"amount__lte": "inf"}, {"amount__lte": ["Enter a number."]}),
    ("opportunities", {"closed_on__lte": "2025-02-30"}, {"closed_on__lte": ["Enter a valid date."]}),
    ("opportunities", {"closed_on__gte": "20250201"}, {"closed_on__gte": ["Enter a valid date."]}),
    ("opportunities", {"open": "maybe"}, {"open": ["Must be a valid boolean."]}),
    ("opportunities", {"ordering": "name"}, {"ordering": [NOT_A_CHOICE.format("name")]}),
    ("opportunities", {"ordering": "--amount"}, {"ordering": [NOT_A_CHOICE.format("--amount")]}),
    ("tasks", {"due_date__gte": "tomorrow"}, {"due_date__gte": ["Enter a valid date."]}),
    ("tasks", {"ordering": "-priority"}, {"ordering": [NOT_A_CHOICE.format("-priority")]}),
    ("invoices", {"due_date_lte": "2026/01/31"}, {"due_date_lte": ["Enter a valid date."]}),
    ("invoices", {"ordering": "amount"}, {"ordering": [NOT_A_CHOICE.format("amount")]}),
    (
        "opportunities",
        {"amount__gte": "x", "ordering": "x", "search": "acme"},
        {"amount__gte": ["Enter a number."], "ordering": [NOT_A_CHOICE.format("x")]},
    ),
]


@pytest.mark.parametrize(("resource", "params", "errors"), INVALID)
async def test_an_invalid_filter_value_is_a_400_naming_the_parameter(
    client: httpx.AsyncClient,
    world: World,
    dialect: str,
    resource: str,
    params: dict[str, str],
    errors: dict[str, list[str]],
) -> None:
    response = await listed(client, world, resource, params)
    assert response.status_code == 400
    assert response.json() == (errors if dialect == "drf" else {"error": True, "errors": errors})
