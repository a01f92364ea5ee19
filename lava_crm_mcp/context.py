"""Per-process state (the CRM client) and, per request, the CRM client that request may use.

The SDK hands every handler a `ServerRequestContext`: its `lifespan_context` is our `AppState`, and on HTTP its
`request` carries the caller's headers (passthrough mode reads the caller's Lava key there). No side channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server import ServerRequestContext
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.tools import ToolFailure

__all__ = ["AppState", "crm_for"]


@dataclass(frozen=True)
class AppState:
    """What the lifespan yields: one pooled CRM client, and whether callers bring their own key."""

    crm: CrmClient
    passthrough: bool = False


def _bearer(headers: Mapping[str, str] | None) -> str | None:
    value = (headers or {}).get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def crm_for(ctx: ServerRequestContext[AppState, Any]) -> CrmClient:
    """The CRM client for this request: the shared one, or (passthrough) a view calling with the caller's key."""
    state = ctx.lifespan_context
    if not state.passthrough:
        return state.crm
    token = _bearer(getattr(ctx.request, "headers", None))
    if token is None:
        raise ToolFailure("This server uses each caller's own Lava key: send it as 'Authorization: Bearer <key>'.")
    return state.crm.with_credential(SecretStr(token))
