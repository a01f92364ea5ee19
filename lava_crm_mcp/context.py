"""Per-process state (the CRM client) and the per-request view of it that tools and resources use."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient

__all__ = ["AppState", "bind_request", "current_crm"]

_request: ContextVar[ServerRequestContext[Any, Any] | None] = ContextVar("lava_crm_request", default=None)


@dataclass(frozen=True)
class AppState:
    """What the lifespan yields: one pooled CRM client, and whether callers bring their own key."""

    crm: CrmClient
    passthrough: bool = False


async def bind_request(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: make the current request visible to `current_crm()`."""
    token = _request.set(ctx)
    try:
        return await call_next(ctx)
    finally:
        _request.reset(token)


def _bearer(headers: Mapping[str, str] | None) -> str | None:
    value = (headers or {}).get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def current_crm() -> CrmClient:
    """The CRM client for this request: the shared one, or (passthrough) one calling with the caller's key."""
    ctx = _request.get()
    if ctx is None or not isinstance(ctx.lifespan_context, AppState):
        raise RuntimeError("current_crm() called outside a request of a lava-crm-mcp server")
    state = ctx.lifespan_context
    if not state.passthrough:
        return state.crm
    token = _bearer(getattr(ctx.request, "headers", None))
    if token is None:
        raise ToolError("This server uses each caller's own Lava key: send it as 'Authorization: Bearer <key>'.")
    return state.crm.with_credential(SecretStr(token))
