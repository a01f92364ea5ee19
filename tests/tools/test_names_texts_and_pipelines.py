"""Names where ids were asked, whole texts and pipelines in one call, through the tools on the demo sandbox: a
relation filter given an account's name (and an ambiguous or unknown one listed, never guessed), a 9,999-character
description read whole, a pipeline created with its stages in order, and deal rows naming their pipeline."""

from __future__ import annotations

import httpx
import pytest
from call_results import failed, ok, text
from demo_org import ids
from mcp import Client
from tool_clients import Connect, crm_client

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio


async def test_deals_are_searched_by_their_account_name(client: Client) -> None:
    by_id = ok(await client.call_tool("search_deals", {"account_id": (await ids(client, "accounts"))["Curie Biolabs"]}))

    by_name = ok(await client.call_tool("search_deals", {"account_id": "curie biolabs"}))

    assert by_name["total"] == by_id["total"] > 0
    assert [row["id"] for row in by_name["items"]] == [row["id"] for row in by_id["items"]]


async def test_an_ambiguous_or_unknown_name_is_listed_never_guessed(client: Client) -> None:
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Marie", "last_name": "Curie", "primary_email": "m@zq.example"}
        )
    )

    ambiguous = failed(await client.call_tool("search_tasks", {"contact_id": "Marie Curie"}))
    unknown = failed(await client.call_tool("search_deals", {"account_id": "Zq No Such Company"}))

    assert "2 contacts are named 'Marie Curie'" in ambiguous
    assert "no account has the id or name 'Zq No Such Company'" in unknown
    assert "search_accounts(query='Zq No Such Company')" in unknown


async def test_a_write_names_its_links_by_name_and_an_ambiguous_or_unknown_one_writes_nothing(client: Client) -> None:
    accounts, contacts = await ids(client, "accounts"), await ids(client, "contacts")
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Marie", "last_name": "Curie", "primary_email": "m@zq.example"}
        )
    )
    before = ok(await client.call_tool("search_deals", {"limit": 1}))["total"]

    made = ok(
        await client.call_tool(
            "create_deal", {"name": "Zq named", "account": "babbage & co", "contacts": ["Ada Lovelace"]}
        )
    )["record"]
    moved = ok(await client.call_tool("update_deal", {"deal_id": made["id"], "account": "Hopper Systems Inc"}))
    ambiguous = failed(await client.call_tool("create_deal", {"name": "Zq two", "contacts": ["Marie Curie"]}))
    unknown = failed(await client.call_tool("create_deal", {"name": "Zq three", "account": "Zq No Such Company"}))

    assert (made["account"]["id"], [c["id"] for c in made["contacts"]]) == (
        accounts["Babbage & Co"],
        [contacts["Ada Lovelace"]],
    )
    assert moved["record"]["account"]["id"] == accounts["Hopper Systems Inc"]
    assert "contacts: 2 contacts are named 'Marie Curie'" in ambiguous
    assert "account: no account has the id or name 'Zq No Such Company'" in unknown
    assert ok(await client.call_tool("search_deals", {"limit": 1}))["total"] == before + 1


async def test_a_record_is_got_by_its_name_and_an_ambiguous_name_lists_them(client: Client) -> None:
    account, marie = (
        (await ids(client, "accounts"))["Analytical Engines Ltd"],
        (await ids(client, "contacts"))["Marie Curie"],
    )
    other = ok(await client.call_tool("create_contact", {"first_name": "Marie", "last_name": "Curie"}))["record"]["id"]

    got = ok(await client.call_tool("get_account", {"account_id": "analytical engines ltd"}))
    ambiguous = failed(await client.call_tool("get_contact", {"contact_id": "Marie Curie"}))

    assert (got["record"]["id"], got["related"]["contacts"]["total"]) == (account, 3)
    assert "contact_id: 2 contacts are named 'Marie Curie'" in ambiguous
    assert marie in ambiguous
    assert other in ambiguous


async def test_a_new_contact_that_is_likely_an_existing_one_says_so_with_the_merge_call(client: Client) -> None:
    irene = (await ids(client, "contacts"))["Irene Joliot"]
    twin = {"first_name": "Irène", "last_name": "JOLIOT", "primary_email": "ij@zq.example", "account": "Curie Biolabs"}

    made = ok(await client.call_tool("create_contact", twin))
    elsewhere = ok(
        await client.call_tool("create_contact", twin | {"primary_email": "ij2@zq.example", "account": None})
    )

    merge = f"merge_contacts(keep_id='{irene}', merge_id='{made['record']['id']}')"
    assert made["notes"] == [
        f"Likely the same contact as Irene Joliot ({irene}): the same name at the same account. If so: {merge}."
    ]
    assert elsewhere["notes"] == []  # a namesake at no account is not taken for her


