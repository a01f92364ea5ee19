"""`lava-crm-mcp http` on a real uvicorn: the SDK client of either era, probes, host checks, shutdown, stateful mode."""

from __future__ import annotations

import json
import signal
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from mcp import Client

from lava_crm_mcp.catalog import catalog

if TYPE_CHECKING:
    from conftest import HttpServer, StartHttp

ERAS = {"auto": "2026-07-28", "legacy": "2025-11-25"}
DEAL_PER_ERA = {"auto": "Platform expansion", "legacy": "Team licences"}  # a deal each, on the shared server
STAGE_SPELLING = {"auto": " negotiation ", "legacy": "NEGOTIATION"}


def board_column(board: dict[str, Any], deal_id: str) -> str:
    return next(stage["name"] for stage in board["stages"] for deal in stage["deals"] if deal["id"] == deal_id)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", list(ERAS))
async def test_an_http_client_of_either_era_lists_searches_moves_a_deal_by_name_and_reads_the_board(
    mode: str, sandbox_http: HttpServer
) -> None:
    async with Client(sandbox_http.url, mode=mode, read_timeout_seconds=30) as client:  # type: ignore[arg-type]
        assert client.protocol_version == ERAS[mode]
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert len(tools) == len(catalog().tools)
        assert {"search_contacts", "move_deal_to_stage"} <= tools

        found = await client.call_tool("search_contacts", {"query": "lovelace"})
        assert not found.is_error, found.content
        assert found.structured_content is not None
        assert [(i["first_name"], i["last_name"]) for i in found.structured_content["items"]] == [("Ada", "Lovelace")]

        deals = await client.call_tool("search_deals", {"query": DEAL_PER_ERA[mode]})
        assert deals.structured_content is not None
        deal_id = deals.structured_content["items"][0]["id"]
        moved = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": STAGE_SPELLING[mode]})
        assert not moved.is_error, moved.content
        assert moved.structured_content is not None
        assert moved.structured_content["to_stage"] == "Negotiation"

        board = json.loads((await client.read_resource("lava-crm://board")).contents[0].text)  # type: ignore[union-attr]
        assert board["pipeline"]["is_default"] is True
        assert board_column(board, deal_id) == "Negotiation"


def test_healthz_and_readyz_answer_200_and_say_so(sandbox_http: HttpServer) -> None:
    health = httpx.get(f"{sandbox_http.base_url}/healthz", timeout=10)
    ready = httpx.get(f"{sandbox_http.base_url}/readyz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")


def test_a_raw_stateless_tools_list_needs_no_initialize_and_answers_json(sandbox_http: HttpServer) -> None:
    response = sandbox_http.post()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.json()["result"]["tools"]) == len(catalog().tools)


def test_a_foreign_host_header_is_refused_with_421(sandbox_http: HttpServer) -> None:
    assert sandbox_http.post(headers={"Host": "evil.example"}).status_code == 421
    assert sandbox_http.post(headers={"Host": f"evil.example:{sandbox_http.port}"}).status_code == 421


def test_a_foreign_origin_is_refused_with_403_and_a_loopback_origin_is_allowed(sandbox_http: HttpServer) -> None:
    assert sandbox_http.post(headers={"Origin": "http://evil.example"}).status_code == 403
    assert sandbox_http.post(headers={"Origin": f"http://127.0.0.1:{sandbox_http.port}"}).status_code == 200


def test_configured_allowed_hosts_and_origins_are_accepted_and_others_still_refused(
    module_http_server: StartHttp,
) -> None:
    server = module_http_server(
        env={"LAVA_MCP_ALLOWED_HOSTS": "mcp.example.com", "LAVA_MCP_ALLOWED_ORIGINS": "https://app.example.com"}
    )
    assert server.post(headers={"Host": "mcp.example.com"}).status_code == 200
    assert server.post(headers={"Host": "mcp.example.com", "Origin": "https://app.example.com"}).status_code == 200
    assert server.post(headers={"Host": "evil.example"}).status_code == 421
    assert server.post(headers={"Origin": "https://evil.example"}).status_code == 403


def test_the_http_server_writes_nothing_to_stdout_and_logs_requests_to_stderr(sandbox_http: HttpServer) -> None:
    assert sandbox_http.post().status_code == 200
    assert sandbox_http.stdout() == ""
    assert '"POST /mcp HTTP/1.1" 200' in sandbox_http.stderr()


def test_sigterm_drains_and_exits_0_with_the_shutdown_logged(http_server: StartHttp) -> None:
    server = http_server()
    assert server.post().status_code == 200
    started = time.monotonic()
    code = server.stop(signal.SIGTERM, timeout=15)
    assert code == 0, server.stderr()
    assert time.monotonic() - started < 15
    log = server.stderr()
    assert "SIGTERM: shutting down after the requests in flight" in log
    assert "Stopped serving MCP" in log
    assert "Traceback" not in log


@pytest.mark.anyio
async def test_stateful_mode_serves_both_eras_and_sigterm_with_a_session_open_still_exits_0(
    http_server: StartHttp,
) -> None:
    server = http_server("--stateful")
    for mode in ERAS:
        async with Client(server.url, mode=mode, read_timeout_seconds=30) as client:  # type: ignore[arg-type]
            assert client.protocol_version == ERAS[mode]
            found = await client.call_tool("search_contacts", {"query": "ada"})
            assert found.structured_content is not None
            assert found.structured_content["items"][0]["first_name"] == "Ada"
    server.wait_for_log('"GET /mcp HTTP/1.1" 200')  # a session's event stream (stateless mode answers 405)

    async with Client(server.url, mode="legacy", read_timeout_seconds=30) as client:
        await client.list_tools()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = await anyio.to_thread.run_sync(server.process.wait, 15)  # TimeoutExpired after 15 s
        assert code == 0, server.stderr()
        assert time.monotonic() - started < 15
        # leaving the block tries to DELETE the session of a server that is gone; the SDK tolerates that
