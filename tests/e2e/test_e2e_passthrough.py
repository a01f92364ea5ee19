"""`LAVA_MCP_AUTH=passthrough` over the embedded sandbox: each caller's key is its own org, even concurrently."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

if TYPE_CHECKING:
    from conftest import HttpServer

ROUNDS = 4
SEARCHES_PER_ROUND = 3


async def call(server: HttpServer, key: str, tool: str, arguments: dict[str, Any], mode: str = "auto") -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


def names(found: dict[str, Any]) -> set[str]:
    return {item["last_name"] for item in found["items"]}


def test_a_request_without_a_key_gets_401(passthrough_http: HttpServer) -> None:
    response = passthrough_http.post()
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert "Lava key" in response.json()["detail"]


def test_any_key_is_let_through_to_the_upstream(passthrough_http: HttpServer) -> None:
    assert passthrough_http.post(headers={"Authorization": "Bearer some-key"}).status_code == 200


@pytest.mark.anyio
async def test_two_keys_see_two_orgs_each_seeded_with_its_own_demo_data(passthrough_http: HttpServer) -> None:
    key_a, key_b = f"key-a-{uuid.uuid4().hex}", f"key-b-{uuid.uuid4().hex}"
    await call(passthrough_http, key_a, "create_contact", {"first_name": "Only", "last_name": "In-A"})
    assert names(await call(passthrough_http, key_a, "search_contacts", {"query": "In-A"})) == {"In-A"}
    assert names(await call(passthrough_http, key_b, "search_contacts", {"query": "In-A"})) == set()
    assert names(await call(passthrough_http, key_b, "search_contacts", {"query": "ada"}, mode="legacy")) == {
        "Lovelace"
    }


@pytest.mark.anyio
async def test_concurrent_interleaved_calls_with_different_keys_never_see_each_others_records(
    passthrough_http: HttpServer,
) -> None:
    """Three callers, one long-lived client each (both eras), their writes and reads interleaved round after round."""
    keys = {org: f"key-{org}-{uuid.uuid4().hex}" for org in ("a", "b", "c")}
    seen: list[tuple[str, int, set[str]]] = []
    async with AsyncExitStack() as stack:
        clients: dict[str, Client] = {}
        for index, (org, key) in enumerate(keys.items()):
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
            )
            mode = "legacy" if index % 2 else "auto"
            transport = streamable_http_client(passthrough_http.url, http_client=http)
            clients[org] = await stack.enter_async_context(Client(transport, mode=mode))  # type: ignore[arg-type]

        async def search(org: str, round_no: int) -> None:
            result = await clients[org].call_tool("search_contacts", {"query": "Only"})
            assert not result.is_error, result.content
            assert result.structured_content is not None
            seen.append((org, round_no, names(result.structured_content)))

        async def round_of(org: str, round_no: int) -> None:
            created = await clients[org].call_tool("create_contact", {"first_name": "Only", "last_name": f"In-{org}"})
            assert not created.is_error, created.content
            async with anyio.create_task_group() as searches:
                for _ in range(SEARCHES_PER_ROUND):
                    searches.start_soon(search, org, round_no)

        for round_no in range(ROUNDS):
            async with anyio.create_task_group() as group:
                for org in keys:
                    group.start_soon(round_of, org, round_no)

        totals = {}
        for org, client in clients.items():
            result = await client.call_tool("search_contacts", {"query": "Only"})
            assert result.structured_content is not None
            totals[org] = result.structured_content["total"]

    assert len(seen) == ROUNDS * len(keys) * SEARCHES_PER_ROUND
    leaks = [(org, round_no, found) for org, round_no, found in seen if found != {f"In-{org}"}]
    assert leaks == []
    assert totals == dict.fromkeys(keys, ROUNDS)


@pytest.mark.anyio
async def test_callers_keys_never_reach_the_server_log(passthrough_http: HttpServer) -> None:
    key = f"secret-key-{uuid.uuid4().hex}"
    await call(passthrough_http, key, "search_contacts", {"query": "ada"})
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        Client(streamable_http_client(passthrough_http.url, http_client=http)) as client,
    ):
        failed = await client.call_tool("get_contact", {"contact_id": "does-not-exist"})
    assert failed.is_error
    log = passthrough_http.stderr()
    assert "get_contact" in log or '"POST /mcp HTTP/1.1" 200' in log
    assert key not in log
    assert passthrough_http.stdout() == ""