async def test_a_long_description_is_cut_in_results_and_read_whole_on_request(client: Client) -> None:
    text = "".join(f"{n:05} renewal terms. " for n in range(480))[:9_999]
    deal = ok(await client.call_tool("create_deal", {"name": "Zq long terms", "description": text}))["record"]["id"]

    shown = ok(await client.call_tool("get_deal", {"deal_id": deal}))
    whole = ok(await client.call_tool("read_description", {"record_id": deal}))
    rest = ok(await client.call_tool("read_description", {"record_id": deal, "start": 9_000}))
    past = failed(await client.call_tool("read_description", {"record_id": deal, "start": 10_000}))

    assert len(text) == 9_999
    assert f"read_description(record_id='{deal}')" in " ".join(shown["notes"])
    assert (whole["text"], whole["length"], whole["more"]) == (text, 9_999, None)
    assert (rest["start"], rest["text"]) == (9_000, text[9_000:])
    assert "9,999 characters" in past


async def open_stages(client: Client, pipeline: str) -> list[str]:
    pipelines = ok(await client.call_tool("list_pipelines", {}))["pipelines"]
    stages = next(item for item in pipelines if item["name"] == pipeline)["stages"]
    return [stage["name"] for stage in stages if stage["stage_type"] == "open"]


@pytest.mark.parametrize(
    "stages",
    [
        ["Discovery", "Demo", "Trial", "Proposal", "Contract"],
        ["Proposal", "Qualification"],
        ["Qualified", "Proposal", "Negotiation", "Prospecting"],
    ],
)
async def test_a_pipeline_is_created_with_its_stages_in_order_in_one_call(client: Client, stages: list[str]) -> None:
    made = ok(await client.call_tool("create_pipeline", {"name": "Zq Partners", "stages": stages}))

    names = [stage["name"] for stage in made["pipeline"]["stages"]]
    assert names == [*stages, "Won", "Lost"]
    assert await open_stages(client, "Zq Partners") == stages


async def test_a_pipeline_with_won_or_a_repeated_stage_is_refused_before_anything_is_made(client: Client) -> None:
    won = failed(await client.call_tool("create_pipeline", {"name": "Zq Bad", "stages": ["Demo", "won"]}))
    twice = failed(await client.call_tool("create_pipeline", {"name": "Zq Bad", "stages": ["Demo", "demo"]}))
    names = [item["name"] for item in ok(await client.call_tool("list_pipelines", {}))["pipelines"]]

    assert "Won and Lost" in won
    assert "give each stage once" in twice
    assert "Zq Bad" not in names


async def test_an_added_stage_says_where_it_landed(client: Client) -> None:
    before = await open_stages(client, "Sales Pipeline")

    result = await client.call_tool("add_stage", {"name": "Zq Contacted", "pipeline": "Sales Pipeline"})

    assert (ok(result)["position"], ok(result)["after"]) == (len(before) + 1, before[-1])
    assert "no reordering" in text(result)


async def test_deal_rows_name_their_pipeline_when_the_org_has_several(client: Client) -> None:
    ok(
        await client.call_tool(
            "create_deal", {"name": "Zq partner deal", "pipeline": "Partnerships", "stage": "Contacted"}
        )
    )

    several = await client.call_tool("search_deals", {"query": "Zq partner deal"})
    mixed = await client.call_tool("search_deals", {"limit": 50})

    assert ok(several)["items"][0]["pipeline"]["name"] == "Partnerships"
    assert "; in Partnerships." in text(several)
    assert "; in Sales Pipeline unless a [pipeline] is named." in text(mixed)
    assert "| Contacted [Partnerships] |" in text(mixed)


async def test_deal_rows_leave_the_pipeline_out_when_the_org_has_one(connect: Connect) -> None:
    app = create_app()
    try:
        async with crm_client(httpx.ASGITransport(app=app)) as crm, connect(crm=crm) as client:
            ok(await client.call_tool("create_deal", {"name": "Zq only deal"}))
            found = await client.call_tool("search_deals", {})
    finally:
        app.state.sandbox.close()

    assert ok(found)["items"][0]["pipeline"] is None
    assert "Sales Pipeline" not in text(found)
