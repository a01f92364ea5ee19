"""Over stdio, a line that is not a JSON-RPC message gets a JSON-RPC error reply: -32700 for a line that is not JSON
(a lone UTF-16 surrogate, nesting 5,000 deep, plain text), -32600 with its id for JSON that is not JSON-RPC; the
server goes on serving. The real `lava-crm-mcp stdio` process, written to and read from line by line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from conftest import EXE, clean_env

pytestmark = pytest.mark.anyio
BOUND = 30.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


class Wire:
    """The process's stdin and stdout, one JSON line at a time (every read bounded)."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self.stdin = process.stdin
        self.stdout = BufferedByteReceiveStream(process.stdout)

    async def send(self, line: bytes) -> None:
        await self.stdin.send(line + b"\n")

    async def reply(self) -> dict[str, Any]:
        with anyio.fail_after(BOUND):
            return json.loads(await self.stdout.receive_until(b"\n", 10_000_000))


@pytest.fixture
async def wire(tmp_path: Path) -> AsyncIterator[Wire]:
    argv = [str(EXE), "stdio", "--sandbox", str(tmp_path / "stdio.sqlite3")]
    async with await anyio.open_process(argv, env=clean_env(), cwd=tmp_path) as process:
        found = Wire(process)
        await found.send(json.dumps(INITIALIZE).encode())
        assert "result" in await found.reply()
        await found.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        yield found
        await process.stdin.aclose()  # type: ignore[union-attr]
        with anyio.fail_after(BOUND):
            await process.wait()


def ping(request_id: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode()


@pytest.mark.parametrize(
    "line",
    [
        lambda: b'{"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"cursor": "\\ud800"}}',
        lambda: b"[" * 5000 + b"]" * 5000,
        lambda: b'{"jsonrpc": "2.0", "id": 7, "method": "ping"',
        lambda: b"hello, server",
    ],
    ids=["lone-surrogate", "nested-5000-deep", "cut-short", "plain-text"],
)
async def test_a_line_that_is_not_json_gets_a_parse_error_reply(wire: Wire, line: Callable[[], bytes]) -> None:
    await wire.send(line())
    reply = await wire.reply()
    assert reply["id"] is None
    assert reply["error"]["code"] == -32700
    assert "not valid JSON" in reply["error"]["message"]
    await wire.send(ping(8))
    assert await wire.reply() == {"jsonrpc": "2.0", "id": 8, "result": {}}


@pytest.mark.parametrize(
    ("line", "request_id"),
    [
        (b'{"jsonrpc": "2.0", "id": 9}', 9),
        (b'{"jsonrpc": "1.0", "id": "a-1", "method": "ping"}', "a-1"),
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', None),
        (b"42", None),
    ],
    ids=["no-method", "wrong-version", "batch", "a-number"],
)
async def test_json_that_is_not_json_rpc_gets_an_invalid_request_reply(
    wire: Wire, line: bytes, request_id: object
) -> None:
    await wire.send(line)
    reply = await wire.reply()
    assert reply["id"] == request_id
    assert reply["error"]["code"] == -32600
    assert '"jsonrpc": "2.0"' in reply["error"]["message"]
    await wire.send(ping(10))
    assert await wire.reply() == {"jsonrpc": "2.0", "id": 10, "result": {}}
