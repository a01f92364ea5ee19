"""ASGI middleware at the edge of the HTTP app: access log, credential checks, method and body limits.

From the outside in: `AccessLog` (one line per request, never its query string), `NoCredentialsInUrl` (400 for a
credential in the query string), `BearerAuth` (401 without a good `Authorization` header), `PostOnly` (405 for
anything but POST on stateless /mcp) and `BodyDeadline` (408/413 for a body that arrives too slowly or too big).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, quote

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog", "BearerAuth", "BodyDeadline", "NoCredentialsInUrl", "PostOnly", "json_error"]

access_logger = logging.getLogger("lava_crm_mcp.access")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
CREDENTIAL_NAME = re.compile(r"token|key|secret|passw|auth|credential|bearer|jwt|signature")


def json_error(status: int, error: str, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps({"error": error, "detail": detail})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


class AccessLog:
    """One line per request to `lava_crm_mcp.access`: client, method, path (never the query), status, duration.

    The line is written just before the last byte of the answer is sent (so it is in the log when the client has
    the answer), or when the app ends without answering (status "-").
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        logged = False

        async def logging_send(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False) and not logged:
                logged = True
                _log_request(scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            if not logged:
                _log_request(scope, status, started)


def _log_request(scope: Scope, status: int | None, started: float) -> None:
    client = "{}:{}".format(*scope["client"]) if scope.get("client") else "-"
    method, path, version = scope["method"], quote(scope["path"]), scope["http_version"]
    elapsed = (time.perf_counter() - started) * 1000
    access_logger.info('%s - "%s %s HTTP/%s" %s %.0f ms', client, method, path, version, status or "-", elapsed)


class NoCredentialsInUrl:
    """400 for a request whose query string names a credential: URLs end up in proxy logs and browser history."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _names_a_credential(scope.get("query_string", b"")):
            detail = "Credentials are not accepted in the URL; send them as 'Authorization: Bearer <token>'."
            await json_error(400, "credential in query string", detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _names_a_credential(query: bytes) -> bool:
    names = (name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    return any(CREDENTIAL_NAME.search(re.sub(r"[^a-z]", "", name.lower())) for name in names)


class BearerAuth:
    """/mcp needs `Authorization: Bearer …` — a configured token, or (passthrough) any key."""

    def __init__(self, app: ASGIApp, *, tokens: Sequence[str], passthrough: bool) -> None:
        self.app = app
        self.tokens = [token.encode() for token in tokens]
        self.passthrough = passthrough

    def _allowed(self, scope: Scope) -> bool:
        raw: list[tuple[bytes, bytes]] = scope.get("headers") or []
        headers = [value for name, value in raw if name == b"authorization"]
        if len(headers) != 1:  # none, or an ambiguous pair that later readers might resolve differently
            return False
        scheme, _, token = headers[0].partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            return False
        if self.passthrough:
            return True
        return any(hmac.compare_digest(token, known) for known in self.tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        what = "your Lava key" if self.passthrough else "a token from LAVA_MCP_AUTH_TOKENS"
        refusal = json_error(
            401,
            "unauthorized",
            f"Send 'Authorization: Bearer <{what}>'.",
            {"WWW-Authenticate": 'Bearer realm="lava-crm-mcp"'},
        )
        await refusal(scope, receive, send)


class PostOnly:
    """Stateless `path` offers no GET stream and no session to DELETE: 405 with `Allow: POST`, as the MCP spec says."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] != "POST":
            detail = "This server is stateless: send JSON-RPC with POST. It has no GET stream and no session to DELETE."
            await json_error(405, "method not allowed", detail, {"Allow": "POST"})(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """The body grew past the limit while it was read."""


class BodyDeadline:
    """Reads each request body within `seconds` and `limit` bytes before the app runs; else 408 (and close) or 413.

    uvicorn waits for a body as long as bytes keep coming, so a client sending one byte every few seconds would hold a
    connection and a task for good. The app gets the whole body at once.
    """

    def __init__(self, app: ASGIApp, *, seconds: float, limit: int) -> None:
        self.app = app
        self.seconds = seconds
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if _declared_size(scope) > self.limit:
                raise BodyTooLarge
            with anyio.fail_after(self.seconds):
                body = await _read_body(receive, self.limit)
        except TimeoutError:
            detail = f"The request body did not arrive within {self.seconds:g} s."
            await json_error(408, "request timeout", detail, {"Connection": "close"})(scope, receive, send)
            return
        except BodyTooLarge:
            # no close: uvicorn discards the rest of the body (within the request deadline), so the client reads this
            detail = f"The request body is larger than {self.limit} bytes."
            await json_error(413, "request body too large", detail)(scope, receive, send)
            return
        if body is not None:  # None: the client left
            await self.app(scope, _replay(body, receive), send)


def _declared_size(scope: Scope) -> int:
    lengths = [value for name, value in scope["headers"] if name == b"content-length"]
    return int(lengths[0]) if len(lengths) == 1 and lengths[0].isdigit() else 0


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the server's own `receive` (which reports the client leaving)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
