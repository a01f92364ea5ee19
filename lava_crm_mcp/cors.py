"""CORS for browser MCP clients: Starlette's `CORSMiddleware` for the allowed origins, no CORS header for others.

It sits outside the auth and method checks of edge.py: a browser sends a preflight (`OPTIONS` with
`Access-Control-Request-Method`) without credentials, and a stateless /mcp would answer any OPTIONS with 405.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from lava_crm_mcp.edge import json_error

__all__ = ["Cors", "origin_patterns"]

REQUEST_HEADERS = ("Content-Type", "Authorization", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID")
EXPOSED_HEADERS = ("Mcp-Session-Id",)


class Cors:
    """CORS headers and preflight answers for `origins` (the SDK's form: `http://host:*` allows any port).

    A request from another origin gets no CORS header: a preflight is refused here (403), anything else goes on
    unchanged (to the SDK's own 403 for a forbidden `Origin` on /mcp).
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str], stateful: bool) -> None:
        exact, pattern = origin_patterns(origins)
        methods = ("GET", "POST", "DELETE", "OPTIONS") if stateful else ("POST", "OPTIONS")
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=exact,
            allow_origin_regex=pattern,
            allow_methods=methods,
            allow_headers=REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
        elif self.cors.is_allowed_origin(origin):
            await self.cors(scope, receive, send)
        elif scope["method"] == "OPTIONS" and "access-control-request-method" in Headers(scope=scope):
            detail = "This origin may not call this server; its operator can allow it in LAVA_MCP_ALLOWED_ORIGINS."
            await json_error(403, "origin not allowed", detail)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def origin_patterns(origins: Sequence[str]) -> tuple[list[str], str | None]:
    """The exact origins, and one regular expression for those ending in `:*` (any port), as the SDK reads them."""
    exact = [origin for origin in origins if not origin.endswith(":*")]
    ports = [re.escape(origin[:-2]) + ":[0-9]+" for origin in origins if origin.endswith(":*")]
    return exact, "|".join(ports) or None
