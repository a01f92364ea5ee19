"""Per-process state (the CRM client) and, per request, the CRM client that request may use.

The SDK hands every handler a `ServerRequestContext`: its `lifespan_context` is our `AppState`, and on HTTP its
`request` carries the caller's headers (passthrough mode reads the caller's Lava key there). No side channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server import ServerRequestContext
from pydantic import SecretStr

if TYPE_CHECKING:
    from lava_crm_mcp.crm import CrmClient

__all__ = ["AppState", "crm_for"]


@dataclass
class AppState:
    """What the lifespan yields: the CRM client, made on first use (a server that only lists its tools reads and
    builds nothing of the CRM adapter), and whether callers bring their own key."""

    make: Callable[[], CrmClient]
    passthrough: bool = False
    _crm: CrmClient | None = field(default=None, init=False)

    @property
    def crm(self) -> CrmClient:
        if self._crm is None:
            self._crm = self.make()
        return self._crm

    async def aclose(self) -> None:
        if self._crm is not None:
            await self._crm.aclose()


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
        from lava_crm_mcp.tools import ToolFailure

        raise ToolFailure("This server uses each caller's own Lava key: send it as 'Authorization: Bearer <key>'.")
    return state.crm.with_credential(SecretStr(token))
