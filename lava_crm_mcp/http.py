"""The streamable-HTTP deployment: /mcp behind bearer auth and Host/Origin checks, plus /healthz and /readyz."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import signal
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from lava_crm_mcp.crm import CrmAuthError, CrmClient, CrmError
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

__all__ = ["LOOPBACK_HOSTS", "create_http_app", "is_loopback", "transport_security"]

logger = logging.getLogger("lava_crm_mcp.http")
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names plus the configured hosts and origins; nothing else."""
    hosts = [*LOOPBACK_HOSTS, *settings.allowed_hosts]
    origins = [f"http://{host}" for host in LOOPBACK_HOSTS] + list(settings.allowed_origins)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class BearerAuth:
    """ASGI middleware: /mcp needs `Authorization: Bearer …` — a configured token, or (passthrough) any key."""

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
        body = json.dumps({"error": "unauthorized", "detail": f"Send 'Authorization: Bearer <{what}>'."})
        response = Response(
            body,
            status_code=401,
            media_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="lava-crm-mcp"'},
        )
        await response(scope, receive, send)


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


def readyz(crm: CrmClient) -> Any:
    async def check(_: Request) -> Response:
        """Readiness: the upstream CRM answers (an auth refusal still proves it is reachable)."""
        try:
            with anyio.fail_after(5):
                await crm.ping()
        except CrmAuthError:
            return JSONResponse({"status": "ready", "upstream": "reachable (credential refused)"})
        except (CrmError, TimeoutError) as exc:
            logger.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unready", "upstream": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ready", "upstream": "ok"})

    return check


def serve(app: ASGIApp, *, host: str, port: int) -> int:
    """Run under uvicorn until SIGTERM/SIGINT, draining in-flight requests; 0 on a clean stop."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=True,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    )

    def on_sigterm(signum: int, frame: object) -> None:
        # uvicorn drains on SIGTERM, then re-raises it to this handler, whose default would kill the process
        # (exit -15). After a drain we simply return: exit 0. Before uvicorn took over the signal: stop now.
        if not server.should_exit:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    server.run()
    return 0 if server.started else 3  # 3: uvicorn could not start (as uvicorn.run() exits)


def create_http_app(settings: Settings, crm: CrmClient, *, stateful: bool = False) -> ASGIApp:
    """The ASGI app for `lava-crm-mcp http`; it owns `crm` and closes it on shutdown."""
    server = build_server(settings, crm=crm)
    probes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz(crm), methods=["GET"])]
    app: Starlette = server.streamable_http_app(
        json_response=not stateful,
        stateless_http=not stateful,
        transport_security=transport_security(settings),
        max_request_body_size=settings.max_body_bytes,
        custom_starlette_routes=probes,
    )
    sessions = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Starlette) -> AsyncGenerator[None]:
        async with crm, sessions(inner):
            yield

    app.router.lifespan_context = lifespan
    if settings.auth_mode == "none":
        return app
    tokens = [token.get_secret_value() for token in settings.auth_tokens]
    return BearerAuth(app, tokens=tokens, passthrough=settings.auth_mode == "passthrough")
