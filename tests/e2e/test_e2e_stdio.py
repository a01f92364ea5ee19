"""The stdio server as a client launches it: a real `lava-crm-mcp stdio --sandbox` subprocess, both protocol eras."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from lava_crm_mcp.catalog import catalog

ERAS = {"auto": "2026-07-28", "legacy": "2025-11-25"}


def rpc(request_id: int, method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, **({"params": params} if params else {})}


def board_column(board: dict[str, Any], deal_id: str) -> str:
    """The name of the stage whose column holds `deal_id` on a `lava-crm://board` document."""
    return next(stage["name"] for stage in board["stages"] for deal in stage["deals"] if deal["id"] == deal_id)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", list(ERAS))
async def test_a_stdio_client_of_either_era_searches_adds_a_stage_and_moves_a_deal_into_it_by_name(
    mode: str, stdio_params: Callable[..., StdioServerParameters]
) -> None:
    async with Client(stdio_params(), mode=mode, read_timeout_seconds=30) as client:  # type: ignore[arg-type]
        assert client.protocol_version == ERAS[mode]
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert len(tools) == len(catalog().tools)
        assert {"search_contacts", "move_deal_to_stage", "add_stage", "get_pipeline_board"} <= tools

        found = await client.call_tool("search_contacts", {"query": "ada"})
        assert not found.is_error, found.content
        assert found.structured_content is not None
        assert [item["first_name"] for item in found.structured_content["items"]] == ["Ada"]
        assert found.structured_content["total"] == 1
        assert found.structured_content["has_more"] is False

        added = await client.call_tool("add_stage", {"name": "Contacted"})
        assert not added.is_error, added.content
        deals = await client.call_tool("search_deals", {"query": "Platform expansion"})
        assert deals.structured_content is not None
        deal_id = deals.structured_content["items"][0]["id"]

        moved = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": " contacted "})
        assert not moved.is_error, moved.content
        assert moved.structured_content is not None
        assert moved.structured_content["to_stage"] == "Contacted"

        contents = (await client.read_resource("lava-crm://board")).contents
        assert contents[0].mime_type == "application/json"
        board = json.loads(contents[0].text)  # type: ignore[union-attr]
        assert board_column(board, deal_id) == "Contacted"
        assert [stage["name"] for stage in board["stages"]][-3:] == ["Contacted", "Won", "Lost"]


def test_the_stdio_server_writes_nothing_but_json_rpc_to_stdout_and_exits_0_when_its_input_closes(
    stdio_params: Callable[..., StdioServerParameters], tmp_path: Path
) -> None:
    """A raw client: one request at a time, each reply read before the next (as real clients do), then EOF."""
    params = stdio_params()
    requests = [
        rpc(1, "initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo={"name": "raw", "version": "0"}),
        rpc(2, "tools/list"),
        rpc(3, "tools/call", name="search_contacts", arguments={"query": "ada"}),
        rpc(4, "tools/call", name="update_deal", arguments={"deal_id": "x", "stage": "Won"}),
    ]
    replies: list[dict[str, Any]] = []
    stderr_path = tmp_path / "stdio-stderr.log"
    with (
        stderr_path.open("wb") as stderr,
        subprocess.Popen(  # noqa: S603 - our own console script
            [params.command, *params.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=params.env,
            cwd=params.cwd,
            text=True,
        ) as process,
    ):
        assert process.stdin is not None
        assert process.stdout is not None
        watchdog = threading.Timer(60, process.kill)  # bounds every blocking read below
        watchdog.start()
        try:
            for request in requests:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                replies.append(json.loads(process.stdout.readline()))  # one line, one JSON-RPC message
                if request["id"] == 1:
                    process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
            process.stdin.close()
            trailing = process.stdout.read()
            code = process.wait(15)
        finally:
            watchdog.cancel()
    log = stderr_path.read_text()

    assert code == 0, log
    assert trailing == "", "bytes after the last reply on the protocol stream"
    assert [reply["id"] for reply in replies] == [1, 2, 3, 4]
    assert all(reply["jsonrpc"] == "2.0" and "result" in reply for reply in replies)
    assert replies[0]["result"]["serverInfo"]["name"] == "lava-crm-mcp"
    assert len(replies[1]["result"]["tools"]) == len(catalog().tools)
    assert "Ada" in replies[2]["result"]["content"][0]["text"]
    assert replies[3]["result"]["isError"] is True
    assert "move_deal_to_stage" in replies[3]["result"]["content"][0]["text"]
    assert "MCP over stdio; CRM: sandbox" in log  # the startup line went to stderr, not onto the wire
