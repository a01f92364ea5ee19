"""The django-crm dialect: keyed lists with offsets and catalogues, wrapped details, acknowledgements, errors.

Paging by limit/offset over longer lists is in test_djangocrm_paging.py; field names and the board in
test_djangocrm_fields.py.
"""

from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio


async def write(crm: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await crm.request(method, path, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["error"] is False
    return response.json()


@pytest.mark.parametrize(
    ("resource", "count_key", "items_key"),
    [
        ("opportunities", "opportunities_count", "opportunities"),
        ("tasks", "tasks_count", "tasks"),
        ("cases", "cases_count", "cases"),
    ],
)
async def test_keyed_lists_carry_a_count_an_offset_and_catalogues(
    crm: httpx.AsyncClient, minimal: dict[str, dict[str, Any]], resource: str, count_key: str, items_key: str
) -> None:
    for _ in range(11):
        await write(crm, "POST", f"/api/{resource}/", minimal[resource])
    first = (await crm.get(f"/api/{resource}/")).json()
    assert (first[count_key], len(first[items_key]), first["offset"]) == (11, 10, 10)
    assert ["US", "United States"] in first["countries"]
    assert set(first["users"][0]) == {"id", "email"}
    second = (await crm.get(f"/api/{resource}/", params={"offset": first["offset"]})).json()
    assert (len(second[items_key]), second["offset"]) == (1, None)


async def test_the_contacts_list_has_a_count_and_results_but_no_next_or_offset(crm: httpx.AsyncClient) -> None:
    for i in range(11):
        await write(crm, "POST", "/api/contacts/", {"first_name": f"A{i}", "last_name": "B"})
    body = (await crm.get("/api/contacts/")).json()
    assert set(body) == {"count", "results", "countries", "users"}
    assert (body["count"], len(body["results"])) == (11, 10)


async def test_accounts_are_split_into_open_and_closed(crm: httpx.AsyncClient) -> None:
    await write(crm, "POST", "/api/accounts/", {"name": "Open Co"})
    await write(crm, "POST", "/api/accounts/", {"name": "Closed Co", "status": "close"})
    body = (await crm.get("/api/accounts/")).json()
    assert [a["name"] for a in body["active_accounts"]["open_accounts"]] == ["Open Co"]
    assert [a["name"] for a in body["closed_accounts"]["close_accounts"]] == ["Closed Co"]


async def test_leads_are_split_with_converted_and_closed_counted_as_closed(crm: httpx.AsyncClient) -> None:
    for title, status in (("A", "assigned"), ("B", "in process"), ("C", "converted"), ("D", "closed")):
        await write(crm, "POST", "/api/leads/", {"title": title, "status": status})
    body = (await crm.get("/api/leads/")).json()
    assert body["open_leads"]["leads_count"] == 2
    assert sorted(lead["title"] for lead in body["close_leads"]["close_leads"]) == ["C", "D"]
    assert body["close_leads"]["offset"] is None
    searched = (await crm.get("/api/leads/", params={"search": "c"})).json()
    assert (searched["open_leads"]["leads_count"], searched["close_leads"]["leads_count"]) == (0, 1)


async def test_invoices_keep_the_drf_envelope_and_pipelines_are_keyed(crm: httpx.AsyncClient) -> None:
    assert (await crm.post("/api/invoices/", json={"invoice_title": "I"})).status_code == 201
    invoices = (await crm.get("/api/invoices/")).json()
    assert set(invoices) == {"count", "next", "previous", "results"}
    pipelines = (await crm.get("/api/deal-pipelines/")).json()
    assert (pipelines["pipelines_count"], pipelines["pipelines"][0]["name"], pipelines["offset"]) == (
        1,
        "Sales Pipeline",
        None,
    )


@pytest.mark.parametrize(
    ("resource", "key"),
    [
        ("contacts", "contact_obj"),
        ("accounts", "account_obj"),
        ("opportunities", "opportunity_obj"),
        ("cases", "cases_obj"),
    ],
)
async def test_creates_answer_an_id_and_details_are_wrapped(
    crm: httpx.AsyncClient, minimal: dict[str, dict[str, Any]], resource: str, key: str
) -> None:
    created = await write(crm, "POST", f"/api/{resource}/", minimal[resource])
    assert created["message"].endswith("created Successfuly")
    detail = (await crm.get(f"/api/{resource}/{created['id']}/")).json()
    assert set(detail) == {key, "comments", "attachments"}
    assert detail[key]["id"] == created["id"]
    updated = await write(crm, "PATCH", f"/api/{resource}/{created['id']}/", {"description": "x"})
    assert (updated["id"], updated["message"].endswith("Updated Successfully")) == (created["id"], True)
    deleted = await write(crm, "DELETE", f"/api/{resource}/{created['id']}/")
    assert deleted["message"].endswith("Deleted Successfully")
    assert "id" not in deleted


@pytest.mark.parametrize(
    ("resource", "key", "body"), [("leads", "lead_obj", {"title": "L"}), ("tasks", "task_obj", {"title": "T"})]
)
async def test_lead_and_task_creates_answer_without_an_id(
    crm: httpx.AsyncClient, resource: str, key: str, body: dict[str, Any]
) -> None:
    created = await write(crm, "POST", f"/api/{resource}/", body)
    assert created == {"error": False, "message": f"{resource[:-1].title()} created Successfuly"}
    listed = (await crm.get(f"/api/{resource}/")).json()
    record = (listed["open_leads"]["open_leads"] if resource == "leads" else listed["tasks"])[0]
    assert set((await crm.get(f"/api/{resource}/{record['id']}/")).json()) == {key, "comments", "attachments"}


async def test_invoice_writes_answer_acknowledgements_with_the_invoice_only_on_create(crm: httpx.AsyncClient) -> None:
    created = await crm.post("/api/invoices/", json={"invoice_title": "I"})
    assert (created.status_code, created.json()["message"]) == (201, "Invoice created Successfuly")
    ident = created.json()["invoice"]["id"]
    assert set((await crm.get(f"/api/invoices/{ident}/")).json()) == {"invoice", "comments", "attachments"}
    updated = await write(crm, "PATCH", f"/api/invoices/{ident}/", {"description": "x"})
    assert updated == {"error": False, "message": "Invoice Updated Successfully", "id": ident}
    assert (await write(crm, "DELETE", f"/api/invoices/{ident}/"))["message"] == "Invoice Deleted Successfully"


async def test_pipeline_writes_answer_acknowledgements_and_the_board_is_a_kanban(crm: httpx.AsyncClient) -> None:
    pipeline = await write(crm, "POST", "/api/deal-pipelines/", {"name": "Partners"})
    stage = await write(crm, "POST", f"/api/deal-pipelines/{pipeline['id']}/stages/", {"name": "Contacted"})
    renamed = await write(crm, "PUT", f"/api/deal-pipelines/stages/{stage['id']}/", {"name": "Met"})
    assert renamed["id"] == stage["id"]
    deal = await write(crm, "POST", "/api/opportunities/", {"name": "D"})
    moved = await write(crm, "PATCH", f"/api/deal-pipelines/deals/{deal['id']}/move/", {"stage_id": stage["id"]})
    assert moved["id"] == deal["id"]
    board = (await crm.get("/api/deal-pipelines/board/", params={"pipeline_id": pipeline["id"]})).json()
    assert set(board) == {"mode", "pipeline", "columns", "total_items"}
    assert [d["id"] for c in board["columns"] for d in c["items"]] == [deal["id"]]
    empty = (await crm.post(f"/api/deal-pipelines/{pipeline['id']}/stages/", json={"name": "Empty"})).json()
    assert (await write(crm, "DELETE", f"/api/deal-pipelines/stages/{empty['id']}/"))["message"] == (
        "Stage Deleted Successfully"
    )


async def test_failures_use_the_error_envelope(crm: httpx.AsyncClient) -> None:
    invalid = await crm.post("/api/contacts/", json={"first_name": "A"})
    assert (invalid.status_code, invalid.json()) == (
        400,
        {"error": True, "errors": {"last_name": ["This field is required."]}},
    )
    missing = await crm.get("/api/opportunities/nope/")
    assert (missing.status_code, missing.json()) == (404, {"error": True, "errors": "Opportunity not found."})
    columns = (await crm.get("/api/deal-pipelines/board/")).json()["columns"]
    protected = await crm.delete(f"/api/deal-pipelines/stages/{columns[-1]['id']}/")
    assert protected.json() == {"error": True, "errors": "Won and Lost stages are required and cannot be deleted."}
    limit = await crm.get("/api/contacts/", params={"limit": "many"})
    assert (limit.status_code, limit.json()) == (
        400,
        {"error": True, "errors": {"limit": ["A valid integer is required."]}},
    )
    assert (await crm.get("/api/nowhere/")).status_code == 404


async def test_bad_credentials_are_403_in_the_django_crm_dialect(connect: Any) -> None:
    async with connect(create_app(dialect="django-crm"), "wrong") as client:
        response = await client.get("/api/contacts/")
    assert (response.status_code, response.json()) == (403, {"detail": "Authentication credentials were not provided."})
