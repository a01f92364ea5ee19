"""Static bearer tokens (`LAVA_MCP_AUTH_TOKENS=tok-a,tok-b`) in front of /mcp, and logs that never show them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lava_crm_mcp.catalog import catalog

if TYPE_CHECKING:
    from conftest import HttpServer, StartHttp


def test_a_request_without_a_token_gets_401_with_a_bearer_challenge(token_http: HttpServer) -> None:
    response = token_http.post()
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert "LAVA_MCP_AUTH_TOKENS" in response.json()["detail"]


@pytest.mark.parametrize(
    "authorization", ["Bearer tok-c", "Bearer tok-a,tok-b", "Bearer tok-", "Basic tok-a", "tok-a", "Bearer"]
)
def test_a_wrong_token_or_scheme_gets_401(token_http: HttpServer, authorization: str) -> None:
    response = token_http.post(headers={"Authorization": authorization})
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


@pytest.mark.parametrize("token", ["tok-a", "tok-b"])
def test_each_configured_token_is_let_through(token_http: HttpServer, token: str) -> None:
    response = token_http.post(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(response.json()["result"]["tools"]) == len(catalog().tools)


def test_the_bearer_scheme_is_case_insensitive(token_http: HttpServer) -> None:
    assert token_http.post(headers={"Authorization": "bearer tok-a"}).status_code == 200


def test_the_health_probes_need_no_token(token_http: HttpServer) -> None:
    assert httpx.get(f"{token_http.base_url}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{token_http.base_url}/readyz", timeout=10).status_code == 200


def test_auth_is_checked_before_the_host_so_an_anonymous_probe_learns_nothing(token_http: HttpServer) -> None:
    assert token_http.post(headers={"Host": "evil.example"}).status_code == 401
    assert token_http.post(headers={"Host": "evil.example", "Authorization": "Bearer tok-a"}).status_code == 421


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_sdk_client_with_a_token_header_works_in_either_era(token_http: HttpServer, mode: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": "Bearer tok-b"}, timeout=30) as http,
        Client(streamable_http_client(token_http.url, http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        found = await client.call_tool("search_contacts", {"query": "ada"})
    assert not found.is_error, found.content
    assert found.structured_content is not None
    assert found.structured_content["items"][0]["first_name"] == "Ada"


def test_access_logs_go_to_stderr_without_the_tokens_and_stdout_stays_empty(token_http: HttpServer) -> None:
    assert token_http.post(headers={"Authorization": "Bearer tok-a"}).status_code == 200
    assert token_http.post(headers={"Authorization": "Bearer tok-b"}).status_code == 200
    assert token_http.post(headers={"Authorization": "Bearer tok-wrong-secret"}).status_code == 401
    log = token_http.stderr()
    assert '"POST /mcp HTTP/1.1" 200' in log
    assert '"POST /mcp HTTP/1.1" 401' in log
    assert "tok-a" not in log
    assert "tok-b" not in log
    assert "tok-wrong-secret" not in log
    assert token_http.stdout() == ""


async def move_and_read_the_timeline(server: HttpServer, token: str) -> dict[str, object]:
    """Move a demo deal to Lost over HTTP with this token, then read the deal's newest timeline entry."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(f"{server.base_url}/mcp", http_client=http)) as client,
    ):
        found = await client.call_tool("search_deals", {"query": "Network analytics"})
        deal = (found.structured_content or {})["items"][0]["id"]
        moved = await client.call_tool(
            "move_deal_to_stage", {"deal_id": deal, "stage": "Lost", "reason": "Lost to rival"}
        )
        assert not moved.is_error, moved.content
        got = (await client.call_tool("get_deal", {"deal_id": deal})).structured_content or {}
    return got["related"]["timeline"]["items"][0]


@pytest.mark.anyio
async def test_a_change_made_with_a_named_static_token_is_attributed_to_that_name(http_server: StartHttp) -> None:
    server = http_server(env={"LAVA_MCP_AUTH_TOKENS": "anna:tok-anna-0123456789,tok-unnamed-0123456789"})

    entry = await move_and_read_the_timeline(server, "tok-anna-0123456789")

    assert (entry["by"], entry["reason"]) == ("anna via token", "Lost to rival")
    assert "tok-anna" not in server.stderr()  # the token is never written anywhere


@pytest.mark.anyio
async def test_a_change_made_with_an_unnamed_static_token_is_attributed_to_its_fingerprint(
    http_server: StartHttp,
) -> None:
    server = http_server(env={"LAVA_MCP_AUTH_TOKENS": "tok-unnamed-0123456789"})

    entry = await move_and_read_the_timeline(server, "tok-unnamed-0123456789")

    assert re.fullmatch(r"token-[0-9a-f]{6} via token", str(entry["by"]))
    assert "0123456789" not in str(entry["by"])


@pytest.mark.anyio
async def test_a_static_token_holder_cannot_confirm_another_holders_delete(http_server: StartHttp) -> None:
    server = http_server(env={"LAVA_MCP_AUTH_TOKENS": "alice:tok-alice-0123456789,bob:tok-bob-0123456789"})

    async def call(token: str, tool: str, arguments: dict[str, object]) -> tuple[bool, str, dict[str, object]]:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
            Client(streamable_http_client(f"{server.base_url}/mcp", http_client=http)) as client,
        ):
            result = await client.call_tool(tool, arguments)
        said = "".join(getattr(block, "text", "") for block in result.content)
        return result.is_error, said, result.structured_content or {}

    _, _, made = await call("tok-alice-0123456789", "create_contact", {"first_name": "Zq", "last_name": "Shared"})
    contact = {"contact_id": made["record"]["id"]}  # type: ignore[index]
    _, _, preview = await call("tok-alice-0123456789", "delete_contact", contact)
    refused, said, _ = await call("tok-bob-0123456789", "delete_contact", {**contact, "confirm": preview["confirm"]})
    failed_again, _, done = await call(
        "tok-alice-0123456789", "delete_contact", {**contact, "confirm": preview["confirm"]}
    )

    assert refused
    assert "was issued to another caller" in said
    assert (failed_again, done["outcome"]) == (False, "deleted")
