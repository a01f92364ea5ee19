"""ASGI middleware at the edge of the HTTP app: credential checks, method and body limits.

From the outside in (after access.AccessLog and cors): `NoCredentialsInUrl` (400 for a credential in the query
string), `NoOAuth` (404 for the OAuth discovery documents), `BearerAuth` (401 without a good `Authorization`
header), `PostOnly` (405 for anything but POST on stateless /mcp) and `BodyDeadline` (408/413 for a body that
arrives too slowly or too big); with `--stateful`, `IdleStreams` ends event streams that carry nothing.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "OAUTH_DISCOVERY",
    "BearerAuth",
    "BodyDeadline",
    "IdleStreams",
    "NoCredentialsInUrl",
    "NoOAuth",
    "PostOnly",
    "how_to_authenticate",
    "is_oauth_discovery",
    "json_error",
    "replay",
]

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
# The discovery documents of OAuth 2.0 (RFC 9728, RFC 8414) and OpenID Connect, all answered 404 by NoOAuth.
OAUTH_DISCOVERY = frozenset({"oauth-protected-resource", "oauth-authorization-server", "openid-configuration"})
CREDENTIAL_NAME = re.compile(r"token|key|secret|passw|auth|credential|bearer|jwt|signature")


def json_error(status: int, error: str, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps({"error": error, "detail": detail})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


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
    """/mcp needs `Authorization: Bearer …` — a configured token, or (passthrough) any key — else a 401 that says so.

    The challenge names no `resource_metadata` and the OAuth discovery documents do not exist (`NoOAuth`), so an MCP
    client reports the missing token instead of starting an OAuth sign-in.
    """

    def __init__(self, app: ASGIApp, *, tokens: Sequence[str], passthrough: bool) -> None:
        self.app = app
        self.tokens = [token.encode() for token in tokens]
        self.passthrough = passthrough

    def _token(self, scope: Scope) -> bytes | None:
        """The bearer token sent, b"" for a malformed or ambiguous header, None for no header."""
        raw: list[tuple[bytes, bytes]] = scope.get("headers") or []
        headers = [value for name, value in raw if name == b"authorization"]
        if not headers:
            return None
        if len(headers) != 1:  # an ambiguous pair that later readers might resolve differently
            return b""
        scheme, _, token = headers[0].partition(b" ")
        return token.strip() if scheme.lower() == b"bearer" else b""

    def _allowed(self, token: bytes | None) -> bool:
        if not token:
            return False
        return self.passthrough or any(hmac.compare_digest(token, known) for known in self.tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = self._token(scope)
        if self._allowed(token):
            await self.app(scope, receive, send)
            return
        await _refusal(token is None, passthrough=self.passthrough)(scope, receive, send)


def how_to_authenticate(*, passthrough: bool) -> str:
    """What a client must send, for a 401 or a 404 where it looked for OAuth."""
    if passthrough:
        return (
            "This server requires your Lava key as a bearer token: send 'Authorization: Bearer <your Lava secret "
            "key>' with every request (each caller uses its own key). There is no OAuth sign-in."
        )
    return (
        "This server requires a bearer token: send 'Authorization: Bearer <token>' with every request. Tokens are "
        "issued by the operator of this server, who sets them in LAVA_MCP_AUTH_TOKENS; there is no OAuth sign-in."
    )


def _refusal(missing: bool, *, passthrough: bool) -> Response:
    """401: no credential (RFC 6750: a bare challenge), or one that is malformed or not accepted (invalid_token)."""
    problem = "No bearer token was sent." if missing else "The bearer token sent was not accepted."
    challenge = 'Bearer realm="lava-crm-mcp"' + ("" if missing else ', error="invalid_token"')
    error = "bearer token required" if missing else "bearer token not accepted"
    detail = f"{problem} {how_to_authenticate(passthrough=passthrough)}"
    return json_error(401, error, detail, {"WWW-Authenticate": challenge})


class NoOAuth:
    """404 (JSON, no auth needed) for the OAuth and OpenID discovery documents: this server offers no OAuth.

    MCP clients fetch them after a 401; a 401 there too would make them start an OAuth sign-in they cannot finish.
    """

    def __init__(self, app: ASGIApp, *, detail: str) -> None:
        self.app = app
        self.detail = detail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_oauth_discovery(scope["path"]):
            await json_error(404, "no OAuth", self.detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def is_oauth_discovery(path: str) -> bool:
    """`/.well-known/<document>`, also path-suffixed (`…/<document>/mcp`) or path-prefixed (`/mcp/.well-known/…`)."""
    _, found, document = path.partition("/.well-known/")
    return bool(found) and document.partition("/")[0] in OAUTH_DISCOVERY


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
            await self.app(scope, replay({"type": "http.request", "body": body, "more_body": False}, receive), send)


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


def replay(message: Message, receive: Receive) -> Receive:
    """`message` (a body already read), then the server's own `receive` (which reports the client leaving)."""
    pending = [message]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


DISCONNECT: Message = {"type": "http.disconnect"}


class IdleStreams:
    """`--stateful`: a GET event stream on `path` that carries no event for `seconds` (keep-alive pings aside) is
    ended, as if its client had left; a client that is still there opens it again. Without this, a stream held open
    keeps its session alive for good."""

    def __init__(self, app: ASGIApp, *, path: str, seconds: float) -> None:
        self.app = app
        self.path = path
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        idle = anyio.Event()
        timer = anyio.CancelScope(deadline=anyio.current_time() + self.seconds)  # moved on by every event sent
        ended = False

        async def watched_send(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                ended = not message.get("more_body", False)
                if not message.get("body", b"").lstrip().startswith(b":"):  # an SSE comment is a ping, not an event
                    timer.deadline = anyio.current_time() + self.seconds
            await send(message)

        async def watch() -> None:
            with timer:
                await anyio.sleep_forever()
            idle.set()

        async with anyio.create_task_group() as watching:
            watching.start_soon(watch)
            await self.app(scope, _until(idle, receive), watched_send)
            watching.cancel_scope.cancel()
        if idle.is_set() and not ended:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _until(event: anyio.Event, receive: Receive) -> Receive:
    """`receive`, which reports the client leaving once `event` is set."""

    async def receiving() -> Message:
        received = DISCONNECT
        async with anyio.create_task_group() as race:

            async def real() -> None:
                nonlocal received
                received = await receive()
                race.cancel_scope.cancel()

            race.start_soon(real)
            await event.wait()
            race.cancel_scope.cancel()
        return received

    return receiving
