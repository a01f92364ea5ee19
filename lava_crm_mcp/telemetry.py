"""What the server records of each tool call: the audit trail (always), Prometheus metrics (HTTP, when enabled) and
OpenTelemetry spans (`LAVA_MCP_OTEL`, when the OpenTelemetry SDK is installed).

`ToolServer` (dispatch.py) opens `Telemetry.tool_call` around each call and says how it ended; the CRM adapter's
requests reach the same metrics and traces through its observer hook (`crm/observer.py`, `Telemetry.watch`).
Confirm tokens are counted from what the calls show: a call without `confirm` whose result carries a token issued
one; a call with `confirm` that succeeded accepted it, and one that failed (or answered a fresh preview) refused it.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from lava_crm_mcp import __version__
from lava_crm_mcp.audit import failed_items, is_unknown, items_of, write_lines
from lava_crm_mcp.crm.observer import RequestEvent
from lava_crm_mcp.tools.caller import Caller
from lava_crm_mcp.tools.tiers import READ

if TYPE_CHECKING:
    from lava_crm_mcp.crm import CrmClient
    from lava_crm_mcp.metrics import Metrics
    from lava_crm_mcp.tools import ToolArgs, ToolSpec

__all__ = ["Telemetry", "ToolCall", "otel_tracer"]

logger = logging.getLogger("lava_crm_mcp")
NANOS = 1_000_000_000


def otel_tracer(enabled: bool) -> trace.Tracer | None:
    """The tracer for `LAVA_MCP_OTEL=true`: the process's tracer provider when one is set up (by
    `opentelemetry-instrument`, say), else one made here with the SDK and, when installed, the OTLP exporter (which
    reads the standard `OTEL_EXPORTER_OTLP_*` variables). None, with one warning line, without the SDK."""
    if not enabled:
        return None
    provider = trace.get_tracer_provider()
    if not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return provider.get_tracer("lava_crm_mcp", __version__)
    try:
        sdk: Any = importlib.import_module("opentelemetry.sdk.trace")
        export: Any = importlib.import_module("opentelemetry.sdk.trace.export")
        resources: Any = importlib.import_module("opentelemetry.sdk.resources")
    except ImportError:
        logger.warning(
            "LAVA_MCP_OTEL=true, but the OpenTelemetry SDK is not installed, so no spans are made: "
            "pip install opentelemetry-sdk opentelemetry-exporter-otlp"
        )
        return None
    made = sdk.TracerProvider(resource=resources.Resource.create({"service.name": "lava-crm-mcp"}))
    try:
        otlp: Any = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        logger.warning("LAVA_MCP_OTEL=true, but no OTLP exporter is installed: pip install opentelemetry-exporter-otlp")
    else:
        made.add_span_processor(export.BatchSpanProcessor(otlp.OTLPSpanExporter()))
    trace.set_tracer_provider(made)
    return made.get_tracer("lava_crm_mcp", __version__)


@dataclass(frozen=True)
class Telemetry:
    """Where tool calls and CRM requests are recorded. The audit trail needs nothing: it is a logger."""

    metrics: Metrics | None = None
    tracer: trace.Tracer | None = None

    def watch(self, crm: CrmClient) -> CrmClient:
        """`crm`, with its requests (and those of its views) counted and traced."""
        if self.metrics is not None:
            crm.watch(self.metrics.crm_request)
        if self.tracer is not None:
            crm.watch(self._traced)
        return crm

    def _traced(self, event: RequestEvent) -> None:
        """A CLIENT span per attempt (a child of the tool call's span); retries and deadline hits as its events."""
        if self.tracer is None:
            return
        if event.kind != "attempt":
            trace.get_current_span().add_event(f"crm.{event.kind}", {"http.request.method": event.method})
            return
        attributes: dict[str, str | int] = {"http.request.method": event.method, "lava_crm.route": event.route}
        if event.status is not None:
            attributes["http.response.status_code"] = event.status
        if event.error is not None:
            attributes["error.type"] = event.error
        start = int(event.started * NANOS)
        span = self.tracer.start_span(event.method, kind=trace.SpanKind.CLIENT, attributes=attributes, start_time=start)
        if event.error is not None or (event.status or 0) >= 500:
            span.set_status(trace.StatusCode.ERROR)
        span.end(end_time=start + int(event.seconds * NANOS))

    @contextmanager
    def tool_call(self, spec: ToolSpec[Any], caller: Caller) -> Generator[ToolCall]:
        call = ToolCall(self, spec, caller)
        started = time.perf_counter()
        if self.tracer is None:
            try:
                yield call
            finally:
                call.ended(time.perf_counter() - started)
            return
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": spec.name,
            "lava_crm.tier": spec.tier,
        }
        with self.tracer.start_as_current_span(f"execute_tool {spec.name}", attributes=attributes) as span:
            call.span = span
            try:
                yield call
            finally:
                call.ended(time.perf_counter() - started)


class ToolCall:
    """One tool call as it ends: the dispatcher calls exactly one of `rejected`, `failed`, `crashed`, `succeeded`."""

    def __init__(self, telemetry: Telemetry, spec: ToolSpec[Any], caller: Caller) -> None:
        self.telemetry, self.spec, self.caller = telemetry, spec, caller
        self.ok = False
        self.span: trace.Span | None = None

    def rejected(self) -> None:
        """Its arguments were refused: nothing ran."""
        self._error("invalid_arguments")

    def failed(self, args: ToolArgs, exc: BaseException) -> None:
        """It ended with a message for the model: a refusal, or a write whose outcome is not known."""
        unknown = is_unknown(exc)
        self._error("unknown_outcome" if unknown else "tool_error")
        self._audit(failed_items(self.spec.name, args, "unknown" if unknown else "refused"))
        if isinstance(exc.__context__, TimeoutError):  # the dispatcher's own limit on the whole call
            self._count_deadline()
        if self._confirming(args):
            self._confirm("refused")

    def crashed(self, args: ToolArgs, result: object | None = None) -> None:
        """A bug: before the tool returned (a write may or may not have happened), or while its `result` was turned
        into the answer (the write happened)."""
        self._error("crash")
        unknown = failed_items(self.spec.name, args, "unknown")
        self._audit(items_of(self.spec.name, args, result) if result is not None else unknown)

    def succeeded(self, args: ToolArgs, result: object) -> None:
        self.ok = True
        self._audit(items_of(self.spec.name, args, result))
        token, confirming = getattr(result, "confirm", None), self._confirming(args)
        if confirming:
            self._confirm("refused" if token else "accepted")
        if token:
            self._confirm("issued")

    def ended(self, seconds: float) -> None:
        if self.telemetry.metrics is not None:
            self.telemetry.metrics.tool_call(self.spec.name, self.ok, seconds)

    def _confirming(self, args: ToolArgs) -> bool:
        return "confirm" in type(args).model_fields and bool(getattr(args, "confirm", None))

    def _audit(self, items: list[Any]) -> None:
        if self.spec.tier != READ:
            write_lines(self.caller, self.spec.name, items)

    def _error(self, kind: str) -> None:
        if self.span is not None:
            self.span.set_attribute("error.type", kind)
            self.span.set_status(trace.StatusCode.ERROR)

    def _confirm(self, event: str) -> None:
        if self.telemetry.metrics is not None:
            self.telemetry.metrics.confirm(event)

    def _count_deadline(self) -> None:
        if self.telemetry.metrics is not None:
            self.telemetry.metrics.deadline_hits.labels("call").inc()
