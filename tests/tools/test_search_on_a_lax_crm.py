"""search_* over a CRM (respx) that ignores a filter: only matching rows, how much was read, an honest stop, and the
exact call to go on; over a CRM that honours it, one request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from call_results import ok, text
from mcp import Client
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio

BASE = "https://crm.example"
CONTACTS = f"{BASE}/api/contacts/"
ACCOUNT = {"id": "a-1", "name": "Analytical Engines"}


def contacts(total: int, every: int) -> list[dict[str, Any]]:
    return [
        {"id": f"c-{n:03}", "first_name": "Ada", "last_name": f"No{n}", "account": "a-1" if n % every == 0 else "a-2"}
        for n in range(total)
    ]


def serve(rows: list[dict[str, Any]], *, honours_account: bool) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        kept = [row for row in rows if not honours_account or row["account"] == params.get("account")]
        page = int(params.get("page", "1"))
        chunk, more = kept[(page - 1) * 20 : page * 20], page * 20 < len(kept)
        body = {"count": len(kept), "next": f"{CONTACTS}?page={page + 1}" if more else None, "results": chunk}
        return httpx.Response(200, json=body)

    return handler


@pytest.fixture
async def lax(crm_api: respx.MockRouter) -> AsyncIterator[Client]:
    crm = CrmClient(
        Upstream(BASE, SecretStr("t0ken")),
        transport=httpx.MockTransport(crm_api.async_handler),
        retry=RetryPolicy(max_attempts=1),
    )
    crm_api.get(f"{BASE}/api/accounts/a-1/").respond(json=ACCOUNT)
    crm_api.get(f"{BASE}/api/accounts/a-2/").respond(json={"id": "a-2", "name": "Babbage & Co"})
    async with crm, Client(build_server(Settings(), crm=crm)) as client:
        yield client


@pytest.fixture
def crm_api() -> Any:
    with respx.mock(assert_all_called=False) as router:
        yield router


async def test_a_filter_the_crm_ignores_still_returns_only_matching_rows_and_says_so(
    lax: Client, crm_api: respx.MockRouter
) -> None:
    route = crm_api.get(CONTACTS).mock(side_effect=serve(contacts(45, 10), honours_account=False))

    result = await lax.call_tool("search_contacts", {"account_id": "a-1"})

    page = ok(result)
    assert [row["id"] for row in page["items"]] == ["c-000", "c-010", "c-020", "c-030", "c-040"]
    assert {row["account"]["name"] for row in page["items"]} == {"Analytical Engines"}
    assert (page["total"], page["has_more"], page["next_call"]) == (5, False, None)
    assert page["note"] == "The CRM did not apply account_id; each row was checked here"
    assert text(result).splitlines()[0] == (
        "contacts: 5 of 5; no more; The CRM did not apply account_id; each row was checked here."
    )
    assert route.call_count == 3


async def test_a_scan_that_hits_its_budget_says_results_may_be_incomplete_and_how_to_continue(
    lax: Client, crm_api: respx.MockRouter
) -> None:
    route = crm_api.get(CONTACTS).mock(side_effect=serve(contacts(300, 100), honours_account=False))

    first = ok(await lax.call_tool("search_contacts", {"account_id": "a-1"}))
    rest = ok(await lax.call_tool("search_contacts", {"account_id": "a-1", "cursor": "200"}))

    assert [row["id"] for row in first["items"]] == ["c-000", "c-100"]
    assert first["total"] is None
    assert first["note"] == (
        "The CRM did not apply account_id; each row was checked here; "
        "Stopped after reading 200 records (10 pages): more may match; "
        "at least 2 match (the CRM counts 300, but it did not apply account_id)"
    )
    assert first["next_call"] == "search_contacts(account_id='a-1', cursor='200')"
    assert [row["id"] for row in rest["items"]] == ["c-200"]
    assert rest["next_call"] is None
    assert route.call_count == 15


async def test_a_filter_the_crm_honours_costs_one_request(lax: Client, crm_api: respx.MockRouter) -> None:
    route = crm_api.get(CONTACTS).mock(side_effect=serve(contacts(300, 100), honours_account=True))

    page = ok(await lax.call_tool("search_contacts", {"account_id": "a-1"}))

    assert [row["id"] for row in page["items"]] == ["c-000", "c-100", "c-200"]
    assert (page["total"], page["note"]) == (3, None)
    assert route.call_count == 1
    assert route.calls.last.request.url.params["account"] == "a-1"
