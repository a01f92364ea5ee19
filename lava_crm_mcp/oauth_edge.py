"""The OAuth edge of /mcp (`LAVA_MCP_AUTH=oauth`): answers that tell a client what to do, and the Protected Resource
Metadata.

`OAuthGate` checks the bearer token before the SDK's auth middleware does (which then finds it in oauth.py's cache):

- no token: 401 `Bearer resource_metadata="…", scope="<read>"` (RFC 6750 §3 and the MCP authorization spec: the
  least a client needs, so it never asks for more than reading);
- a refused token: 401 `error="invalid_token"`, with the same `scope` and `resource_metadata`;
- the authorization server (or its JWKS) cannot be asked: 503 with `Retry-After`, never `invalid_token`, so that
  clients wait rather than sign in again in a loop;
- a token without the read scope, or a `tools/call` of a tool whose scope the token lacks: 403
  `error="insufficient_scope"` whose `scope` names what the request needs (the read scope and the missing one: MCP's
  step-up), never the delete scope for a write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import cast
from urllib.parse import urlsplit

from mcp.server.auth.settings import AuthSettings
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lava_crm_mcp.catalog import catalog
from lava_crm_mcp.edge import replay
from lava_crm_mcp.oauth import Refused, TokenCheck, Unavailable
from lava_crm_mcp.server import refusals
from lava_crm_mcp.settings import Settings
from lava_crm_mcp.tools.tiers import DESTRUCTIVE, READ, WRITE, Tier

__all__ = ["METADATA_PATH", "OAuthGate", "ResourceMetadata", "auth_settings", "metadata_paths"]

METADATA_PATH = "/.well-known/oauth-protected-resource"


def auth_settings(settings: Settings) -> AuthSettings:
    """The SDK's resource-server settings: every token must carry the read scope (403 naming it otherwise), and be
    issued for this server's resource URL."""
    return AuthSettings.model_validate(
        {
            "issuer_url": settings.oauth_issuer,
            "resource_server_url": settings.resource_url,
            "required_scopes": [settings.scope_read],
            "validate_token_resource": True,
        }
    )


def metadata_paths(settings: Settings) -> set[str]:
    """Where the Protected Resource Metadata is served: the well-known path of the resource URL, and the bare one."""
    return {METADATA_PATH + urlsplit(settings.resource_url or "").path.rstrip("/"), METADATA_PATH}


class ResourceMetadata:
    """RFC 9728 Protected Resource Metadata naming every scope this server knows (the SDK's document lists only the
    required one), at `metadata_paths`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.paths = metadata_paths(settings)
        document = {
            "resource": settings.resource_url or "",
            "authorization_servers": [settings.oauth_issuer],
            "scopes_supported": [settings.scope_read, settings.scope_write, settings.scope_delete],
            "bearer_methods_supported": ["header"],
            "resource_name": "Lava CRM (lava-crm-mcp)",
        }
        self.body = json.dumps(document).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths and scope["method"] in ("GET", "HEAD"):
            headers = {"Cache-Control": "public, max-age=3600"}
            await Response(self.body, media_type="application/json", headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class OAuthGate:
    """401, 403 and 503 for `path`, each saying what the client should do (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        check: TokenCheck,
        settings: Settings,
        path: str,
        refused: Callable[[str], None] = lambda _reason: None,
    ) -> None:
        self.app = app
        self.check = check
        self.path = path
        self.refused = refused  # told the reason of each refusal (metrics.py)
        self.issuer = settings.oauth_issuer or ""
        self.read = read = settings.scope_read
        self.needed: dict[Tier, str] = {READ: read, WRITE: settings.scope_write, DESTRUCTIVE: settings.scope_delete}
        disabled = refusals(settings)  # by mode or toolset: no scope opens them, so none is asked for
        self.tiers: dict[str, Tier] = {tool.name: tool.tier for tool in catalog().tools if tool.name not in disabled}
        resource = urlsplit(settings.resource_url or "")
        self.metadata_url = f"{resource.scheme}://{resource.netloc}{METADATA_PATH}{resource.path.rstrip('/')}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if not token:
            self.refused("no_token" if token is None else "malformed_header")
            sent = "No access token was sent" if token is None else "The Authorization header is not 'Bearer <token>'"
            await self._challenge(401, f"{sent}: sign in with OAuth (see resource_metadata).", None, [self.read])(
                scope, receive, send
            )
            return
        try:
            granted = set((await self.check.check(token)).scopes)
        except Unavailable as exc:
            self.refused("unavailable")
            await self._unavailable(exc)(scope, receive, send)
            return
        except Refused:
            self.refused("invalid_token")
            detail = "The access token was not accepted (expired, revoked, or not issued for this server)."
            await self._challenge(401, f"{detail} Sign in again.", "invalid_token", [self.read])(scope, receive, send)
            return
        missing = self.read if self.read not in granted else None
        if missing is None and scope["method"] == "POST" and not granted >= set(self.needed.values()):
            message = await receive()
            receive = replay(message, receive)
            needed = self.needed.get(self.tiers.get(_tool_called(message) or "", READ), self.read)
            missing = needed if needed not in granted else None
        if missing is not None:
            self.refused("insufficient_scope")
            detail = f"This request needs the OAuth scope {missing!r}, which the access token does not carry."
            step_up = [self.read] if missing == self.read else [self.read, missing]
            await self._challenge(403, detail, "insufficient_scope", step_up)(scope, receive, send)
            return
        await self.app(scope, receive, self._with_scope(send))

    def _challenge(self, status: int, detail: str, error: str | None, scopes: list[str]) -> Response:
        params = [f'error="{error}"'] if error else []
        params += [f'resource_metadata="{self.metadata_url}"', f'scope="{" ".join(scopes)}"']
        body = {"error": error or "unauthorized", "error_description": detail}
        return _json(status, body, {"WWW-Authenticate": "Bearer " + ", ".join(params)})

    def _unavailable(self, exc: Unavailable) -> Response:
        wait = max(1, math.ceil(exc.retry_after))
        detail = (
            f"The authorization server {self.issuer} cannot be asked about the access token right now, so it was "
            f"neither accepted nor refused: keep it and try again in {wait} s."
        )
        headers = {"Retry-After": str(wait), "Cache-Control": "no-store"}
        return _json(503, {"error": "temporarily_unavailable", "error_description": detail}, headers)

    def _with_scope(self, send: Send) -> Send:
        """A 401 or 403 challenge from the SDK (which names no scope) gets the read scope added."""
        addition = f', scope="{self.read}"'.encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                headers = [
                    (name, value + addition if name == b"www-authenticate" and b"scope=" not in value else value)
                    for name, value in cast(list[tuple[bytes, bytes]], message.get("headers", []))
                ]
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _bearer(scope: Scope) -> str | None:
    """The bearer token sent; "" for a malformed or ambiguous Authorization header, None for none."""
    raw: list[tuple[bytes, bytes]] = scope.get("headers") or []
    values = [value for name, value in raw if name == b"authorization"]
    if not values:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    return token.strip() if len(values) == 1 and scheme.lower() == "bearer" else ""


def _tool_called(message: Message) -> str | None:
    """The tool a JSON-RPC `tools/call` body names; None for any other body (or one that is not JSON)."""
    if message["type"] != "http.request" or message.get("more_body", False):
        return None
    try:
        request = json.loads(message.get("body", b""))
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or cast(dict[str, object], request).get("method") != "tools/call":
        return None
    params = cast(dict[str, object], request).get("params")
    name = cast(dict[str, object], params).get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


def _json(status: int, body: Mapping[str, str], headers: Mapping[str, str]) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)
