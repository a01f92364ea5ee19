"""CRUD, search, pagination and ordering of the seven resources in the drf dialect."""

from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox.resources import BY_NAME, RESOURCES

pytestmark = pytest.mark.anyio
NAMES = [res.name for res in RESOURCES]
TITLE_FIELD = {
    "contacts": "last_name",
    "accounts": "name",
    "leads": "title",
    "opportunities": "name",
    "tasks": "title",
    "cases": "name",
    "invoices": "invoice_title",
}


@pytest.mark.parametrize("resource", NAMES)
async def test_each_resource_supports_create_read_patch_put_and_delete(
    api: httpx.AsyncClient, create: Any, minimal: dict[str, dict[str, Any]], resource: str
) -> None:
    record = await create(api, resource, **minimal[resource])
    BY_NAME[resource].record.model_validate(record)
    url = f"/api/{resource}/{record['id']}/"
    assert (await api.get(url)).json() == record
    field = TITLE_FIELD[resource]
    patched = (await api.patch(url, json={field: "Renamed", "description": "patched"})).json()
    assert (patched[field], patched["description"]) == ("Renamed", "patched")
    put = await api.put(url, json={**minimal[resource], "description": "replaced"})
    assert put.status_code == 200
    assert put.json()["description"] == "replaced"
    assert put.json()["created_at"] == record["created_at"]
    deleted = await api.delete(url)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.get(url)).status_code == 404


@pytest.mark.parametrize("resource", NAMES)
async def test_put_requires_the_required_fields(
    api: httpx.AsyncClient, create: Any, minimal: dict[str, dict[str, Any]], resource: str
) -> None:
    record = await create(api, resource, **minimal[resource])
    response = await api.put(f"/api/{resource}/{record['id']}/", json={"description": "only this"})
    assert response.status_code == 400
    assert set(response.json()) == set(BY_NAME[resource].required)
    assert all(messages == ["This field is required."] for messages in response.json().values())


async def test_create_applies_the_contract_defaults(api: httpx.AsyncClient, create: Any) -> None:
    deal = await create(api, "opportunities", name="Deal")
    assert (deal["currency"], deal["stage"], deal["is_closed"], deal["contacts"]) == ("USD", "PROSPECTING", False, [])
    task = await create(api, "tasks", title="Call")
    assert (task["status"], task["priority"]) == ("New", "Medium")
    case = await create(api, "cases", name="Bug")
    assert (case["status"], case["priority"], case["case_type"]) == ("New", "Normal", None)
    assert (await create(api, "leads", title="Lead"))["status"] == "assigned"
    assert (await create(api, "accounts", name="Acme"))["status"] == "open"
    assert (await create(api, "invoices", invoice_title="Inv"))["status"] == "Draft"


async def test_invoices_are_numbered_per_org_in_creation_order(api: httpx.AsyncClient, create: Any) -> None:
    numbers = [(await create(api, "invoices", invoice_title=f"Invoice {i}"))["invoice_number"] for i in range(3)]
    assert numbers == ["INV-0001", "INV-0002", "INV-0003"]


async def test_unknown_and_read_only_fields_in_a_body_are_ignored(api: httpx.AsyncClient, create: Any) -> None:
    invoice = await create(api, "invoices", invoice_title="X", invoice_number="INV-9999", id="mine", colour="red")
    assert invoice["invoice_number"] == "INV-0001"
    assert invoice["id"] != "mine"
    assert "colour" not in invoice
    patched = (await api.patch(f"/api/invoices/{invoice['id']}/", json={"created_at": "2000-01-01"})).json()
    assert patched["created_at"] == invoice["created_at"]


async def test_patch_changes_only_the_given_fields_and_bumps_updated_at(api: httpx.AsyncClient, create: Any) -> None:
    contact = await create(api, "contacts", first_name="Ada", last_name="Lovelace", city="London")
    patched = (await api.patch(f"/api/contacts/{contact['id']}/", json={"title": "CTO"})).json()
    assert patched == {**contact, "title": "CTO", "updated_at": patched["updated_at"]}
    assert patched["updated_at"] > contact["updated_at"]


async def test_lists_are_newest_first_with_next_and_previous_links(api: httpx.AsyncClient, create: Any) -> None:
    ids = [(await create(api, "tasks", title=f"Task {i:02d}"))["id"] for i in range(45)]
    first = (await api.get("/api/tasks/")).json()
    assert first["count"] == 45
    assert [task["id"] for task in first["results"]] == ids[::-1][:20]
    assert (first["next"], first["previous"]) == ("http://sandbox.test/api/tasks/?page=2", None)
    second = (await api.get(first["next"])).json()
    assert second["previous"] == "http://sandbox.test/api/tasks/"
    third = (await api.get(second["next"])).json()
    assert [task["id"] for task in third["results"]] == ids[::-1][40:]
    assert (third["next"], third["previous"]) == (None, "http://sandbox.test/api/tasks/?page=2")


