"""Every shape of `../shared/reference/lava-crm-api.md` §6 ("more of that family's behaviour"), replayed (respx, both
routes) against the adapter: each test is named by the paragraph it replays. One fake CRM serves them: a family
server that pages by `limit`/`offset` (10 by default, `page` ignored), answers in the shape each test gives it, and
records what it was asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import CrmAuthError, CrmClient, CrmError, CrmPaymentRequired
from lava_crm_mcp.crm.search import Found

pytestmark = pytest.mark.anyio

Shape = Callable[[list[dict[str, Any]], int, int, int], dict[str, Any]]
"""(the rows of this slice, offset, limit, count of the whole list) -> the reply."""


def people(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"c-{i:03}", "first_name": f"Ada{i:03}", "last_name": "King", **extra} for i in range(n)]


class Family:
    """A list endpoint of the family: `limit` (default 10) and `offset`, `page` ignored, every filter ignored."""

    def __init__(self, rows: list[dict[str, Any]], shape: Shape) -> None:
        self.rows, self.shape, self.asked = rows, shape, list[dict[str, str]]()

    def __call__(self, url: httpx.URL) -> httpx.Response:
        self.asked.append(dict(url.params))
        limit, offset = int(url.params.get("limit", "10")), int(url.params.get("offset", "0"))
        return httpx.Response(200, json=self.shape(self.rows[offset : offset + limit], offset, limit, len(self.rows)))


@pytest.fixture
def family(crm_api: respx.MockRouter, target_of: Callable[[httpx.Request], str]) -> Callable[..., Family]:
    def install(rows: list[dict[str, Any]], shape: Shape) -> Family:
        fake = Family(rows, shape)
        crm_api.route().mock(side_effect=lambda request: fake(httpx.URL(target_of(request))))
        return fake

    return install


def following(offset: int, limit: int, count: int) -> int | None:
    return offset + limit if offset + limit < count else None


async def walk(client: CrmClient, path: str) -> Found[Any]:
    return await client.search(path, limit=100)


async def test_paging_by_limit_and_offset_with_the_next_offset_in_the_reply_and_page_ignored(
    client: CrmClient, family: Callable[..., Family]
) -> None:
    def keyed(rows: list[dict[str, Any]], offset: int, limit: int, count: int) -> dict[str, Any]:
        return {"contacts_count": count, "contact_obj_list": rows, "offset": following(offset, limit, count)}

    fake = family(people(45), keyed)

    found = await walk(client, "contacts")

    assert [row.id for row in found.items] == [row["id"] for row in fake.rows]
    assert (found.total, [asked.get("offset", "0") for asked in fake.asked]) == (45, ["0", "20", "40"])


async def test_a_drf_next_link_that_carries_limit_and_offset(client: CrmClient, family: Callable[..., Family]) -> None:
    def linked(rows: list[dict[str, Any]], offset: int, limit: int, count: int) -> dict[str, Any]:
        after = following(offset, limit, count)
        link = f"https://lava-crm-api.fly.dev/api/invoices/?limit={limit}&offset={after}" if after else None
        return {"count": count, "next": link, "previous": None, "results": rows}

    family([{"id": f"i-{i:02}", "invoice_title": f"Inv {i}"} for i in range(33)], linked)

    found = await walk(client, "invoices")

    assert (len(found.items), len({row.id for row in found.items}), found.total) == (33, 33, 33)


async def test_the_newer_contacts_list_with_count_and_results_but_no_next(
    client: CrmClient, family: Callable[..., Family]
) -> None:
    family(people(27), lambda rows, offset, limit, count: {"count": count, "results": rows})

    found = await walk(client, "contacts")

    assert (len(found.items), len({row.id for row in found.items}), found.total) == (27, 27, 27)


async def test_the_accounts_list_in_two_sections_each_with_its_own_offset_and_count(
    client: CrmClient, family: Callable[..., Family]
) -> None:
    accounts = [{"id": f"a-{i:02}", "name": f"Acme {i}", "status": "open" if i < 30 else "close"} for i in range(36)]
    opened, closed = accounts[:30], accounts[30:]

    def sections(_rows: list[dict[str, Any]], offset: int, limit: int, _count: int) -> dict[str, Any]:
        return {
            "active_accounts": {
                "open_accounts_count": len(opened),
                "open_accounts": opened[offset : offset + limit],
                "offset": following(offset, limit, len(opened)),
            },
            "closed_accounts": {
                "close_accounts_count": len(closed),
                "close_accounts": closed[offset : offset + limit],
                "offset": following(offset, limit, len(closed)),
            },
            "users": [{"id": "u-1", "email": "owner@example.com"}],
        }

    family(accounts, sections)

    found = await walk(client, "accounts")

    assert sorted(row.id for row in found.items) == [row["id"] for row in accounts]
    assert found.total == 36


async def test_a_search_the_older_era_ignores_returns_only_real_matches(
    client: CrmClient, family: Callable[..., Family]
) -> None:
    rows = people(30)
    rows[7]["last_name"] = "Lovelace"
    fake = family(rows, lambda rows, offset, limit, count: {"count": count, "results": rows})

    found = await client.search("contacts", text="lovelace")

    assert [row.id for row in found.items] == ["c-007"]
    assert (found.ignored, found.total, fake.asked[0]["search"]) == (["query"], 1, "lovelace")


FILTERS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("contacts", {"email": "ada@"}, {"email": "ada@"}),
    ("accounts", {"industry": "SOFTWARE"}, {"industry": "SOFTWARE"}),
    ("leads", {"status": "assigned", "source": "partner"}, {"status": "assigned", "source": "partner"}),
    ("opportunities", {"account_id": "a-1", "amount_min": "100"}, {"account": "a-1", "amount__gte": "100"}),
    ("opportunities", {"status": "open", "expected_close_to": "2026-01-31"}, {"open": "true"}),
    ("opportunities", {"closed_from": "2026-01-01"}, {"closed_on__gte": "2026-01-01"}),
    ("tasks", {"priority": "High", "deal_id": "d-1"}, {"priority": "High", "opportunity": "d-1"}),
    ("tasks", {"due_from": "2026-01-01", "case_id": "k-1"}, {"due_date__gte": "2026-01-01", "case": "k-1"}),
    ("cases", {"priority": "Urgent", "account_id": "a-1"}, {"priority": "Urgent", "account": "a-1"}),
    ("invoices", {"status": "Paid", "contact_id": "c-1"}, {"status": "Paid", "contact": "c-1"}),
    ("invoices", {"due_from": "2026-01-01", "due_to": "2026-02-01"}, {"due_date_gte": "2026-01-01"}),
]


@pytest.mark.parametrize(("path", "filters", "sent"), FILTERS, ids=[f"{p}-{'-'.join(f)}" for p, f, _ in FILTERS])
async def test_list_filters_go_out_under_the_newer_eras_names_and_an_ignored_one_is_applied_here(
    client: CrmClient, family: Callable[..., Family], path: str, filters: dict[str, Any], sent: dict[str, str]
) -> None:
    fake = family([], lambda rows, offset, limit, count: {"count": count, "results": rows})

    found = await client.search(path, filters=filters)

    assert sent.items() <= fake.asked[-1].items()  # (deals: after the pipeline list their filters need)
    assert (found.items, found.total) == ([], 0)


KANBAN = {
    "mode": "stage",
    "pipeline": {"id": "p-1", "name": "Sales", "is_default": True},
    "columns": [
        {
            "id": "s-1",
            "name": "Qualified",
            "order": 1,
            "stage_type": "open",
            "item_count": 2,
            "items": [
                {
                    "id": "d-1",
                    "name": "Big deal",
                    "amount": "1500.00",
                    "currency": "EUR",
                    "probability": 40,
                    "closed_on": None,
                    "account": {"id": "a-1", "name": "Acme"},
                    "days_in_stage": 3,
                },
                {"id": "d-2", "name": "Small deal", "amount": "20.00", "currency": "EUR", "days_in_stage": 0},
            ],
        },
        {"id": "s-2", "name": "Won", "order": 2, "stage_type": "won", "item_count": 0, "items": []},
    ],
    "total_items": 2,
}


async def test_the_kanban_board_reads_and_places_the_deals_it_holds(
    client: CrmClient, crm_api: respx.MockRouter, target_of: Callable[[httpx.Request], str]
) -> None:
    pipelines = {"count": 1, "results": [{**KANBAN["pipeline"], "stages": KANBAN["columns"]}]}

    def crm(request: httpx.Request) -> httpx.Response:
        path = httpx.URL(target_of(request)).path
        if path.endswith("/board/"):
            return httpx.Response(200, json=KANBAN)
        if path.endswith("/deal-pipelines/"):
            return httpx.Response(200, json=pipelines)
        return httpx.Response(200, json={"id": "d-1", "name": "Big deal", "account": {"id": "a-1", "name": "Acme"}})

    crm_api.route().mock(side_effect=crm)

    board = await client.pipelines.columns()
    deal = await client.records("opportunities").get("d-1")

    assert [(c.stage.name, c.stage.stage_type, c.count) for c in board.columns] == [
        ("Qualified", "open", 2),
        ("Won", "won", 0),
    ]
    assert board.columns[0].value() == {"EUR": 1520}
    assert (deal.pipeline, deal.pipeline_stage, deal.is_closed, deal.account, deal.labels) == (
        "p-1",
        "s-1",
        False,
        "a-1",
        {"a-1": "Acme"},
    )


async def test_the_newer_eras_field_names_read_as_ours(client: CrmClient, family: Callable[..., Family]) -> None:
    row = {
        "id": "i-1",
        "invoice_title": "Q3",
        "total_amount": "1200.00",
        "amount_due": "1200.00",
        "account": {"id": "a-1", "name": "Acme"},
        "account_name": "Acme",
        "contact_id": "c-1",
        "contact_name": "Ada King",
    }
    family([row], lambda rows, offset, limit, count: {"count": count, "results": rows})

    (invoice,) = (await walk(client, "invoices")).items

    assert (invoice.amount, invoice.account, invoice.contact, invoice.labels) == (
        "1200.00",
        "a-1",
        "c-1",
        {"a-1": "Acme"},
    )


async def test_the_newer_eras_contact_names_read_as_ours(client: CrmClient, family: Callable[..., Family]) -> None:
    family(
        people(1, email="ada@example.com", phone="+44 1"), lambda rows, o, lim, count: {"count": count, "results": rows}
    )

    (contact,) = (await walk(client, "contacts")).items

    assert (contact.primary_email, contact.mobile_number) == ("ada@example.com", "+44 1")


async def test_an_invoice_create_wanting_account_id_and_contact_id_answers_the_invoice(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    sent: list[dict[str, Any]] = []

    def crm(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        if "account_id" not in body or "contact_id" not in body:
            required = {name: ["This field is required."] for name in ("account_id", "contact_id")}
            return httpx.Response(400, json={"error": True, "errors": required})
        invoice = {
            "id": "i-9",
            "invoice_title": body["invoice_title"],
            "account": body["account_id"],
            "contact_id": body["contact_id"],
        }
        return httpx.Response(201, json={"error": False, "message": "Invoice created", "invoice": invoice})

    crm_api.route().mock(side_effect=crm)

    made = (await client.records("invoices").create({"invoice_title": "Q3", "account": "a-1", "contact": "c-1"})).record

    assert made is not None
    assert (made.id, made.account, made.contact, made.dropped) == ("i-9", "a-1", "c-1", [])
    assert [sorted(body) for body in sent] == [
        ["account", "contact", "invoice_title"],
        ["account_id", "contact_id", "invoice_title"],
    ]


@pytest.mark.parametrize("source", ["NONE", "CALL", "EMAIL", "EXISTING CUSTOMER", "WEBSITE", "OTHER"])
async def test_a_deals_lead_source_is_sent_as_the_crm_spells_it(
    client: CrmClient, crm_api: respx.MockRouter, source: str
) -> None:
    route = crm_api.route().respond(
        201, json={"id": "d-1", "name": "D", "lead_source": source, "pipeline_stage": "s-1"}
    )

    made = (await client.records("opportunities").create({"name": "D", "lead_source": source})).record

    assert made is not None
    assert (made.lead_source, json.loads(route.calls.last.request.content)["lead_source"]) == (source, source)


@pytest.mark.parametrize(("status", "error"), [(401, CrmAuthError), (402, CrmPaymentRequired)])
async def test_lavas_gateway_answers_401_and_402_with_its_own_json_body(
    gateway: CrmClient, crm_api: respx.MockRouter, status: int, error: type[CrmError]
) -> None:
    crm_api.route().respond(status, json={"error": {"message": "Refused by Lava", "type": "gateway_error"}})

    with pytest.raises(error) as caught:
        await gateway.records("contacts").list()

    assert str(caught.value).startswith("Lava's gateway refused")
    assert "Refused by Lava" in str(caught.value)
