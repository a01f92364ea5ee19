"""The tools end to end (SDK Client → server → adapter → Lava's gateway → the lax sandbox): a CRM that ignores search
and filters, hides where deals sit, lists stages as `{code, label, kind}` and reads only the newer era's write names.
Deals' stages and statuses come from the board, moves land in the deal's own pipeline, totals are never overstated,
contacts and invoices are stored whole, and the gateway's and the CRM's refusals read as who answered them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.sandbox import create_app
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("clean_environment")]

KEY = "lava_sk_contract_0123456789"
ORG = "demo"
GATEWAY_URL = "https://api.lava.so/v1/forward"
Fault = Callable[[httpx.Request, httpx.URL], httpx.Response | None]


class Gateway(httpx.AsyncBaseTransport):
    """Lava's gateway in front of an in-process CRM app: each request's `u` target is forwarded with its method, body
    and credential, unless a fault answers it first (`faults`: the gateway's or the CRM's own refusals, replayed);
    `mangle` may change a JSON body on its way (a CRM that stores less than it is sent)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.faults: list[Fault] = []
        self.mangle: Callable[[httpx.URL, Any], Any] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = httpx.URL(request.url.params["u"])
        for fault in self.faults:
            answer = fault(request, target)
            if answer is not None:
                return answer
        content = request.content
        if self.mangle is not None and content:
            content = json.dumps(self.mangle(target, json.loads(content))).encode()
        headers = {"authorization": request.headers["authorization"], "content-type": "application/json"}
        forwarded = httpx.Request(request.method, target, headers=headers, content=content)
        return await self.inner.handle_async_request(forwarded)


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    return result.structured_content


def _text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


@pytest.fixture
def apps() -> AsyncIterator[tuple[Starlette, Starlette]]:
    """The lax sandbox under test and a strict one holding the same demo org (the oracle for counts)."""
    today = datetime.now(UTC).date()
    lax = create_app(tokens={KEY: ORG}, seed="demo", dialect="django-crm", lax=True, today=today)
    strict = create_app(tokens={KEY: ORG}, seed="demo", today=today)
    yield lax, strict
    lax.state.sandbox.close()
    strict.state.sandbox.close()


@pytest.fixture
def gateway(apps: tuple[Starlette, Starlette]) -> Gateway:
    return Gateway(apps[0])


def _client(transport: httpx.AsyncBaseTransport, gateway_url: str | None) -> CrmClient:
    upstream = Upstream("https://lava-crm-api.fly.dev", SecretStr(KEY), gateway_url=gateway_url)
    return CrmClient(upstream, transport=transport, retry=RetryPolicy(max_attempts=1))


@pytest.fixture
async def tools(gateway: Gateway) -> AsyncIterator[Client]:
    async with _client(gateway, GATEWAY_URL) as crm, Client(build_server(Settings(), crm=crm)) as client:
        yield client


@pytest.fixture
async def oracle(apps: tuple[Starlette, Starlette]) -> AsyncIterator[Client]:
    """The same tools on the strict sandbox: filters applied by the CRM, deals carrying their placement."""
    async with (
        _client(httpx.ASGITransport(app=apps[1]), None) as crm,
        Client(build_server(Settings(), crm=crm)) as client,
    ):
        yield client


async def every_id(client: Client, tool: str, arguments: dict[str, Any]) -> list[str]:
    """Every matching id, following next_call to the end."""
    ids: list[str] = []
    page = ok(await client.call_tool(tool, {**arguments, "limit": 50}))
    for _ in range(20):
        ids += [row["id"] for row in page["items"]]
        if not page["next_call"]:
            return ids
        cursor = re.search(r"cursor='([^']+)'", page["next_call"])
        assert cursor is not None
        page = ok(await client.call_tool(tool, {**arguments, "limit": 50, "cursor": cursor.group(1)}))
    raise AssertionError(f"{tool} did not end")


def board_truth(app: Starlette) -> dict[str, tuple[str, str]]:
    """Deal id -> (stage id, stage type), from the sandbox's own tables."""
    rows = app.state.sandbox.conn.execute(
        "SELECT p.deal_id, s.id, s.stage_type FROM placements p JOIN stages s ON s.id = p.stage_id"
    )
    return {deal: (stage, kind) for deal, stage, kind in rows}


async def test_deal_rows_and_a_deal_show_the_board_stage_and_status(
    tools: Client, apps: tuple[Starlette, Starlette]
) -> None:
    rows = ok(await tools.call_tool("search_deals", {"limit": 50}))["items"]
    deal = ok(await tools.call_tool("get_deal", {"deal_id": rows[0]["id"]}))["record"]
    truth = board_truth(apps[0])  # the org is provisioned on its first request

    status = {"open": "open", "won": "won", "lost": "lost"}
    assert {row["id"]: (row["stage"]["id"], row["status"]) for row in rows} == {
        ident: (stage, status[kind]) for ident, (stage, kind) in truth.items()
    }
    assert (deal["stage"]["id"], deal["status"]) == (truth[deal["id"]][0], truth[deal["id"]][1])
    assert "stage" not in {key for key, value in deal.items() if value in ("PROSPECTING", "CLOSED_WON")}


