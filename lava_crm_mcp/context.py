"""Per-process state (the CRM client) and, per request, the CRM client that request may use and who is calling.

The SDK hands every handler a `ServerRequestContext`: its `lifespan_context` is our `AppState`, and on HTTP its
`request` carries the caller's headers (passthrough mode reads the caller's Lava key there). No side channel.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.auth_context import get_access_token
from pydantic import SecretStr

from lava_crm_mcp.tools.caller import Caller

if TYPE_CHECKING:
    from lava_crm_mcp.crm import CrmClient

__all__ = ["AppState", "Callers", "caller_of", "crm_for"]


@dataclass(frozen=True)
class Callers:
    """How a request names its caller: its OAuth token (subject, client), the name of the static token it sent, a
    fingerprint of its own Lava key (passthrough), or, with no credential at all (stdio), the local user."""

    tokens: tuple[tuple[str, str], ...] = ()
    """(token, name) of each static token."""
    local: str = "local user"

    def of(self, headers: Mapping[str, str] | None, passthrough: bool) -> Caller:
        oauth = get_access_token()
        if oauth is not None:
            return Caller("oauth", oauth.subject or oauth.client_id, oauth.client_id if oauth.subject else None)
        sent = _bearer(headers)
        if sent is None:
            return Caller("local", self.local)
        for token, name in self.tokens:
            if hmac.compare_digest(sent.encode(), token.encode()):
                return Caller("token", name)
        if passthrough:
            return Caller("key", f"key-{hashlib.sha256(sent.encode()).hexdigest()[:8]}")
        return Caller("local", self.local)


@dataclass
class AppState:
    """What the lifespan yields: the CRM client, made on first use (a server that only lists its tools reads and
    builds nothing of the CRM adapter), and whether callers bring their own key."""

    make: Callable[[], CrmClient]
    passthrough: bool = False
    callers: Callers = field(default_factory=Callers)
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


def caller_of(ctx: ServerRequestContext[AppState, Any]) -> Caller:
    """Who this request acts for (see `Callers`)."""
    state = ctx.lifespan_context
    return state.callers.of(getattr(ctx.request, "headers", None), state.passthrough)
