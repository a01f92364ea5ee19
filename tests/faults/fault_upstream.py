"""A scriptable fake Lava CRM on a loopback socket: it answers like a small healthy CRM, except that the first
request to one target (method and path) meets a fault: a status, a bad body, a hang, a drip, a reset, a cut.

It speaks just enough HTTP/1.1 by hand (one request per connection) to misbehave in ways a real framework would
not let it: a body shorter than its Content-Length, a connection reset mid-exchange, a byte a second forever.
Requests on the gateway route (`/forward?u=<CRM URL>`) are served as the CRM URL they carry.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import SocketAttribute, SocketStream

__all__ = ["FAULTS", "FakeCrm", "Target"]

CONTACT = {"id": "c-1", "first_name": "Ada", "last_name": "King", "primary_email": "ada@example.com"}
STAGES = [{"id": "s-1", "name": "New", "order": 1}, {"id": "s-2", "name": "Won", "order": 2, "stage_type": "won"}]
PIPELINE = {"id": "p-1", "name": "Sales", "is_default": True, "stages": STAGES}
DEAL = {"id": "d-1", "name": "Big deal", "pipeline": "p-1", "pipeline_stage": "s-1"}
EMPTY_LIST = {"count": 0, "next": None, "previous": None, "results": []}
HUGE_BYTES = 2_000_000

# fault -> (whether the first write that meets it may have been applied)
FAULTS: dict[str, bool] = {
    "429": False,
    "503": True,
    "hang": True,
    "drip": True,
    "reset": True,
    "truncated": True,
    "non-json": True,
    "html": True,
    "empty": True,
    "error-true": False,
    "redirect": False,
    "huge": True,
}


@dataclass(frozen=True)
class Target:
    method: str
    path: str


@dataclass
class FakeCrm:
    """One fake CRM: the fault its target meets first, and every request it was sent."""

    fault: str
    target: Target
    seen: list[Target] = field(default_factory=list[Target])
    port: int = 0

    @property
    def target_hits(self) -> int:
        return sum(1 for request in self.seen if request == self.target)

    async def serve(self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        self.port = listener.extra(SocketAttribute.local_port)  # noqa: S610 (anyio, not Django)
        task_status.started(self.port)
        async with listener:
            await listener.serve(self._connection)

    async def _connection(self, stream: SocketStream) -> None:
        async with stream:
            try:
                request = await _read_request(stream)
                self.seen.append(request)
                if request == self.target and self.target_hits == 1:
                    await self._misbehave(stream, request)
                else:
                    await _send(stream, *_healthy(request))
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                return  # the client gave up on us: what a fault is for

    async def _misbehave(self, stream: SocketStream, request: Target) -> None:
        created = 201 if request.method == "POST" else 200
        body = json.dumps(_healthy(request)[1] or {"detail": "Deleted."}).encode()
        match self.fault:
            case "429":
                await _send(stream, 429, {"detail": "Slow down."}, headers={"Retry-After": "1"})
            case "503":
                await _send(stream, 503, {"detail": "Service unavailable."})
            case "hang":
                await anyio.sleep_forever()
            case "drip":
                await stream.send(_head(created, "application/json", 10_000))
                while True:
                    await stream.send(b" ")
                    await anyio.sleep(0.2)
            case "reset":
                raw = stream.extra(SocketAttribute.raw_socket)  # noqa: S610 (anyio, not Django)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            case "truncated":
                await stream.send(_head(created, "application/json", len(body) + 500) + body[: len(body) // 2])
            case "non-json":
                await _send_raw(stream, created, "text/plain", b"OK")
            case "html":
                await _send_raw(stream, created, "text/html", b"<html><body><h1>Please sign in</h1></body></html>")
            case "empty":
                await _send_raw(stream, created, "application/json", b"")
            case "error-true":
                await _send(stream, 200, {"error": True, "errors": {"first_name": ["This field is locked."]}})
            case "redirect":
                await _send_raw(stream, 302, "text/plain", b"", headers={"Location": "https://elsewhere.example/x"})
            case "huge":
                await _send(stream, created, {**(_healthy(request)[1] or {}), "description": "x" * HUGE_BYTES})
            case _:
                raise ValueError(self.fault)


def _healthy(request: Target) -> tuple[int, Any]:
    """What a small healthy CRM answers: one contact, one deal, one pipeline, empty lists otherwise."""
    method, path = request.method, request.path
    if method == "GET" and path == "/api/contacts/c-1/":
        return 200, CONTACT
    if method == "POST" and path == "/api/contacts/":
        return 201, CONTACT
    if method == "PATCH" and path == "/api/contacts/c-1/":
        return 200, {**CONTACT, "title": "CEO"}
    if method == "DELETE":
        return 204, None
    if method == "GET" and path == "/api/opportunities/d-1/":
        return 200, DEAL
    if method == "GET" and path == "/api/deal-pipelines/":
        return 200, {"count": 1, "next": None, "results": [PIPELINE]}
    if method == "PATCH" and path == "/api/deal-pipelines/deals/d-1/move/":
        return 200, {**DEAL, "pipeline_stage": "s-2", "is_closed": True}
    if method == "GET" and path.count("/") == 3:  # /api/<noun>/: a list
        return 200, EMPTY_LIST
    return 404, {"detail": "Not found."}


async def _read_request(stream: SocketStream) -> Target:
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, url, _ = lines[0].split(" ", 2)
    length = next((int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length")), 0)
    while len(rest) < length:
        rest += await stream.receive()
    parts = urlsplit(url)
    if parts.path == "/forward":  # the gateway route: the CRM URL travels in ?u=
        parts = urlsplit(parse_qs(parts.query)["u"][0])
    return Target(method, parts.path)


def _head(status: int, media: str, length: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {media}", f"Content-Length: {length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _send_raw(
    stream: SocketStream, status: int, media: str, body: bytes, headers: dict[str, str] | None = None
) -> None:
    await stream.send(_head(status, media, len(body), headers) + body)


async def _send(stream: SocketStream, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    await _send_raw(stream, status, "application/json", payload, headers)