@pytest.mark.parametrize("status", ["open", "won", "lost"])
async def test_a_status_filter_finds_every_deal_of_that_status_on_the_board(
    tools: Client, apps: tuple[Starlette, Starlette], status: str
) -> None:
    page = ok(await tools.call_tool("search_deals", {"status": status, "limit": 50}))

    expected = {ident for ident, (_, kind) in board_truth(apps[0]).items() if kind == status}

    assert {row["id"] for row in page["items"]} == expected
    assert page["total"] in (None, len(expected))


async def test_a_move_by_a_stage_name_both_pipelines_have_lands_in_the_deals_own_pipeline(
    tools: Client, apps: tuple[Starlette, Starlette]
) -> None:
    partner = ok(await tools.call_tool("search_deals", {"pipeline": "Partnerships", "status": "open"}))["items"][0]

    moved = await tools.call_tool("move_deal_to_stage", {"deal_id": partner["id"], "stage": "Negotiation"})

    stage, _ = board_truth(apps[0])[partner["id"]]
    pipeline = (
        apps[0]
        .state.sandbox.conn.execute(
            "SELECT p.name FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.id = ?", (stage,)
        )
        .fetchone()[0]
    )
    assert (ok(moved)["pipeline"]["name"], ok(moved)["to_stage_id"], pipeline) == (
        "Partnerships",
        stage,
        "Partnerships",
    )
    assert ok(moved)["from_stage"] == partner["stage"]["name"]


SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("search_contacts", {"query": "Lovelace"}),
    ("search_contacts", {"email": "hopper"}),
    ("search_deals", {"status": "open"}),
    ("search_deals", {"status": "won"}),
    ("search_deals", {"amount_min": "20000"}),
    ("search_accounts", {"status": "open"}),
    ("search_leads", {"status": "assigned"}),
    ("search_tasks", {"status": "open"}),
    ("search_cases", {"status": "open"}),
    ("search_invoices", {"unpaid": True}),
]


@pytest.mark.parametrize(("tool", "arguments"), SEARCHES, ids=[f"{tool}{args}" for tool, args in SEARCHES])
@pytest.mark.parametrize("limit", [2, 50])
async def test_totals_are_never_overstated(
    tools: Client, oracle: Client, tool: str, arguments: dict[str, Any], limit: int
) -> None:
    true = len(await every_id(oracle, tool, arguments))

    page = ok(await tools.call_tool(tool, {**arguments, "limit": limit}))
    at_least = re.search(r"at least (\d+) match", page["note"] or "")

    assert page["total"] in (None, true), page
    assert page["total"] is not None or at_least is not None or page["has_more"]
    assert int(at_least.group(1)) <= true if at_least else True
    assert len(page["items"]) <= true
    assert sorted(await every_id(tools, tool, arguments)) == sorted(await every_id(oracle, tool, arguments))


async def test_account_contacts_are_counted_only_when_read_to_the_end(tools: Client, oracle: Client) -> None:
    account = ok(await oracle.call_tool("search_accounts", {"query": "Hopper"}))["items"][0]["id"]
    true = await every_id(oracle, "search_contacts", {"account_id": account})

    page = ok(await tools.call_tool("search_contacts", {"account_id": account, "limit": 1}))

    assert page["total"] in (None, len(true))
    assert "The CRM did not apply account_id" in (page["note"] or "")
    assert page["items"][0]["id"] in true


async def test_a_contact_is_created_with_its_email_and_phone(tools: Client, apps: tuple[Starlette, Starlette]) -> None:
    body = {
        "first_name": "Katherine",
        "last_name": "Johnson",
        "primary_email": "kj@nasa.example",
        "mobile_number": "+1 757 555 0100",
    }

    made = ok(await tools.call_tool("create_contact", body))
    again = ok(
        await tools.call_tool("create_contact", {**body, "first_name": "Kay", "primary_email": "kay@nasa.example"})
    )

    for result, email in ((made, "kj@nasa.example"), (again, "kay@nasa.example")):
        record = result["record"]
        assert (record["primary_email"], record["mobile_number"]) == (email, "+1 757 555 0100")
        assert not any("Not stored" in note for note in result["notes"])
        stored = apps[0].state.sandbox.conn.execute("SELECT data FROM records WHERE id = ?", (record["id"],)).fetchone()
        assert json.loads(stored[0])["primary_email"] == email


