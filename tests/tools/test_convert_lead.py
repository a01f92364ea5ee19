"""convert_lead: a demo lead becomes an account, a contact and (optionally) a deal in a named stage, each found
before it is made, so a repeated call — or one repeated after a lost answer — creates nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from call_results import failed, ok, text
from demo_org import IdOf, ids, resolve
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN

pytestmark = pytest.mark.anyio

TESLA = IdOf("leads", "Fleet tracking pilot")  # Nikola Tesla, Tesla Coils Ltd, 12000.00
LISKOV = IdOf("leads", "Data warehouse migration")  # Barbara Liskov, Liskov Data, 45000.00
TESLA_EMAIL = "nikola.tesla@tesla.example"
BASE_URL = "http://sandbox.test"
Connect = Callable[..., Client]


async def convert(client: Client, **arguments: Any) -> CallToolResult:
    return await client.call_tool("convert_lead", await resolve(client, arguments))


async def counts(client: Client) -> tuple[int, int, int]:
    """How many accounts, contacts and deals the org has."""
    plurals = ("accounts", "contacts", "deals")
    totals = [ok(await client.call_tool(f"search_{plural}", {"limit": 1}))["total"] for plural in plurals]
    return totals[0], totals[1], totals[2]


def steps(result: CallToolResult) -> list[tuple[str, str | None, str]]:
    return [(s["kind"], s["record"]["name"] if s["record"] else None, s["outcome"]) for s in ok(result)["steps"]]


def step_ids(result: CallToolResult) -> dict[str, str]:
    return {s["kind"]: s["record"]["id"] for s in ok(result)["steps"] if s["record"]}


async def record(client: Client, noun: str, record_id: str) -> dict[str, Any]:
    return ok(await client.call_tool(f"get_{noun}", {f"{noun}_id": record_id}))["record"]


async def test_a_lead_becomes_an_account_a_contact_and_a_deal_in_the_named_stage_and_is_marked_converted(
    client: Client,
) -> None:
    before = await counts(client)

    result = await convert(client, lead_id=TESLA, deal_name="Fleet pilot", stage="Qualification", currency="EUR")

    assert steps(result) == [
        ("account", "Tesla Coils Ltd", "created"),
        ("contact", "Nikola Tesla", "created"),
        ("deal", "Fleet pilot", "created, in stage Qualification"),
        ("lead", "Fleet tracking pilot", "marked converted"),
    ]
    made = step_ids(result)
    assert text(result).splitlines() == [
        f"Converted lead {made['lead']} (Fleet tracking pilot):",
        f"  account Tesla Coils Ltd ({made['account']}): created",
        f"  contact Nikola Tesla ({made['contact']}): created",
        f"  deal Fleet pilot ({made['deal']}): created, in stage Qualification",
        f"  lead Fleet tracking pilot ({made['lead']}): marked converted",
    ]
    assert await counts(client) == (before[0] + 1, before[1] + 1, before[2] + 1)
    contact = await record(client, "contact", made["contact"])
    assert (contact["first_name"], contact["last_name"], contact["primary_email"], contact["account"]) == (
        "Nikola",
        "Tesla",
        TESLA_EMAIL,
        {"id": made["account"], "name": "Tesla Coils Ltd"},
    )
    deal = await record(client, "deal", made["deal"])
    assert (deal["name"], deal["amount"], deal["currency"]) == ("Fleet pilot", "12000.00", "EUR")
    assert (deal["pipeline"]["name"], deal["stage"]["name"], deal["status"], deal["account"]["id"]) == (
        "Sales Pipeline",
        "Qualification",
        "open",
        made["account"],
    )
    assert deal["contacts"] == [{"id": made["contact"], "name": "Nikola Tesla"}]
    assert (await record(client, "lead", made["lead"]))["status"] == "converted"


async def test_the_deal_currency_may_be_given_in_lower_case(client: Client) -> None:
    result = await convert(client, lead_id=TESLA, deal_name="Fleet pilot", currency="eur")

    assert (await record(client, "deal", step_ids(result)["deal"]))["currency"] == "EUR"


async def test_converting_the_same_lead_again_creates_nothing_and_says_what_it_reused(client: Client) -> None:
    arguments: dict[str, Any] = {"lead_id": TESLA, "deal_name": "Fleet pilot", "stage": "Qualification"}
    first = await convert(client, **arguments)
    after_first = await counts(client)

    again = await convert(client, **arguments)

    assert steps(again) == [
        ("account", "Tesla Coils Ltd", "reused: an account has this name"),
        ("contact", "Nikola Tesla", "reused: it has the lead's email"),
        ("deal", "Fleet pilot", "reused, in stage Qualification"),
        ("lead", "Fleet tracking pilot", "already converted"),
    ]
    assert step_ids(again) == step_ids(first)
    assert await counts(client) == after_first


async def test_an_account_with_the_company_name_in_any_case_is_reused(client: Client) -> None:
    new_lead = {"title": "Compiler upsell", "first_name": "Betty", "last_name": "Holberton"}
    new_lead |= {"email": "betty@holberton.example", "account_name": "HOPPER systems inc"}
    lead = ok(await client.call_tool("create_lead", new_lead))["record"]
    hopper = (await ids(client, "accounts"))["Hopper Systems Inc"]
    before = await counts(client)

    result = await convert(client, lead_id=lead["id"])

    assert steps(result) == [
        ("account", "Hopper Systems Inc", "reused: an account has this name"),
        ("contact", "Betty Holberton", "created"),
        ("lead", "Compiler upsell", "marked converted"),
    ]
    assert step_ids(result)["account"] == hopper
    assert (await record(client, "contact", step_ids(result)["contact"]))["account"]["id"] == hopper
    assert await counts(client) == (before[0], before[1] + 1, before[2])


async def test_a_contact_with_the_lead_email_is_reused_and_linked_to_the_account(client: Client) -> None:
    existing = ok(
        await client.call_tool(
            "create_contact", {"first_name": "Nik", "last_name": "Tesla", "primary_email": "Nikola.Tesla@TESLA.example"}
        )
    )["record"]
    before = await counts(client)

    result = await convert(client, lead_id=TESLA)

    assert steps(result) == [
        ("account", "Tesla Coils Ltd", "created"),
        ("contact", "Nik Tesla", "reused: it has the lead's email"),
        ("lead", "Fleet tracking pilot", "marked converted"),
    ]
    made = step_ids(result)
    assert made["contact"] == existing["id"]
    assert (await record(client, "contact", existing["id"]))["account"] == {
        "id": made["account"],
        "name": "Tesla Coils Ltd",
    }
    assert await counts(client) == (before[0] + 1, before[1], before[2])


async def test_a_namesake_with_another_email_is_not_reused_but_named_for_a_merge(client: Client) -> None:
    namesake = ok(
        await client.call_tool(
            "create_contact", {"first_name": "Nikola", "last_name": "Tesla", "primary_email": "nt@elsewhere.example"}
        )
    )["record"]["id"]
    first = ok(await convert(client, lead_id=TESLA))["steps"]
    account = first[0]["record"]["id"]
    ok(await client.call_tool("update_contact", {"contact_id": namesake, "account": account}))
    lead = {"title": "Zq second pilot", "first_name": "Nikola", "last_name": "Tesla", "email": "n.tesla@zq.example"}
    second = ok(await client.call_tool("create_lead", lead | {"account_name": "Tesla Coils Ltd"}))["record"]["id"]

    outcome = ok(await convert(client, lead_id=second))["steps"][1]

    assert outcome["record"]["id"] not in (namesake, first[1]["record"]["id"])
    assert outcome["outcome"].startswith("created (contact ")
    assert "merge_contacts(keep_id=" in outcome["outcome"]


async def test_a_reused_contact_says_which_lead_values_it_did_not_copy(client: Client) -> None:
    existing = {
        "first_name": "Ada",
        "last_name": "Zq",
        "primary_email": "ada@zq.example",
        "mobile_number": "+1 555 0100",
    }
    contact = ok(await client.call_tool("create_contact", existing))["record"]["id"]
    lead = {"title": "Zq pilot", "first_name": "Ada", "last_name": "Zq", "email": "ADA@zq.example"}
    lead |= {"phone": "+44 20 7946 0999", "account_name": "Zq Engines"}
    lead_id = ok(await client.call_tool("create_lead", lead))["record"]["id"]

    outcome = ok(await convert(client, lead_id=lead_id))["steps"][1]

    assert outcome["record"]["id"] == contact
    assert outcome["outcome"] == (
        "reused: it has the lead's email; not copied from the lead: phone '+44 20 7946 0999' (the contact keeps "
        "'+1 555 0100')"
    )


async def test_the_deal_can_go_into_a_custom_stage_of_another_pipeline_named_with_pipeline(client: Client) -> None:
    result = await convert(client, lead_id=LISKOV, stage="contacted", pipeline="Partnerships")

    assert steps(result)[2] == ("deal", "Data warehouse migration", "created, in stage Contacted")
    deal = await record(client, "deal", step_ids(result)["deal"])
    assert (deal["pipeline"]["name"], deal["stage"]["name"], deal["amount"]) == (
        "Partnerships",
        "Contacted",
        "45000.00",
    )
    board = ok(await client.call_tool("get_pipeline_board", {"pipeline": "Partnerships"}))
    contacted = next(stage for stage in board["stages"] if stage["name"] == "Contacted")
    assert step_ids(result)["deal"] in [card["id"] for card in contacted["deals"]]


@pytest.mark.parametrize(
    ("stage", "says"),
    [
        ("Qualifikation", "No stage 'Qualifikation' in pipeline 'Sales Pipeline'. Did you mean 'Qualification'?"),
        ("Contacted", "Stage 'Contacted' is in pipeline 'Partnerships', not in the default pipeline 'Sales Pipeline'"),
    ],
)
async def test_a_bad_stage_is_refused_before_anything_is_created(client: Client, stage: str, says: str) -> None:
    before = await counts(client)

    message = failed(await convert(client, lead_id=TESLA, deal_name="Fleet pilot", stage=stage))

    assert message.startswith(f"Error executing tool convert_lead: {says}")
    assert await counts(client) == before
    assert "Tesla Coils Ltd" not in await ids(client, "accounts")
    assert (await record(client, "lead", (await resolve(client, {"id": TESLA}))["id"]))["status"] == "assigned"


async def test_a_lead_without_a_company_needs_an_account_name(client: Client) -> None:
    lead = ok(await client.call_tool("create_lead", {"title": "Walk-in", "first_name": "Ida", "last_name": "Rhodes"}))
    lead_id = lead["record"]["id"]
    before = await counts(client)

    message = failed(await convert(client, lead_id=lead_id))

    assert message == (
        f"Error executing tool convert_lead: Lead {lead_id} has no company (account_name): pass account_name to say "
        "which account."
    )
    assert await counts(client) == before
    named = await convert(client, lead_id=lead_id, account_name="Rhodes Computing")
    assert steps(named)[0] == ("account", "Rhodes Computing", "created")


class LoseFirstContactAnswer(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, except that the first new contact is made but its answer never arrives."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/api/contacts/" and not self.lost:
            await response.aread()
            self.lost = response.status_code
            raise httpx.ReadTimeout("timed out", request=request)
        return response


@pytest.fixture
async def lossy_crm(sandbox: Starlette) -> AsyncIterator[tuple[CrmClient, LoseFirstContactAnswer]]:
    transport = LoseFirstContactAnswer(sandbox)
    upstream = Upstream(BASE_URL, SecretStr(SANDBOX_TOKEN))
    async with CrmClient(upstream, transport=transport, retry=RetryPolicy(max_attempts=1)) as crm:
        yield crm, transport


async def test_after_a_lost_answer_calling_again_finishes_the_conversion_without_duplicates(
    connect: Connect, lossy_crm: tuple[CrmClient, LoseFirstContactAnswer]
) -> None:
    crm, transport = lossy_crm
    async with connect(crm=crm) as client:
        arguments: dict[str, Any] = {"lead_id": TESLA, "deal_name": "Fleet pilot", "stage": "Negotiation"}

        message = failed(await convert(client, **arguments))
        assert transport.lost == 201  # the CRM made the contact; only its answer was lost
        account = (await ids(client, "accounts"))["Tesla Coils Ltd"]
        assert message.startswith("Error executing tool convert_lead: Converting the lead stopped at the contact: ")
        assert "ReadTimeout" in message
        assert message.endswith(
            f"Done so far: account {account} (created). Call convert_lead again with the same arguments: it reuses "
            "what exists and creates nothing twice."
        )

        result = await convert(client, **arguments)

        assert steps(result) == [
            ("account", "Tesla Coils Ltd", "reused: an account has this name"),
            ("contact", "Nikola Tesla", "reused: it has the lead's email"),
            ("deal", "Fleet pilot", "created, in stage Negotiation"),
            ("lead", "Fleet tracking pilot", "marked converted"),
        ]
        accounts = ok(await client.call_tool("search_accounts", {"query": "Tesla Coils"}))["items"]
        contacts = ok(await client.call_tool("search_contacts", {"email": TESLA_EMAIL}))["items"]
        deals = ok(await client.call_tool("search_deals", {"query": "Fleet pilot"}))["items"]
        assert [row["id"] for row in accounts] == [account]
        assert [row["id"] for row in contacts] == [step_ids(result)["contact"]]
        assert [(row["id"], row["stage"]["name"]) for row in deals] == [(step_ids(result)["deal"], "Negotiation")]
        assert (await record(client, "lead", step_ids(result)["lead"]))["status"] == "converted"
