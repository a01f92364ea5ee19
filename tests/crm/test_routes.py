"""Every endpoint on both routes: method, URL (with the gateway's encoded `u`), query, body and auth header."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from lava_crm_mcp.crm import RESOURCES, CrmClient, ResourceSpec, Upstream

CRM = "https://lava-crm-api.fly.dev/api"
RECORD = {"id": "r-1", "name": "X", "created_at": "2024-01-01T00:00:00Z", "pipeline": "p-1", "pipeline_stage": "s-2"}
EMPTY_LIST = {"count": 0, "next": None, "previous": None, "results": []}
STAGE = {"id": "s-2", "name": "Contacted", "stage_type": "open", "order": 2, "deal_count": 0}
PIPELINE = {"id": "p-1", "name": "Sales Pipeline", "is_default": True, "stages": [STAGE]}
BOARD = {"pipeline": {"id": "p-1", "name": "Sales Pipeline", "is_default": True}, "stages": [{**STAGE, "deals": []}]}
DEAL = {"id": "d-1", "name": "Big deal", "pipeline": "p-1", "pipeline_stage": "s-2"}


def required(spec: ResourceSpec[Any, Any, Any]) -> dict[str, str]:
    """A minimal valid create body for a resource: every required field set to a plain string."""
    return {name: "X" for name, field in spec.create.model_fields.items() if field.is_required()}


def only_request(router: respx.MockRouter) -> httpx.Request:
    assert router.calls.call_count == 1
    return router.calls.last.request


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


Call = Callable[[CrmClient], Awaitable[Any]]
# (operation, call, method, CRM URL after /api/, JSON body sent, status, JSON answer)
RECORD_CASES: list[tuple[str, Callable[[ResourceSpec[Any, Any, Any]], Call], str, str, Any, int, Any]] = [
    ("list", lambda spec: lambda c: c.records(spec.path).list(), "GET", "{path}/?limit=20", None, 200, EMPTY_LIST),
    (
        "list page 2 with search",
        lambda spec: lambda c: c.records(spec.path).list(page=2, search="ada lovelace"),
        "GET",
        "{path}/?page=2&limit=20&offset=20&search=ada%20lovelace",
        None,
        200,
        EMPTY_LIST,
    ),
    ("get", lambda spec: lambda c: c.records(spec.path).get("r-1"), "GET", "{path}/r-1/", None, 200, RECORD),
    (
        "create",
        lambda spec: lambda c: c.records(spec.path).create(required(spec)),
        "POST",
        "{path}/",
        "required",
        201,
        RECORD,
    ),
    (
        "update",
        lambda spec: lambda c: c.records(spec.path).update("r-1", {"description": "new"}),
        "PATCH",
        "{path}/r-1/",
        {"description": "new"},
        200,
        RECORD,
    ),
    (
        "replace",
        lambda spec: lambda c: c.records(spec.path).replace("r-1", required(spec)),
        "PUT",
        "{path}/r-1/",
        "required",
        200,
        RECORD,
    ),
    ("delete", lambda spec: lambda c: c.records(spec.path).delete("r-1"), "DELETE", "{path}/r-1/", None, 204, None),
]


@pytest.mark.anyio
@pytest.mark.parametrize("spec", RESOURCES, ids=[spec.path for spec in RESOURCES])
@pytest.mark.parametrize(
    ("make_call", "method", "path", "body", "status", "answer"),
    [case[1:] for case in RECORD_CASES],
    ids=[case[0] for case in RECORD_CASES],
)
async def test_record_endpoint_sends_method_url_query_body_and_bearer_token(
    client: CrmClient,
    crm_api: respx.MockRouter,
    sent_url: Callable[[str], str],
    target_of: Callable[[httpx.Request], str],
    secret: str,
    spec: ResourceSpec[Any, Any, Any],
    make_call: Callable[[ResourceSpec[Any, Any, Any]], Call],
    method: str,
    path: str,
    body: Any,
    status: int,
    answer: Any,
) -> None:
    crm_api.route().respond(status, json=answer) if answer is not None else crm_api.route().respond(status)

    await make_call(spec)(client)

    request = only_request(crm_api)
    target = f"{CRM}/{path.format(path=spec.path)}"
    assert request.method == method
    assert str(request.url) == sent_url(target)
    assert target_of(request) == target
    assert sent_json(request) == (required(spec) if body == "required" else body)
    assert request.headers["authorization"] == f"Bearer {secret}"
    assert request.headers["accept"] == "application/json"
    if request.content:
        assert request.headers["content-type"] == "application/json"


PIPELINE_CASES: list[tuple[str, Call, str, str, Any, int, Any]] = [
    ("ping", lambda c: c.ping(), "GET", "deal-pipelines/", None, 200, EMPTY_LIST),
    ("list pipelines", lambda c: c.pipelines.list(), "GET", "deal-pipelines/?limit=20", None, 200, {**EMPTY_LIST}),
    (
        "create pipeline",
        lambda c: c.pipelines.create("Renewals"),
        "POST",
        "deal-pipelines/",
        {"name": "Renewals"},
        201,
        {**PIPELINE, "name": "Renewals"},
    ),
    ("default board", lambda c: c.pipelines.board(), "GET", "deal-pipelines/board/", None, 200, BOARD),
    (
        "board of a pipeline",
        lambda c: c.pipelines.board("p-1"),
        "GET",
        "deal-pipelines/board/?pipeline_id=p-1",
        None,
        200,
        BOARD,
    ),
    (
        "add stage",
        lambda c: c.pipelines.add_stage("p-1", "Contacted"),
        "POST",
        "deal-pipelines/p-1/stages/",
        {"name": "Contacted"},
        201,
        STAGE,
    ),
    (
        "rename stage",
        lambda c: c.pipelines.rename_stage("s-2", "Called"),
        "PUT",
        "deal-pipelines/stages/s-2/",
        {"name": "Called"},
        200,
        {**STAGE, "name": "Called"},
    ),
    (
        "delete stage",
        lambda c: c.pipelines.delete_stage("s-2"),
        "DELETE",
        "deal-pipelines/stages/s-2/",
        None,
        204,
        None,
    ),
    (
        "move deal",
        lambda c: c.pipelines.move_deal("d-1", "s-2"),
        "PATCH",
        "deal-pipelines/deals/d-1/move/",
        {"stage_id": "s-2"},
        200,
        DEAL,
    ),
    (
        "move deal above another",
        lambda c: c.pipelines.move_deal("d-1", "s-2", above_id="d-7"),
        "PATCH",
        "deal-pipelines/deals/d-1/move/",
        {"stage_id": "s-2", "above_id": "d-7"},
        200,
        DEAL,
    ),
    (
        "move deal below another",
        lambda c: c.pipelines.move_deal("d-1", "s-2", below_id="d-8"),
        "PATCH",
        "deal-pipelines/deals/d-1/move/",
        {"stage_id": "s-2", "below_id": "d-8"},
        200,
        DEAL,
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "method", "path", "body", "status", "answer"),
    [case[1:] for case in PIPELINE_CASES],
    ids=[case[0] for case in PIPELINE_CASES],
)
async def test_pipeline_endpoint_sends_method_url_query_body_and_bearer_token(
    client: CrmClient,
    crm_api: respx.MockRouter,
    sent_url: Callable[[str], str],
    target_of: Callable[[httpx.Request], str],
    secret: str,
    call: Call,
    method: str,
    path: str,
    body: Any,
    status: int,
    answer: Any,
) -> None:
    crm_api.route().respond(status, json=answer) if answer is not None else crm_api.route().respond(status)

    await call(client)

    request = only_request(crm_api)
    assert request.method == method
    assert str(request.url) == sent_url(f"{CRM}/{path}")
    assert target_of(request) == f"{CRM}/{path}"
    assert sent_json(request) == body
    assert request.headers["authorization"] == f"Bearer {secret}"


@pytest.mark.anyio
async def test_gateway_url_matches_the_documented_example(gateway: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(json=EMPTY_LIST)

    documented = Upstream(CRM.removesuffix("/api"), SecretStr("k"), gateway_url="https://api.lava.so/v1/forward")

    await gateway.records("contacts").list(page=2, search="ada")

    assert documented.url("contacts/", {"page": 2, "search": "ada"}) == (
        "https://api.lava.so/v1/forward?u=https%3A%2F%2Flava-crm-api.fly.dev%2Fapi%2Fcontacts%2F%3Fpage%3D2%26search%3Dada"
    )
    assert str(only_request(crm_api).url) == (
        "https://api.lava.so/v1/forward?u=https%3A%2F%2Flava-crm-api.fly.dev%2Fapi%2Fcontacts%2F"
        "%3Fpage%3D2%26limit%3D20%26offset%3D20%26search%3Dada"
    )


@pytest.mark.anyio
async def test_gateway_encodes_reserved_characters_of_the_search_inside_u(
    gateway: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(json=EMPTY_LIST)

    await gateway.records("opportunities").list(search="R&D + 50%/yr?")

    request = only_request(crm_api)
    assert list(request.url.params) == ["u"]
    assert request.url.params["u"] == f"{CRM}/opportunities/?limit=20&search=R%26D%20%2B%2050%25%2Fyr%3F"
    assert httpx.URL(request.url.params["u"]).params["search"] == "R&D + 50%/yr?"


@pytest.mark.anyio
async def test_direct_route_sends_the_crm_token_and_no_gateway(
    direct: CrmClient, crm_api: respx.MockRouter, secret: str
) -> None:
    crm_api.route().respond(json=RECORD)

    await direct.records("accounts").get("a-1")

    request = only_request(crm_api)
    assert str(request.url) == f"{CRM}/accounts/a-1/"
    assert request.headers["authorization"] == f"Bearer {secret}"


@pytest.mark.anyio
async def test_with_credential_calls_with_the_other_credential_on_the_same_route(
    client: CrmClient, crm_api: respx.MockRouter, sent_url: Callable[[str], str]
) -> None:
    crm_api.route().respond(json=RECORD)

    await client.with_credential(SecretStr("sk_test_OTHER_456")).records("contacts").get("c-1")
    await client.records("contacts").get("c-1")

    first, second = (call.request for call in crm_api.calls)
    assert first.headers["authorization"] == "Bearer sk_test_OTHER_456"
    assert second.headers["authorization"] == "Bearer sk_test_SECRET_123"
    assert str(first.url) == str(second.url) == sent_url(f"{CRM}/contacts/c-1/")


@pytest.mark.anyio
async def test_pipeline_list_follows_next_pages(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    second = {**PIPELINE, "id": "p-2", "name": "Renewals", "is_default": False}
    on("GET", "deal-pipelines/", {"limit": 20}).respond(
        json={"count": 2, "next": f"{CRM}/deal-pipelines/?page=2", "previous": None, "results": [PIPELINE]}
    )
    on("GET", "deal-pipelines/", {"page": 2, "limit": 20, "offset": 20}).respond(
        json={"count": 2, "next": None, "previous": f"{CRM}/deal-pipelines/", "results": [second]}
    )

    pipelines = await client.pipelines.list()

    assert [pipeline.id for pipeline in pipelines] == ["p-1", "p-2"]
    assert crm_api.calls.call_count == 2


@pytest.mark.anyio
async def test_the_first_page_sends_only_its_size_and_an_empty_search_nothing(
    client: CrmClient, crm_api: respx.MockRouter, sent_url: Callable[[str], str]
) -> None:
    crm_api.route().respond(json=EMPTY_LIST)

    await client.records("leads").list(page=1, search="")

    assert str(only_request(crm_api).url) == sent_url(f"{CRM}/leads/?limit=20")


@given(search=st.text(min_size=1, max_size=40), page=st.integers(min_value=2, max_value=10_000))
def test_gateway_u_round_trips_any_search_text(search: str, page: int) -> None:
    upstream = Upstream("https://lava-crm-api.fly.dev", SecretStr("k"), gateway_url="https://api.lava.so/v1/forward")

    url = httpx.URL(upstream.url("contacts/", {"page": page, "search": search}))

    assert list(url.params) == ["u"]
    target = httpx.URL(url.params["u"])
    assert (target.host, target.path) == ("lava-crm-api.fly.dev", "/api/contacts/")
    assert dict(target.params) == {"page": str(page), "search": search}
