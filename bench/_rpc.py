"""A light load generator for stateless JSON MCP endpoints: raw HTTP/1.1 keep-alive on asyncio streams.

Each worker owns one connection and sends `tools/call` POSTs one after another, each with a new JSON-RPC id, the
headers streamable HTTP asks for, and no session (the servers measured are stateless). An answer is OK only if it is
HTTP 200 with a JSON-RPC result that is not `isError`. Far cheaper per request than an httpx client, so on a small
machine the client takes little CPU from the server it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from _common import loopback

PROTOCOL_VERSION = "2025-11-25"
_ids = itertools.count(1)
Request = tuple[str, dict[str, Any]]  # tool name, arguments


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ok(self) -> bool:
        if self.status != 200:
            return False
        try:
            answer = self.json()
        except ValueError:
            return False
        return isinstance(answer, dict) and "result" in answer and not answer["result"].get("isError", False)


class Connection:
    """One keep-alive HTTP/1.1 connection to an MCP endpoint on loopback."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(loopback(url))
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def rpc(self, method: str, params: dict[str, Any] | None = None) -> Reply:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(_ids), "method": method}
        if params is not None:
            message["params"] = params
        return await self.post(json.dumps(message, separators=(",", ":")).encode())

    async def post(self, body: bytes) -> Reply:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {PROTOCOL_VERSION}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
        if "content-length" in headers:
            payload = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await _chunked(reader)
        else:
            payload = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(int(head[0].split(" ", 2)[1]), headers, payload)

    async def close(self) -> None:
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")
    return b"".join(parts)


async def list_tools(url: str) -> list[dict[str, Any]]:
    """The whole tools/list, as JSON from the wire (pages followed)."""
    connection, tools, cursor = Connection(url), [], None
    while True:
        reply = await connection.rpc("tools/list", {"cursor": cursor} if cursor else {})
        page = reply.json()["result"]
        tools += page["tools"]
        if not (cursor := page.get("nextCursor")):
            await connection.close()
            return tools


@dataclass
class Phase:
    """What one load phase saw: latencies of OK calls (ms), failures, wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    first_error: str | None = None

    @property
    def calls(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def calls_per_s(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def load(
    url: str,
    request: Callable[[int], Request],
    *,
    workers: int = 8,
    seconds: float | None = None,
    count: int | None = None,
) -> Phase:
    """`workers` connections calling `request(i)` for i = 0, 1, ... for `seconds`, or until `count` calls were sent."""
    phase = Phase()
    numbers = itertools.count()
    started = time.perf_counter()
    end = started + seconds if seconds is not None else float("inf")

    async def worker() -> None:
        connection = Connection(url)
        try:
            while time.perf_counter() < end:
                number = next(numbers)
                if count is not None and number >= count:
                    break
                name, arguments = request(number)
                sent = time.perf_counter()
                try:
                    reply = await connection.rpc("tools/call", {"name": name, "arguments": arguments})
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    await connection.close()
                    reply = Reply(0, {}, repr(exc).encode())
                took = (time.perf_counter() - sent) * 1000
                if reply.ok():
                    phase.latencies.append(took)
                else:
                    phase.errors += 1
                    phase.first_error = phase.first_error or reply.body[:300].decode(errors="replace")
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    phase.elapsed = time.perf_counter() - started
    return phase
