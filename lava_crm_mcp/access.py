"""The access log of the HTTP app: one line per request, with the JSON-RPC method and tool name of an MCP request.

`AccessLog` (outermost) writes the line; `RpcPeek` (innermost, behind `edge.BodyDeadline`, which hands the app the
whole body in one message) reads `method` and `params.name` from that message as it goes by: no second copy of the
body, and nothing read from a request that was refused before its body was read (401, 405, 408, 413: `rpc=-`).

    127.0.0.1:51234 - "POST /mcp HTTP/1.1" 200 rpc=tools/call tool=search_contacts 12.3 ms
    127.0.0.1:51236 - "GET /readyz HTTP/1.1" 200 0.4 ms

Never the query string, a header, the arguments or any other part of the body, nor the rest of a path that is not
one of the app's own (a credential put in `/mcp/<token>` is logged as `/mcp/...`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog", "RpcPeek", "shown_path"]

access_logger = logging.getLogger("lava_crm_mcp.access")
NOTE = "lava_crm_mcp.rpc"  # the scope key under which AccessLog hands RpcPeek the note to fill
SAFE_IDENTITY = re.compile(r"[A-Za-z0-9_.@+|:-]{1,128}")  # OAuth subjects and client ids in the access line
SAFE_NAME = re.compile(r"[A-Za-z0-9_./:-]{1,128}")  # MCP method and tool names; anything else is logged as "?"


@dataclass
class RpcNote:
    """What the access line says about the JSON-RPC request: "-" when unknown (no body, a batch, not JSON)."""

    method: str = "-"
    tool: str | None = None

    def fields(self) -> str:
        return f" rpc={self.method}" + (f" tool={self.tool}" if self.tool is not None else "")


class AccessLog:
    """One line per request to `lava_crm_mcp.access`: client, method, path (never the query), status, duration, and
    for `rpc_path` the JSON-RPC method (and the tool of a `tools/call`).

    The line is written just before the last byte of the answer is sent (so it is in the log when the client has
    the answer), or when the app ends without answering (status "-").
    """

    def __init__(self, app: ASGIApp, *, rpc_path: str, paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.rpc_path = rpc_path
        self.paths = paths | {rpc_path, "/"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        note = RpcNote() if scope["path"] == self.rpc_path else None
        if note is not None:
            scope = {**scope, NOTE: note}
        status: int | None = None
        logged = False

        async def logging_send(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False) and not logged:
                logged = True
                _log_request(scope, path, status, started, note)
            await send(message)

        path = shown_path(scope["path"], self.paths)
        try:
            await self.app(scope, receive, logging_send)
        finally:
            if not logged:
                _log_request(scope, path, status, started, note)


def shown_path(path: str, known: frozenset[str]) -> str:
    """`path` if it is one of the app's own; else its longest known start (or nothing) followed by `/...`."""
    if path in known:
        return quote(path)
    start = max((item for item in known if path.startswith(item.rstrip("/") + "/")), key=len, default="")
    return quote(start.rstrip("/")) + "/..."


def _log_request(scope: Scope, path: str, status: int | None, started: float, note: RpcNote | None) -> None:
    client = "{}:{}".format(*scope["client"]) if scope.get("client") else "-"
    method, version = scope["method"], scope["http_version"]
    rpc = note.fields() if note is not None else ""
    elapsed = (time.perf_counter() - started) * 1000
    caller = _caller(scope)
    access_logger.info(
        '%s %s "%s %s HTTP/%s" %s%s %.1f ms', client, caller, method, path, version, status or "-", rpc, elapsed
    )


def _caller(scope: Scope) -> str:
    """Who called, with OAuth: `sub=<subject>,client=<client id>` of the verified token (never the token); else -."""
    token = getattr(scope.get("user"), "access_token", None)
    subject, client = getattr(token, "subject", None), getattr(token, "client_id", None)
    if not (subject or client):
        return "-"
    return f"sub={_identity(subject)},client={_identity(client)}"


def _identity(value: object) -> str:
    """A subject or client id fit for a log line (e.g. `auth0|64f1`, `ada@example.com`); "?" if it is anything else."""
    return value if isinstance(value, str) and SAFE_IDENTITY.fullmatch(value) else "-" if not value else "?"


class RpcPeek:
    """Notes the JSON-RPC `method` and `params.name` of a JSON body for `AccessLog`, as the body passes `receive`.

    Put it behind `BodyDeadline`, which delivers the body in one message: the message is parsed as it is, uncopied.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        note = scope.get(NOTE)
        if not isinstance(note, RpcNote) or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        peeked = False

        async def peeking_receive() -> Message:
            nonlocal peeked
            message = await receive()
            if not peeked and message["type"] == "http.request":
                peeked = True
                if not message.get("more_body", False):  # the whole body; else it is left unread ("-")
                    _note_rpc(note, message.get("body", b""))
            return message

        await self.app(scope, peeking_receive, send)


def _is_json(scope: Scope) -> bool:
    types = [value for name, value in scope["headers"] if name == b"content-type"]
    return len(types) == 1 and types[0].partition(b";")[0].strip().lower() == b"application/json"


def _note_rpc(note: RpcNote, body: bytes) -> None:
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than Python's recursion limit
        return
    if not isinstance(request, dict):  # a batch, or not a request at all
        return
    note.method = _name(cast("dict[str, object]", request).get("method"))
    params = cast("dict[str, object]", request).get("params")
    if note.method == "tools/call" and isinstance(params, dict):
        note.tool = _name(cast("dict[str, object]", params).get("name"))


def _name(value: object) -> str:
    """A method or tool name fit for a log line: "-" if missing, "?" if it is not a plain name."""
    if value is None:
        return "-"
    return value if isinstance(value, str) and SAFE_NAME.fullmatch(value) else "?"
