"""OpenTelemetry tracing (LAVA_MCP_OTEL): a span per tool call, and under it a CLIENT span per CRM request attempt
(method, status, route; never a URL or a value), with an error status when the call failed. Off by default; without
the OpenTelemetry SDK, turning it on is one warning line and the server works as before."""

from __future__ import annotations

import importlib.util
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from call_results import failed, ok
from mcp import Client
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util.types import Attributes

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings
from lava_crm_mcp.telemetry import Telemetry, otel_tracer

pytestmark = pytest.mark.anyio
SPAN_IDS = itertools.count(1)


class Recorded(trace.Span):
    """A span that keeps what it was told."""

    def __init__(self, name: str, kind: trace.SpanKind, parent: Recorded | None, attributes: Attributes) -> None:
        self.name, self.kind, self.parent = name, kind, parent
        self.attributes: dict[str, Any] = dict(attributes or {})
        self.status: trace.StatusCode | None = None
        self.events: list[str] = []
        self.ended = False
        self._context = trace.SpanContext(trace_id=1, span_id=next(SPAN_IDS), is_remote=False)

    def get_span_context(self) -> trace.SpanContext:
        return self._context

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        self.attributes.update(attributes)

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def add_event(self, name: str, attributes: Attributes = None, timestamp: int | None = None) -> None:
        self.events.append(name)

    def update_name(self, name: str) -> None:
        self.name = name

    def is_recording(self) -> bool:
        return not self.ended

    def set_status(self, status: Any, description: str | None = None) -> None:
        self.status = status.status_code if isinstance(status, trace.Status) else status

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        pass

    def end(self, end_time: int | None = None) -> None:
        self.ended = True


class Tracer(trace.Tracer):
    """A tracer that records spans and their parents, as an SDK's would."""

    def __init__(self) -> None:
        self.spans: list[Recorded] = []

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Recorded:
        parent = trace.get_current_span(context)
        span = Recorded(name, kind, parent if isinstance(parent, Recorded) else None, attributes)
        self.spans.append(span)
        return span

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Recorded]:
        span = self.start_span(name, context, kind, attributes)
        with trace.use_span(span, end_on_exit=end_on_exit):
            yield span


async def test_a_tool_call_is_a_span_with_a_client_span_per_crm_request_under_it(crm: CrmClient) -> None:
    tracer = Tracer()
    async with Client(build_server(Settings(), crm=crm, telemetry=Telemetry(tracer=tracer))) as client:
        ok(await client.call_tool("search_contacts", {"query": "Ada"}))
        failed(await client.call_tool("get_contact", {"contact_id": "zz-missing"}))

    calls = [span for span in tracer.spans if span.kind == trace.SpanKind.INTERNAL]
    assert [span.name for span in calls] == ["execute_tool search_contacts", "execute_tool get_contact"]
    assert calls[0].attributes["gen_ai.tool.name"] == "search_contacts"
    assert (calls[0].status, calls[1].status) == (None, trace.StatusCode.ERROR)
    assert calls[1].attributes["error.type"] == "tool_error"
    requests = [span for span in tracer.spans if span.kind == trace.SpanKind.CLIENT]
    assert requests
    assert {span.parent.name for span in requests if span.parent} == {span.name for span in calls}
    assert all(span.parent is not None and span.ended for span in requests)
    statuses = [span.attributes.get("http.response.status_code") for span in requests if span.parent is calls[1]]
    assert 404 in statuses
    assert all(
        set(span.attributes) <= {"http.request.method", "http.response.status_code", "lava_crm.route", "error.type"}
        for span in requests
    )


async def test_tracing_is_off_by_default(caplog: pytest.LogCaptureFixture) -> None:
    assert otel_tracer(Settings().otel) is None
    assert caplog.records == []


@pytest.mark.skipif(importlib.util.find_spec("opentelemetry.sdk") is not None, reason="the OpenTelemetry SDK is here")
async def test_without_the_sdk_turning_tracing_on_is_one_warning_and_the_server_works(
    crm: CrmClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lava_crm_mcp"):
        server = build_server(Settings(otel=True), crm=crm)
        async with Client(server) as client:
            ok(await client.call_tool("search_contacts", {"query": "Ada"}))

    (warning,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warning.startswith("LAVA_MCP_OTEL=true, but the OpenTelemetry SDK is not installed")
    assert "pip install opentelemetry-sdk" in warning
