"""Who a tool call acts for: written into the timeline entries a change leaves in the CRM, and bound into confirm
tokens. The server sets it for each call (`acting_as`); the tools read it (`caller()`)."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

__all__ = ["Caller", "acting_as", "caller"]

Kind = Literal["oauth", "token", "key", "local"]


@dataclass(frozen=True)
class Caller:
    """A person or client, as far as this server can tell: an OAuth subject (and client), a static token's name,
    the fingerprint of a caller's own Lava key (passthrough), or the local user (stdio)."""

    kind: Kind
    name: str
    client: str | None = None

    @property
    def label(self) -> str:
        """How timeline entries and logs name it: `ada@example.com via oauth client claude`, `bob via token`."""
        client = f" client {self.client}" if self.client else ""
        return f"{self.name} via {self.kind}{client}"

    @property
    def key(self) -> str:
        """A stable identity for binding (confirm tokens): kind, name and client."""
        return f"{self.kind}:{self.name}:{self.client or ''}"


UNKNOWN = Caller("local", "unknown")
_current: ContextVar[Caller] = ContextVar("lava_crm_caller", default=UNKNOWN)


def caller() -> Caller:
    """The caller of the tool call in progress."""
    return _current.get()


@contextmanager
def acting_as(who: Caller) -> Generator[None]:
    token = _current.set(who)
    try:
        yield
    finally:
        _current.reset(token)
