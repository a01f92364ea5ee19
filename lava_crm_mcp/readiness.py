"""Readiness for load balancers: this process serves and is not shutting down. The CRM's state is information only.

A replica that cannot reach the CRM must keep its traffic, so that its tools answer "could not reach the CRM": an
upstream outage (or a revoked key) must not mark every replica unready at once and empty the Service. /readyz shows
the CRM's last known state beside its status. The CRM is probed at most once per `every` seconds whoever asks (so an
anonymous caller cannot spend the org's rate limit), with one attempt of at most `timeout` seconds; the probe runs
beside the request, which answers at once from the last result.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Literal, Protocol

import anyio
from anyio.abc import TaskGroup

from lava_crm_mcp.crm import CrmAuthError, CrmClient, CrmRateLimited, CrmUnavailable

__all__ = ["PROBE_EVERY", "PROBE_TIMEOUT", "Readiness", "UpstreamState"]

logger = logging.getLogger("lava_crm_mcp.http")
UpstreamState = Literal["unchecked", "ok", "credential refused", "rate limited", "unreachable", "error"]


class AuthProbe(Protocol):
    """The OAuth authorization server as /readyz sees it (oauth.TokenCheck)."""

    @property
    def state(self) -> str: ...
    async def probe(self) -> None: ...


PROBE_EVERY = 30.0
PROBE_TIMEOUT = 3.0


class Readiness:
    """Ready while `serving()` is open and no shutdown has begun; the CRM's state from a shared, rate-limited probe."""

    def __init__(
        self,
        crm: CrmClient,
        *,
        auth: AuthProbe | None = None,
        every: float = PROBE_EVERY,
        timeout: float = PROBE_TIMEOUT,
    ) -> None:
        if timeout >= every:
            raise ValueError("the probe timeout must be shorter than the probe interval")
        self.crm = crm
        self.auth = auth
        self.every = every
        self.timeout = timeout
        self.draining = False
        self.upstream: UpstreamState = "unchecked"
        self._probes: TaskGroup | None = None
        self._next_probe = -math.inf

    @property
    def ready(self) -> bool:
        return self._probes is not None and not self.draining

    @asynccontextmanager
    async def serving(self) -> AsyncGenerator[None]:
        """The process serves (the CRM client is open) inside this block; probes end with it."""
        async with anyio.create_task_group() as probes:
            self._probes = probes
            try:
                yield
            finally:
                self._probes = None
                probes.cancel_scope.cancel()

    def report(self) -> dict[str, str]:
        """The /readyz body; starts a CRM probe if none ran within `every` seconds. With OAuth, the authorization
        server's state is information too: during its outage tokens get 503, but every replica shares it."""
        self._maybe_probe()
        report = {"status": "ready" if self.ready else "unready", "upstream": self.upstream}
        return report if self.auth is None else report | {"authorization_server": self.auth.state}

    def _maybe_probe(self) -> None:
        now = anyio.current_time()
        if self._probes is None or self.draining or now < self._next_probe:
            return
        self._next_probe = now + self.every
        if self._has_credential():
            self._probes.start_soon(self._probe)
        if self.auth is not None:
            self._probes.start_soon(self._probe_auth, self.auth)

    async def _probe_auth(self, auth: AuthProbe) -> None:
        try:
            with anyio.move_on_after(self.timeout + 1):  # its requests have their own timeout; this guards a hang
                await auth.probe()
        except Exception as exc:  # information only: no failure here may reach the process
            logger.warning("Authorization server probe: %s", type(exc).__name__)

    def _has_credential(self) -> bool:
        """Passthrough without a server key has nothing to probe with: the CRM stays "unchecked"."""
        return bool(self.crm.upstream.credential.get_secret_value())

    async def _probe(self) -> None:
        try:
            with anyio.fail_after(self.timeout + 1):  # ping's own limit is `timeout`; this one guards against a hang
                await self.crm.ping(seconds=self.timeout)
        except Exception as exc:  # information only: no failure here may reach the process
            self.upstream = _state(exc)
            logger.warning("CRM probe: %s (%s)", self.upstream, type(exc).__name__)
        else:
            self.upstream = "ok"


def _state(error: Exception) -> UpstreamState:
    if isinstance(error, CrmAuthError):
        return "credential refused"
    if isinstance(error, CrmRateLimited):
        return "rate limited"
    if isinstance(error, CrmUnavailable | TimeoutError):
        return "unreachable"
    return "error"
