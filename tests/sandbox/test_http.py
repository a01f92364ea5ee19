"""HTTP edges: auth and org isolation, 404/405/400/413 bodies, routes and the trailing slash."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024


async def test_a_request_without_a_token_is_401_json(connect: Any) -> None:
    async with connect(create_app(), None) as anonymous:
        response = await anonymous.get("/api/contacts/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nope", "Token sandbox", "Bearer", "sandbox"])
async def test_an_unknown_token_or_scheme_is_401_in_fixed_mode(connect: Any, header: str) -> None:
    async with connect(create_app(), None) as client:
        response = await client.get("/api/contacts/", headers={"Authorization": header})
    assert response.status_code == 401
    assert "detail" in response.json()


async def test_fixed_tokens_map_to_their_orgs(connect: Any) -> None:
    app = create_app(tokens={"t-one": "one", "t-two": "two", "t-one-again": "one"})
    async with connect(app, "t-one") as one, connect(app, "t-two") as two, connect(app, "t-one-again") as again:
        await one.post("/api/leads/", json={"title": "Shared in org one"})
        assert (await again.get("/api/leads/")).json()["count"] == 1
        assert (await two.get("/api/leads/")).json()["count"] == 0
        assert (await one.get("/api/leads/", headers={"Authorization": "Bearer sandbox"})).status_code == 401


async def test_open_mode_gives_each_token_its_own_org(connect: Any) -> None:
    app = create_app(open_mode=True)
    async with connect(app, "alice") as alice, connect(app, "bob") as bob:
        lead = (await alice.post("/api/leads/", json={"title": "Alice's lead"})).json()
        assert (await alice.get("/api/leads/")).json()["count"] == 1
        assert (await bob.get("/api/leads/")).json()["count"] == 0
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            response = await bob.request(method, f"/api/leads/{lead['id']}/", json={"title": "mine"})
            assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
        alice_board = (await alice.get("/api/deal-pipelines/board/")).json()
        bob_board = (await bob.get("/api/deal-pipelines/board/")).json()
        assert alice_board["pipeline"]["id"] != bob_board["pipeline"]["id"]


async def test_open_mode_still_needs_a_token(connect: Any) -> None:
    async with connect(create_app(open_mode=True), None) as anonymous:
        assert (await anonymous.get("/api/tasks/")).status_code == 401


@pytest.mark.parametrize("ident", ["not-a-uuid", "123", "%20", "00000000-0000-0000-0000-000000000000", "'; DROP"])
async def test_malformed_or_unknown_ids_in_the_path_are_404_never_500(api: httpx.AsyncClient, ident: str) -> None:
    for path in (
        f"/api/contacts/{ident}/",
        f"/api/deal-pipelines/stages/{ident}/",
        f"/api/deal-pipelines/deals/{ident}/move/",
        f"/api/deal-pipelines/{ident}/stages/",
    ):
        for method in ("GET", "PATCH", "PUT", "DELETE", "POST"):
            response = await api.request(method, path, json={"name": "x", "stage_id": ident})
            assert response.status_code in {404, 405}, (method, path, response.text)
            assert "detail" in response.json()


@pytest.mark.parametrize("path", ["/api/nothing/", "/", "/api/contacts", "/api/contacts/a/b/", "/api/deal-pipelines"])
async def test_unknown_routes_and_missing_trailing_slashes_are_404_json(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/contacts/"),
        ("DELETE", "/api/accounts/"),
        ("POST", "/api/deal-pipelines/board/"),
        ("GET", "/api/deal-pipelines/deals/x/move/"),
        ("PATCH", "/api/deal-pipelines/"),
    ],
)
async def test_a_wrong_method_is_405_json_naming_the_method(api: httpx.AsyncClient, method: str, path: str) -> None:
    response = await api.request(method, path)
    assert (response.status_code, response.json()) == (405, {"detail": f'Method "{method}" not allowed.'})
    assert "allow" in response.headers


@pytest.mark.parametrize("body", [b"{not json", b'{"a": NaN}', b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_400_json(api: httpx.AsyncClient, body: bytes) -> None:
    response = await api.post("/api/contacts/", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(("body", "kind"), [([1, 2], "list"), ("text", "str"), (3, "int")])
async def test_a_json_body_that_is_not_an_object_is_400(api: httpx.AsyncClient, body: Any, kind: str) -> None:
    response = await api.post("/api/contacts/", json=body)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


async def test_a_body_over_one_mib_is_413_by_content_length(api: httpx.AsyncClient) -> None:
    body = b'{"first_name": "' + b"x" * MIB + b'"}'
    response = await api.post("/api/contacts/", content=body)
    assert response.status_code == 413
    assert "detail" in response.json()


async def test_a_streamed_body_over_one_mib_is_413_without_content_length(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * (MIB // 4)
        yield b"{}"

    response = await api.post("/api/contacts/", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_an_empty_body_counts_as_an_empty_object(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/leads/")
    assert response.json() == {"title": ["This field is required."]}


async def test_the_openapi_document_needs_no_token(connect: Any) -> None:
    async with connect(create_app(), None) as anonymous:
        response = await anonymous.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")


async def test_a_deeply_nested_body_is_400_not_500(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/contacts/", content=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