async def test_an_invoice_is_created_with_its_account_contact_and_amount(tools: Client) -> None:
    contact = next(
        row for row in ok(await tools.call_tool("search_contacts", {"limit": 50}))["items"] if row["account"]
    )
    body = {
        "invoice_title": "Q3 support",
        "account": contact["account"]["id"],
        "contact": contact["id"],
        "amount": "1200.00",
        "currency": "EUR",
    }

    made = ok(await tools.call_tool("create_invoice", body))["record"]

    assert (made["account"]["id"], made["contact"]["id"], made["amount"]) == (
        body["account"],
        body["contact"],
        "1200.00",
    )


async def test_a_field_the_crm_stores_under_neither_name_is_named_in_the_result(
    tools: Client, gateway: Gateway
) -> None:
    gateway.mangle = lambda _, body: {
        key: value for key, value in body.items() if key not in ("phone", "mobile_number")
    }

    result = ok(
        await tools.call_tool(
            "create_contact", {"first_name": "Mary", "last_name": "Jackson", "mobile_number": "+1 555 0199"}
        )
    )

    assert result["record"]["mobile_number"] is None
    assert "Not stored by the CRM: mobile_number (also sent as phone)." in " ".join(result["notes"])


GATEWAY_402: list[dict[str, Any]] = [
    {"json": {"error": "Insufficient balance"}},
    {"json": {"message": "Insufficient balance"}},
    {"json": {"detail": "Insufficient balance"}},
    {"text": "Insufficient balance"},
]


@pytest.mark.parametrize("body", GATEWAY_402, ids=["error", "message", "detail", "text"])
async def test_the_gateways_402_in_any_of_four_shapes_says_top_up(
    tools: Client, gateway: Gateway, body: dict[str, Any]
) -> None:
    gateway.faults.append(lambda request, target: httpx.Response(402, **body))

    said = _text(await tools.call_tool("search_contacts", {"query": "Lovelace"}))

    assert "Lava's gateway refused the contacts list" in said
    assert "the Lava balance is insufficient" in said
    assert "Top up the Lava balance first; do not retry before that" in said


async def test_a_role_403_reads_as_a_permission_of_this_user(tools: Client, gateway: Gateway) -> None:
    refusal = httpx.Response(403, json={"detail": "Only admins can change deal pipelines."})
    gateway.faults.append(lambda request, target: refusal if request.method == "POST" else None)

    result = await tools.call_tool("create_pipeline", {"name": "Renewals"})

    assert result.is_error
    assert "because this user may not do it (HTTP 403: Only admins can change deal pipelines)" in _text(result)
    assert "LAVA_SECRET_KEY" not in _text(result)


async def test_a_402_on_the_fourth_page_keeps_the_rows_read_and_gives_the_cursor_to_go_on(
    tools: Client, gateway: Gateway, apps: tuple[Starlette, Starlette]
) -> None:
    account = ok(await tools.call_tool("search_accounts", {"query": "Babbage"}))["items"][0]["id"]
    for n in range(60):  # newest first: three pages of new contacts, every tenth on the account
        extra = {"account": account} if n % 10 == 0 else {}
        ok(await tools.call_tool("create_contact", {"first_name": "Filler", "last_name": f"No{n:02}", **extra}))
    broke = httpx.Response(402, json={"error": "Insufficient balance"})
    gateway.faults.append(lambda request, target: broke if target.params.get("offset") == "60" else None)

    page = ok(await tools.call_tool("search_contacts", {"account_id": account, "limit": 20}))
    gateway.faults.clear()  # topped up
    assert page["next_call"] is not None
    rest = ok(await tools.call_tool("search_contacts", {"account_id": account, "limit": 20, "cursor": "60"}))

    assert [row["last_name"] for row in page["items"]] == [f"No{n:02}" for n in range(50, -1, -10)]
    assert "Reading stopped at row 61: Lava's gateway refused the contacts list" in page["note"]
    assert "The 6 matching rows read before are kept" in page["note"]
    assert "cursor='60'" in page["next_call"]
    assert rest["items"]
    assert {row["last_name"] for row in rest["items"]}.isdisjoint({row["last_name"] for row in page["items"]})


async def test_a_pipeline_list_of_code_label_kind_stages_lists_and_a_deal_moves_by_its_code(
    tools: Client, apps: tuple[Starlette, Starlette]
) -> None:
    listed = ok(await tools.call_tool("list_pipelines", {}))
    sales = next(p for p in listed["pipelines"] if p["is_default"])
    won = next(stage for stage in sales["stages"] if stage["stage_type"] == "won")
    deal = ok(await tools.call_tool("search_deals", {"pipeline": sales["id"], "status": "open"}))["items"][0]

    moved = ok(await tools.call_tool("move_deal_to_stage", {"deal_id": deal["id"], "stage": won["id"]}))

    assert [stage["name"] for stage in sales["stages"]][-2:] == ["Won", "Lost"]
    assert (moved["to_stage"], moved["is_closed"], moved["outcome"]) == ("Won", True, "won")
    assert board_truth(apps[0])[deal["id"]] == (won["id"], "won")


Check = Callable[[Client], Any]