async def test_links_keep_the_search_query(api: httpx.AsyncClient, create: Any) -> None:
    for i in range(21):
        await create(api, "tasks", title=f"Call {i}")
    page = (await api.get("/api/tasks/", params={"search": "call"})).json()
    assert page["next"] == "http://sandbox.test/api/tasks/?search=call&page=2"


@pytest.mark.parametrize("page", ["3", "0", "-1", "abc", "1.5"])
async def test_a_page_past_the_end_or_not_a_positive_integer_is_invalid(
    api: httpx.AsyncClient, create: Any, page: str
) -> None:
    await create(api, "tasks", title="Only one")
    response = await api.get("/api/tasks/", params={"page": page})
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


async def test_page_one_of_an_empty_list_is_empty_not_invalid(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/cases/")
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


async def test_search_is_a_case_insensitive_substring_over_the_listed_fields(
    api: httpx.AsyncClient, create: Any
) -> None:
    await create(api, "contacts", first_name="Ada", last_name="Lovelace", primary_email="ada@engines.co.uk")
    await create(api, "contacts", first_name="Grace", last_name="Hopper", organization="Hopper Systems")
    await create(api, "contacts", first_name="Alan", last_name="Turing", title="Lovelace fan")

    async def found(term: str) -> list[str]:
        page = (await api.get("/api/contacts/", params={"search": term})).json()
        return sorted(contact["first_name"] for contact in page["results"])

    assert await found("LOVE") == ["Ada"]
    assert await found("ENGINES.CO") == ["Ada"]
    assert await found("systems") == ["Grace"]
    assert await found("") == ["Ada", "Alan", "Grace"]
    assert await found("nobody") == []


async def test_invoices_can_be_searched_by_number(api: httpx.AsyncClient, create: Any) -> None:
    await create(api, "invoices", invoice_title="First")
    await create(api, "invoices", invoice_title="Second")
    page = (await api.get("/api/invoices/", params={"search": "inv-0002"})).json()
    assert [invoice["invoice_title"] for invoice in page["results"]] == ["Second"]


async def test_deleting_an_account_nulls_every_reference_to_it(api: httpx.AsyncClient, create: Any) -> None:
    account = await create(api, "accounts", name="Acme")
    contact = await create(api, "contacts", first_name="A", last_name="B", account=account["id"])
    deal = await create(api, "opportunities", name="D", account=account["id"], contacts=[contact["id"]])
    invoice = await create(api, "invoices", invoice_title="I", account=account["id"], contact=contact["id"])
    assert (await api.delete(f"/api/accounts/{account['id']}/")).status_code == 204
    assert (await api.get(f"/api/contacts/{contact['id']}/")).json()["account"] is None
    assert (await api.get(f"/api/opportunities/{deal['id']}/")).json()["account"] is None
    assert (await api.get(f"/api/invoices/{invoice['id']}/")).json()["account"] is None


async def test_deleting_a_contact_or_deal_removes_it_from_lists_and_links(api: httpx.AsyncClient, create: Any) -> None:
    keep = await create(api, "contacts", first_name="Keep", last_name="Me")
    gone = await create(api, "contacts", first_name="Gone", last_name="Soon")
    deal = await create(api, "opportunities", name="D", contacts=[keep["id"], gone["id"]])
    task = await create(api, "tasks", title="T", contacts=[gone["id"]], opportunity=deal["id"])
    invoice = await create(api, "invoices", invoice_title="I", contact=gone["id"])
    await api.delete(f"/api/contacts/{gone['id']}/")
    await api.delete(f"/api/opportunities/{deal['id']}/")
    assert (await api.get(f"/api/tasks/{task['id']}/")).json()["contacts"] == []
    assert (await api.get(f"/api/tasks/{task['id']}/")).json()["opportunity"] is None
    assert (await api.get(f"/api/invoices/{invoice['id']}/")).json()["contact"] is None
    board = (await api.get("/api/deal-pipelines/board/")).json()
    assert all(stage["deals"] == [] for stage in board["stages"])


async def test_money_comes_back_as_a_string_with_two_decimals(api: httpx.AsyncClient, create: Any) -> None:
    deal = await create(api, "opportunities", name="D", amount=1500)
    assert deal["amount"] == "1500.00"
    lead = await create(api, "leads", title="L", opportunity_amount="99.5")
    assert lead["opportunity_amount"] == "99.50"


async def test_reference_lists_drop_duplicate_ids(api: httpx.AsyncClient, create: Any) -> None:
    contact = await create(api, "contacts", first_name="A", last_name="B")
    case = await create(api, "cases", name="C", contacts=[contact["id"], contact["id"]])
    assert case["contacts"] == [contact["id"]]
