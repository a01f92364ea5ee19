"""Prometheus metrics of one HTTP app (`LAVA_MCP_METRICS`), in a registry of its own (never the global one).

Served at `GET /metrics` behind the same auth as /mcp, or, with `LAVA_MCP_METRICS_PORT`, on a port of their own
without auth (`serve_metrics`), for a private network or a scrape sidecar. Label values come from fixed sets (tool
names, HTTP methods and statuses, error class names, reasons): never an id, a caller or a URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_asgi_app,  # pyright: ignore[reportUnknownVariableType] (its app is untyped)
    start_http_server,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lava_crm_mcp.crm.observer import RequestEvent
from lava_crm_mcp.listen import CannotServe
from lava_crm_mcp.settings import Settings

__all__ = [
    "CONFIRM_EVENTS",
    "METRICS_PATH",
    "Metrics",
    "MetricsServer",
    "OpenSessions",
    "metrics_on",
    "metrics_problem",
    "serve_metrics",
]

METRICS_PATH = "/metrics"
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
CONFIRM_EVENTS = ("issued", "accepted", "refused")
OAUTH_REASONS = ("no_token", "malformed_header", "invalid_token", "insufficient_scope", "unavailable")


def metrics_on(settings: Settings) -> bool:
    """Metrics are served: LAVA_MCP_METRICS=true, or a port of their own (LAVA_MCP_METRICS_PORT)."""
    return settings.metrics or settings.metrics_port is not None


def metrics_problem(settings: Settings) -> str | None:
    """Why metrics cannot be served as configured, in one sentence; None when they can (or are off)."""
    if metrics_on(settings) and settings.metrics_port is None and settings.auth_mode == "passthrough":
        return (
            "LAVA_MCP_METRICS with LAVA_MCP_AUTH=passthrough needs LAVA_MCP_METRICS_PORT: in passthrough any bearer "
            "key gets past the edge, so /metrics would be open to anyone; serve metrics on a port of their own."
        )
    return None


class Metrics:
    """The counters, histograms and gauge; `scrape()` is the text Prometheus reads."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.tool_calls = Counter(
            "lava_mcp_tool_calls", "Tool calls by tool and outcome (ok, error).", ["tool", "outcome"], registry=registry
        )
        self.tool_seconds = Histogram(
            "lava_mcp_tool_call_seconds", "Tool call latency.", ["tool"], buckets=CALL_BUCKETS, registry=registry
        )
        self.upstream = Counter(
            "lava_crm_upstream_requests",
            "CRM request attempts by method and status (the HTTP status, or 'error' when no answer came).",
            ["method", "status"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "lava_crm_upstream_request_seconds", "CRM request attempt latency.", ["method"], registry=registry
        )
        self.transport_errors = Counter(
            "lava_crm_upstream_transport_errors",
            "CRM request attempts that got no answer, by failure (timeout, ConnectError, ReadError, ...).",
            ["method", "error"],
            registry=registry,
        )
        self.retries = Counter("lava_crm_upstream_retries", "CRM requests sent again.", ["method"], registry=registry)
        self.deadline_hits = Counter(
            "lava_mcp_deadline_hits",
            "Requests stopped because their time ran out (upstream: a CRM request; call: a tool call's own limit).",
            ["where"],
            registry=registry,
        )
        self.confirm_tokens = Counter(
            "lava_mcp_confirm_tokens", "Confirm tokens issued, accepted and refused.", ["event"], registry=registry
        )
        self.oauth_refusals = Counter(
            "lava_mcp_oauth_refusals",
            "Requests to /mcp refused by the OAuth check, by reason.",
            ["reason"],
            registry=registry,
        )
        self.open_sessions = Gauge("lava_mcp_open_sessions", "Open MCP sessions (--stateful).", registry=registry)
        for event in CONFIRM_EVENTS:  # shown as 0 before the first one, so rates and alerts work from the start
            self.confirm_tokens.labels(event)
        for reason in OAUTH_REASONS:
            self.oauth_refusals.labels(reason)
        for where in ("upstream", "call"):
            self.deadline_hits.labels(where)

    def tool_call(self, tool: str, ok: bool, seconds: float) -> None:
        self.tool_calls.labels(tool, "ok" if ok else "error").inc()
        self.tool_seconds.labels(tool).observe(seconds)

    def confirm(self, event: str) -> None:
        self.confirm_tokens.labels(event).inc()

    def oauth_refused(self, reason: str) -> None:
        self.oauth_refusals.labels(reason).inc()

    def crm_request(self, event: RequestEvent) -> None:
        """The CRM adapter's observer (`crm/observer.py`)."""
        if event.kind == "retry":
            self.retries.labels(event.method).inc()
        elif event.kind == "deadline":
            self.deadline_hits.labels("upstream").inc()
        else:
            self.upstream.labels(event.method, str(event.status) if event.status is not None else "error").inc()
            self.upstream_seconds.labels(event.method).observe(event.seconds)
            if event.error is not None:
                self.transport_errors.labels(event.method, event.error).inc()

    def route(self) -> Route:
        """`GET /metrics` for the main app (behind its auth)."""
        app = cast(Callable[[Scope, Receive, Send], Any], make_asgi_app(registry=self.registry))
        return Route(METRICS_PATH, _Asgi(app), methods=["GET"])


class _Asgi:
    """An ASGI callable as a Starlette route endpoint (a plain function would be taken for a request handler)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class MetricsServer:
    """prometheus_client's own HTTP server, on a thread: any path answers the metrics."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve_metrics(metrics: Metrics, host: str, port: int) -> MetricsServer:
    """Serve `metrics` on host:port (no auth), or CannotServe in one line."""
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        reason = "it is in use" if "in use" in str(exc).lower() else exc.strerror or str(exc)
        raise CannotServe(
            f"Cannot serve metrics on {host}:{port} (LAVA_MCP_METRICS_HOST/LAVA_MCP_METRICS_PORT): {reason}; "
            "choose another port."
        ) from None
    return MetricsServer(server, thread)


SESSION_HEADER = b"mcp-session-id"


class OpenSessions:
    """`--stateful`: counts the open sessions as /mcp's answers show them, for the `lava_mcp_open_sessions` gauge.

    A session opens with an answer that carries a new `Mcp-Session-Id`; it ends with a DELETE, with a 404 for its id,
    or after `idle` seconds with no request and no open stream (when the server closes it too)."""

    def __init__(self, app: ASGIApp, *, path: str, idle: float, gauge: Gauge) -> None:
        self.app, self.path, self.idle = app, path, idle
        self.seen: dict[str, float] = {}  # session id -> when it last had nothing in flight
        self.busy: dict[str, int] = {}
        gauge.set_function(self.count)

    def count(self) -> float:
        cutoff = time.monotonic() - self.idle
        for session in [key for key, last in self.seen.items() if last < cutoff and not self.busy.get(key)]:
            del self.seen[session]
        return float(len(self.seen))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        sent = _session_of(cast(list[tuple[bytes, bytes]], scope["headers"]))
        answered: list[int] = []  # the status, once the answer starts

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])
                opened = _session_of(cast(list[tuple[bytes, bytes]], message.get("headers", [])))
                if opened is not None and opened != sent and answered[0] < 400:
                    self.count()  # drops the sessions that ended idle, so the map stays as small as the open ones
                    self.seen[opened] = time.monotonic()
            await send(message)

        if sent is not None:
            self.busy[sent] = self.busy.get(sent, 0) + 1
        try:
            await self.app(scope, receive, watching)
        finally:
            if sent is not None:
                status = answered[0] if answered else 0
                self._done(sent, ended=status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300))

    def _done(self, session: str, *, ended: bool) -> None:
        self.busy[session] -= 1
        if not self.busy[session]:
            del self.busy[session]
        if ended:
            self.seen.pop(session, None)
        elif session in self.seen:
            self.seen[session] = time.monotonic()


def _session_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    values = [value for name, value in headers if name.lower() == SESSION_HEADER]
    return values[0].decode("latin-1") if len(values) == 1 else None
