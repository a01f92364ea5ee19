"""The streamable-HTTP deployment: /mcp behind the edge middleware (access.py, cors.py, edge.py), plus probes."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from lava_crm_mcp.access import AccessLog, RpcPeek
from lava_crm_mcp.cors import Cors
from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.edge import (
    OAUTH_DISCOVERY,
    BearerAuth,
    BodyDeadline,
    IdleStreams,
    NoCredentialsInUrl,
    NoOAuth,
    PostOnly,
    how_to_authenticate,
)
from lava_crm_mcp.listen import CannotServe
from lava_crm_mcp.metrics import METRICS_PATH, Metrics, OpenSessions, metrics_on, metrics_problem, serve_metrics
from lava_crm_mcp.oauth import OAuthConfig, TokenCheck
from lava_crm_mcp.oauth_edge import OAuthGate, ResourceMetadata, auth_settings, metadata_paths
from lava_crm_mcp.readiness import Readiness
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings
from lava_crm_mcp.telemetry import Telemetry, otel_tracer

__all__ = [
    "LOOPBACK_HOSTS",
    "MCP_PATH",
    "HttpApp",
    "allowed_origins",
    "create_http_app",
    "is_loopback",
    "transport_security",
]

LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
MCP_PATH = "/mcp"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_origins(settings: Settings) -> list[str]:
    """Browser origins that may call /mcp (and get CORS headers): loopback pages on any port plus the configured."""
    return [f"http://{host}" for host in LOOPBACK_HOSTS] + list(settings.allowed_origins)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names plus the configured hosts and origins; nothing else."""
    hosts = [*LOOPBACK_HOSTS, *settings.allowed_hosts]
    origins = allowed_origins(settings)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


def readyz(readiness: Readiness) -> Callable[[Request], Awaitable[Response]]:
    async def check(_: Request) -> Response:
        """Readiness: serving and not shutting down (503 once SIGTERM arrived); the CRM's state is information."""
        report = readiness.report()
        return JSONResponse(report, status_code=200 if readiness.ready else 503)

    return check


@dataclass(frozen=True)
class HttpApp:
    """The ASGI app for `lava-crm-mcp http`, and the readiness that the server flips on shutdown."""

    asgi: ASGIApp
    readiness: Readiness


def create_http_app(settings: Settings, crm: CrmClient, *, stateful: bool = False) -> HttpApp:
    """The app for `lava-crm-mcp http`; it owns `crm` and closes it on shutdown."""
    if problem := metrics_problem(settings):
        raise CannotServe(problem)
    check = TokenCheck(OAuthConfig.of(settings)) if settings.auth_mode == "oauth" else None
    readiness = Readiness(crm, auth=check)
    probes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz(readiness), methods=["GET"])]
    metrics = Metrics() if metrics_on(settings) else None
    if metrics is not None and settings.metrics_port is None:
        probes.append(metrics.route())  # behind the same auth as /mcp (_edge)
    telemetry = Telemetry(metrics, otel_tracer(settings.otel))
    app: Starlette = build_server(settings, crm=crm, eager=True, telemetry=telemetry).streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=not stateful,
        stateless_http=not stateful,
        transport_security=transport_security(settings),
        max_request_body_size=settings.max_body_bytes,
        session_idle_timeout=settings.sse_idle_timeout,  # --stateful: a session with no request and no stream
        max_sessions=settings.max_sessions,  # --stateful: 503 for a new session beyond it
        custom_starlette_routes=probes,
        auth=auth_settings(settings) if check is not None else None,
        token_verifier=check,
    )
    sessions = app.router.lifespan_context
    port = settings.metrics_port
    side = serve_metrics(metrics, settings.metrics_host, port) if metrics is not None and port is not None else None

    @asynccontextmanager
    async def lifespan(inner: Starlette) -> AsyncGenerator[None]:
        async with crm, sessions(inner), readiness.serving():
            try:
                yield
            finally:
                if check is not None:
                    await check.aclose()
                if side is not None:
                    side.close()

    app.router.lifespan_context = lifespan
    return HttpApp(_edge(app, settings, stateful=stateful, check=check, metrics=metrics), readiness)


def _edge(
    app: ASGIApp, settings: Settings, *, stateful: bool, check: TokenCheck | None, metrics: Metrics | None = None
) -> ASGIApp:
    """The middleware of edge.py, oauth_edge.py, cors.py and access.py around `app`, innermost first."""
    if stateful and metrics is not None:
        app = OpenSessions(app, path=MCP_PATH, idle=settings.sse_idle_timeout, gauge=metrics.open_sessions)
    if check is not None:  # answers 401/403/503 for the SDK's auth middleware, which then reads the token cached
        refused: Callable[[str], None] = metrics.oauth_refused if metrics is not None else lambda _reason: None
        app = OAuthGate(app, check=check, settings=settings, path=MCP_PATH, refused=refused)
        if metrics is not None and settings.metrics_port is None:  # /metrics needs what /mcp needs: the read scope
            app = OAuthGate(app, check=check, settings=settings, path=METRICS_PATH, refused=refused)
    if stateful:
        app = IdleStreams(app, path=MCP_PATH, seconds=settings.sse_idle_timeout)
    app = BodyDeadline(RpcPeek(app), seconds=settings.request_timeout, limit=settings.max_body_bytes)
    if not stateful:
        app = PostOnly(app, path=MCP_PATH)
    passthrough = settings.auth_mode == "passthrough"
    if settings.auth_mode == "oauth":  # discovery is served
        app = ResourceMetadata(app, settings)
    else:
        if settings.auth_mode != "none":
            tokens = [token for token, _ in settings.named_tokens()]
            app = BearerAuth(app, tokens=tokens, passthrough=passthrough)
        no_oauth = "This server needs no credential." if settings.auth_mode == "none" else ""
        app = NoOAuth(app, detail=no_oauth or how_to_authenticate(passthrough=passthrough))
    app = Cors(NoCredentialsInUrl(app), origins=allowed_origins(settings), stateful=stateful)
    return AccessLog(app, rpc_path=MCP_PATH, paths=known_paths(settings))


def known_paths(settings: Settings) -> frozenset[str]:
    """The paths the access log shows whole; any other is cut after its known part (`/mcp/...`, `/...`)."""
    discovery = {f"/.well-known/{document}" for document in OAUTH_DISCOVERY}
    oauth: set[str] = metadata_paths(settings) if settings.auth_mode == "oauth" else set()
    metrics = {METRICS_PATH} if metrics_on(settings) and settings.metrics_port is None else set[str]()
    return frozenset({MCP_PATH, "/healthz", "/readyz", *discovery, *oauth, *metrics})
