"""Replies in the shapes of the wider Django-CRM family and of Lava's gateway, which our sandbox's `drf` dialect never
sends (respx, both routes): paging that repeats or only links onward, a search the CRM ignores, kanban boards, field
names of the other API generation, one unreadable field, nested acknowledgements, gateway errors and redirects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import (
    CrmAuthError,
    CrmClient,
    CrmError,
    CrmInvalid,
    CrmPaymentRequired,
    CrmProtocolError,
    RetryPolicy,
)

pytestmark = pytest.mark.anyio

CRM = "https://lava-crm-api.fly.dev/api"
Handler = Callable[[httpx.URL, httpx.Request], httpx.Response]


@pytest.fixture
def serve(crm_api: respx.MockRouter, target_of: Callable[[httpx.Request], str]) -> Callable[[Handler], respx.Route]:
    """Answer every request through `handler(crm_url, request)`, whichever route carried it."""

    def install(handler: Handler) -> respx.Route:
        return crm_api.route().mock(side_effect=lambda request: handler(httpx.URL(target_of(request)), request))

    return install


def contacts(n: int) -> list[dict[str, Any]]:
    return [{"id": f"c-{i:02}", "first_name": f"Ada{i:02}", "last_name": "King"} for i in range(n)]


def offset_of(url: httpx.URL) -> int:
    return int(url.params.get("offset", "0"))


# ---- paging -------------------------------------------------------------------------------------------------------


async def test_a_list_that_repeats_its_first_page_is_caught_and_the_walk_stops_saying_so(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    rows = contacts(45)
    stuck = {"count": 45, "next": f"{CRM}/contacts/?page=2", "results": rows[:20]}
    route = serve(lambda url, _: httpx.Response(200, json=stuck))

    found = await client.search("contacts", limit=50)

    assert [row.id for row in found.items] == [row["id"] for row in rows[:20]]
    assert (found.repeated, found.next, found.total) == (True, None, None)
    assert route.call_count == 2


async def test_the_next_link_is_followed_by_its_offset(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    rows, asked = contacts(45), list[httpx.URL]()

    def offsets(url: httpx.URL, _: httpx.Request) -> httpx.Response:
        asked.append(url)
        start, size = offset_of(url), 10  # this server keeps its own page size, whatever limit says
        following = f"{CRM}/contacts/?limit=10&offset={start + size}" if start + size < 45 else None
        return httpx.Response(200, json={"count": 45, "next": following, "results": rows[start : start + size]})

    serve(offsets)
    found = await client.search("contacts", limit=50)

    assert [row.id for row in found.items] == [row["id"] for row in rows]
    assert (found.total, found.repeated) == (45, False)
    assert [offset_of(url) for url in asked] == [0, 10, 20, 30, 40]


async def test_a_page_link_that_echoes_our_offset_is_read_by_its_page(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    rows = contacts(45)

    def pages(url: httpx.URL, _: httpx.Request) -> httpx.Response:
        page = int(url.params.get("page", "1"))
        more = page * 20 < 45
        following = str(url.copy_set_param("page", page + 1)) if more else None  # keeps our offset=… as it was
        return httpx.Response(200, json={"count": 45, "next": following, "results": rows[(page - 1) * 20 : page * 20]})

    serve(pages)
    found = await client.search("contacts", limit=50)

    assert [row.id for row in found.items] == [row["id"] for row in rows]


async def test_a_count_without_a_next_link_still_reads_every_row(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    rows = contacts(25)
    serve(lambda url, _: httpx.Response(200, json={"count": 25, "results": rows[offset_of(url) :][:10]}))

    found = await client.search("contacts", limit=50)

    assert len(found.items) == 25
    assert found.total == 25


async def test_pipelines_are_listed_once_each_when_the_crm_repeats_a_page(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    one = {"id": "p-1", "name": "Sales", "is_default": True, "stages": []}
    route = serve(lambda url, _: httpx.Response(200, json={"count": 3, "next": "x?page=2", "results": [one]}))

    pipelines = await client.pipelines.list()

    assert [p.id for p in pipelines] == ["p-1"]
    assert route.call_count == 2


async def test_a_search_the_crm_ignores_returns_only_real_matches_and_says_the_query_was_checked_here(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    accounts = [{"id": f"a-{i}", "name": name} for i, name in enumerate(["Acme", "Initech", "Acme Labs", "Globex"])]
    serve(lambda url, _: httpx.Response(200, json={"count": 4, "next": None, "results": accounts}))

    found = await client.search("accounts", text="acme")

    assert [row.id for row in found.items] == ["a-0", "a-2"]
    assert (found.ignored, found.total) == (["query"], 2)


# ---- boards -------------------------------------------------------------------------------------------------------

KANBAN = {
    "mode": "stage",
    "pipeline": {"id": "p-1", "name": "Sales", "is_default": True},
    "columns": [
        {"id": "s-1", "name": "New", "order": 1, "item_count": 1, "items": [{"id": "d-1", "name": "Big deal"}]},
        {"id": "s-2", "name": "Won", "order": 2, "is_won": True, "cards": []},
        {"id": "s-3", "name": "Lost", "order": 3, "kind": "lost", "items": []},
    ],
}


async def test_a_kanban_board_of_columns_and_items_reads_as_the_board(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    serve(lambda url, _: httpx.Response(200, json=KANBAN))

    board = await client.pipelines.board("p-1")

    assert [(s.name, s.stage_type, s.deal_count) for s in board.stages] == [
        ("New", "open", 1),
        ("Won", "won", None),
        ("Lost", "lost", None),
    ]
    assert [card.name for card in board.stages[0].deals] == ["Big deal"]


async def test_a_move_by_stage_id_works_on_a_kanban_board(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    deal = {"id": "d-1", "name": "Big deal", "pipeline": "p-1", "pipeline_stage": "s-1"}
    sent: list[Any] = []

    def crm(url: httpx.URL, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            sent.append(json.loads(request.content))
            return httpx.Response(200, json={**deal, "pipeline_stage": "s-2"})
        if url.path.endswith("/opportunities/d-1/"):
            return httpx.Response(200, json=deal)
        if "board" in url.path:
            return httpx.Response(200, json=KANBAN)
        return httpx.Response(200, json={"count": 1, "results": [KANBAN["pipeline"] | {"stages": KANBAN["columns"]}]})

    serve(crm)
    move = await client.pipelines.move_deal_to_stage("d-1", "s-2")

    assert sent == [{"stage_id": "s-2"}]
    assert (move.from_stage and move.from_stage.name, move.to_stage.name) == ("New", "Won")


async def test_a_board_of_an_unknown_shape_fails_naming_what_it_found(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    serve(lambda url, _: httpx.Response(200, json={"pipeline": KANBAN["pipeline"], "lanes": []}))

    with pytest.raises(CrmProtocolError) as caught:
        await client.pipelines.board("p-1")

    assert "lanes" in str(caught.value)


# ---- fields -------------------------------------------------------------------------------------------------------


async def test_other_generation_field_names_read_into_one_model(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    acme = {"id": "a-1", "name": "Acme"}
    bodies = {
        "contacts": {"id": "c-1", "first_name": "Ada", "email": "ada@example.com", "phone": "+44 1", "account": acme},
        "invoices": {"id": "i-1", "invoice_title": "Q4", "total_amount": "12.50", "account_id": "a-1"},
    }
    serve(lambda url, _: httpx.Response(200, json=bodies[url.path.split("/")[2]]))

    contact = await client.records("contacts").get("c-1")
    invoice = await client.records("invoices").get("i-1")

    assert (contact.primary_email, contact.mobile_number, contact.account) == ("ada@example.com", "+44 1", "a-1")
    assert contact.labels == {"a-1": "Acme"}
    assert (str(invoice.amount), invoice.account) == ("12.50", "a-1")


async def test_one_unreadable_field_leaves_that_value_blank_and_keeps_the_page(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    deals = [
        {"id": "d-1", "name": "Fine", "probability": 25, "pipeline_stage": "s-1"},
        {"id": "d-2", "name": "Odd", "probability": "25.5", "amount": "100.00", "pipeline_stage": "s-1"},
    ]
    serve(lambda url, _: httpx.Response(200, json={"count": 2, "next": None, "results": deals}))

    page = await client.records("opportunities").list()

    assert [(row.name, row.probability) for row in page.items] == [("Fine", 25), ("Odd", None)]
    assert (page.items[0].unreadable, page.items[1].unreadable) == ({}, {"probability": "25.5"})
    assert str(page.items[1].amount) == "100.00"


async def test_a_created_record_nested_under_its_noun_counts_as_the_record(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    invoice = {"id": "i-9", "invoice_title": "Q4", "amount": "10.00"}
    ack = {"error": False, "message": "Invoice created Successfuly", "invoice": invoice}
    route = serve(lambda url, _: httpx.Response(201, json=ack))

    created = await client.records("invoices").create({"invoice_title": "Q4", "amount": "10.00"})

    assert created.record is not None
    assert created.record.id == "i-9"
    assert route.call_count == 1  # the record came with the answer: no read-back


async def test_an_invoice_refused_for_want_of_account_id_is_sent_once_more_under_that_name(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    sent: list[dict[str, Any]] = []

    def newer(url: httpx.URL, request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if "account_id" not in sent[-1]:
            return httpx.Response(400, json={"error": True, "errors": {"account_id": ["This field is required."]}})
        return httpx.Response(201, json={"id": "i-1", "invoice_title": "Q4", "account_id": "a-1"})

    serve(newer)
    created = await client.records("invoices").create({"invoice_title": "Q4", "account": "a-1"})

    assert created.record is not None
    assert created.record.account == "a-1"
    assert sent == [{"invoice_title": "Q4", "account": "a-1"}, {"invoice_title": "Q4", "account_id": "a-1"}]


async def test_a_refusal_naming_the_other_field_name_says_which_argument_it_means(
    client: CrmClient, serve: Callable[[Handler], respx.Route]
) -> None:
    answer = {"error": True, "errors": {"account_id": ["This field is required."]}}
    route = serve(lambda url, _: httpx.Response(400, json=answer))

    with pytest.raises(CrmInvalid) as caught:
        await client.records("invoices").create({"invoice_title": "Q4"})

    assert "Here account_id is the `account` argument" in str(caught.value)
    assert caught.value.fields == {"account": ["This field is required."]}
    assert route.call_count == 1


# ---- errors -------------------------------------------------------------------------------------------------------

ONCE = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize("said", ["Insufficient balance", {"message": "Insufficient balance"}])
async def test_the_gateways_402_says_the_lava_balance_is_short_and_nothing_was_sent(
    gateway: CrmClient, crm_api: respx.MockRouter, said: Any
) -> None:
    crm_api.route().respond(402, json={"error": said})

    with pytest.raises(CrmPaymentRequired) as caught:
        await gateway.records("contacts").create({"first_name": "Ada", "last_name": "King"})

    message = str(caught.value)
    assert "Lava balance is insufficient" in message
    assert "Insufficient balance" in message
    assert "Nothing was sent to the CRM or changed" in message


async def test_a_401_on_the_gateway_route_names_the_lava_key_whatever_its_body(
    gateway: CrmClient, direct: CrmClient, crm_api: respx.MockRouter
) -> None:
    route = crm_api.route()
    route.respond(401, json={"error": {"message": "Invalid secret key"}})
    with pytest.raises(CrmAuthError) as from_gateway:
        await gateway.records("contacts").list()
    route.respond(401, json={"detail": "Invalid token."})
    with pytest.raises(CrmAuthError) as passed_through:
        await gateway.records("contacts").list()
    with pytest.raises(CrmAuthError) as from_crm:
        await direct.records("contacts").list()

    assert "Lava's gateway refused the Lava key" in str(from_gateway.value)
    assert str(passed_through.value).startswith("The gateway route refused the credential")
    assert all("Check LAVA_SECRET_KEY" in str(error.value) for error in (from_gateway, passed_through))
    assert str(from_crm.value).startswith("The CRM refused the credential")


async def test_a_bare_400_says_no_reason_was_given_instead_of_asking_for_fixes(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(400)

    with pytest.raises(CrmInvalid) as caught:
        await make_client(ONCE).records("contacts").create({"first_name": "Ada", "last_name": "King"})

    assert "without saying why; nothing was changed" in str(caught.value)
    assert "Fix these" not in str(caught.value)


async def test_a_same_host_redirect_of_a_read_is_followed(direct: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.get(url__regex=r"/api/contacts/c-1/$").respond(308, headers={"Location": "/api/v2/contacts/c-1/"})
    crm_api.get(url__regex=r"/api/v2/contacts/c-1/$").respond(200, json={"id": "c-1", "first_name": "Ada"})

    contact = await direct.records("contacts").get("c-1")

    assert contact.first_name == "Ada"


@pytest.mark.parametrize(
    ("method", "location"),
    [("POST", "/api/v2/contacts/"), ("GET", "https://elsewhere.example/api/contacts/")],
)
async def test_a_redirect_of_a_write_or_to_another_host_is_a_setup_error_and_is_not_followed(
    direct: CrmClient, crm_api: respx.MockRouter, method: str, location: str
) -> None:
    crm_api.route(host="lava-crm-api.fly.dev").respond(308, headers={"Location": location})
    elsewhere = crm_api.route(host="elsewhere.example").respond(200, json={"count": 0, "results": []})

    call = direct.records("contacts").create({"first_name": "Ada", "last_name": "King"}) if method == "POST" else None
    with pytest.raises(CrmError) as caught:
        await (call or direct.records("contacts").list())

    assert "redirect (HTTP 308)" in str(caught.value)
    assert "LAVA_CRM_BASE_URL" in str(caught.value)
    assert not elsewhere.called
