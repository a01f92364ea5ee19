"""DRF search semantics, counts and paging of filtered lists, one indexed SQL query per page, and never a 500."""

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.sandbox.resources import RESOURCES

pytestmark = pytest.mark.anyio


async def _people(api: httpx.AsyncClient, create: Any) -> None:
    await create(api, "contacts", first_name="Ada", last_name="Lovelace", primary_email="ada@engines.co.uk")
    await create(api, "contacts", first_name="Grace", last_name="Hopper", organization="Hopper Systems")
    await create(api, "contacts", first_name="Alan", last_name="Turing", title="Lovelace fan")


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("Ada Lovelace", ["Ada"]),
        ("lovelace  ADA", ["Ada"]),
        ("ada,lovelace", ["Ada"]),
        ("grace systems", ["Grace"]),
        ("a l", ["Ada", "Alan"]),
        ("Ada Hopper", []),
        ("adalovelace", []),
        ("ada\x1flovelace", []),
        (" , ", ["Ada", "Alan", "Grace"]),
    ],
)
async def test_search_needs_every_word_in_some_search_field_and_no_word_spans_two_fields(
    api: httpx.AsyncClient, create: Any, search: str, expected: list[str]
) -> None:
    await _people(api, create)
    page = (await api.get("/api/contacts/", params={"search": search})).json()
    assert sorted(contact["first_name"] for contact in page["results"]) == expected


async def test_multi_word_search_works_in_the_split_lists_of_the_django_crm_dialect(crm: httpx.AsyncClient) -> None:
    for body in (
        {"title": "Data warehouse migration", "first_name": "Barbara", "status": "in process"},
        {"title": "Warehouse audit", "first_name": "Edsger", "status": "closed"},
    ):
        await crm.post("/api/leads/", json=body)
    body = (await crm.get("/api/leads/", params={"search": "barbara warehouse"})).json()
    assert (body["open_leads"]["leads_count"], body["close_leads"]["leads_count"]) == (1, 0)


async def test_a_filtered_list_counts_and_pages_only_the_matching_records(api: httpx.AsyncClient, create: Any) -> None:
    new = [
        (await create(api, "tasks", title=f"Task {i}", status="New" if i % 6 else "Completed"))["id"] for i in range(30)
    ]
    matching = [ident for i, ident in enumerate(new) if i % 6][::-1]
    first = (await api.get("/api/tasks/", params={"status": "New"})).json()
    assert (first["count"], [task["id"] for task in first["results"]]) == (25, matching[:20])
    assert first["next"] == "http://sandbox.test/api/tasks/?status=New&page=2"
    second = (await api.get(first["next"])).json()
    assert ([task["id"] for task in second["results"]], second["next"]) == (matching[20:], None)
    past = await api.get("/api/tasks/", params={"status": "New", "page": 3})
    assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})
    assert (await api.get("/api/tasks/", params={"status": "Completed", "page": 2})).status_code == 404


async def test_django_crm_offsets_follow_the_filtered_count(crm: httpx.AsyncClient) -> None:
    for i in range(23):
        await crm.post("/api/tasks/", json={"title": f"Task {i}", "priority": "High" if i % 10 else "Low"})
    body = (await crm.get("/api/tasks/", params={"priority": "High", "offset": 10})).json()
    assert (body["tasks_count"], len(body["tasks"]), body["offset"]) == (20, 10, None)
    low = (await crm.get("/api/tasks/", params={"priority": "Low"})).json()
    assert (low["tasks_count"], len(low["tasks"]), low["offset"]) == (3, 3, None)


@contextmanager
def statements(app: Any) -> Generator[list[str]]:
    """Every SQL statement the sandbox runs inside the block, with its values bound."""
    seen: list[str] = []
    app.state.sandbox.conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        app.state.sandbox.conn.set_trace_callback(None)


@pytest.mark.parametrize(
    ("resource", "param", "index"),
    [
        ("contacts", "account", "records_account"),
        ("tasks", "status", "records_status"),
        ("tasks", "opportunity", "records_opportunity"),
        ("invoices", "due_date_lte", "records_due_date"),
    ],
)
async def test_a_filtered_page_is_one_sql_query_that_uses_an_index(
    connect: Any, create: Any, resource: str, param: str, index: str
) -> None:
    app = create_app()
    async with connect(app) as api:
        account = await create(api, "accounts", name="Acme")
        await create(api, "contacts", first_name="Ada", last_name="Lovelace", account=account["id"])
        with statements(app) as seen:
            response = await api.get(f"/api/{resource}/", params={param: "2026-01-01", "search": "a b"})
    assert response.status_code == 200
    (query,) = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    plan = " | ".join(row[3] for row in app.state.sandbox.conn.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert f"USING INDEX {index}" in plan, plan
    app.state.sandbox.close()


PARAMS = sorted({param.name for res in RESOURCES for param in res.params} | {"ordering", "page"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([res.name for res in RESOURCES]), st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=12)))
def test_no_query_string_makes_a_list_fail_with_a_server_error(resource: str, query: dict[str, str]) -> None:
    async def run() -> None:
        app = create_app()
        transport, headers = httpx.ASGITransport(app=app), {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as api:
            await api.post("/api/opportunities/", json={"name": "Deal", "amount": "10.00"})
            response = await api.get(f"/api/{resource}/", params=query)
        app.state.sandbox.close()
        assert response.status_code in {200, 400, 404}, response.text
        if response.status_code == 400:
            assert set(response.json()) <= set(query)

    anyio.run(run)
