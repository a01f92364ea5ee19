"""What the adapter tells observers (metrics, traces) about its requests, without knowing who they are.

`CrmClient.watch(observer)` adds one; every credential view of that client shares them. Events come from the one
request path (`CrmClient._request` and `Exchange.attempt`):

- `attempt`: one HTTP attempt ended: its method, status (None when no answer came: `error` then names the failure,
  e.g. `timeout`, `ConnectError`), when it started and how long it took;
- `retry`: a failed attempt is about to be sent again;
- `deadline`: a request stopped because its time (the call's deadline, or the retry deadline) ran out.

Events carry no URL, query, body or credential. An observer that raises is logged and otherwise ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Observer", "RequestEvent", "Watch"]

logger = logging.getLogger("lava_crm_mcp.crm")
EventKind = Literal["attempt", "retry", "deadline"]


@dataclass(frozen=True)
class RequestEvent:
    """One thing that happened to a CRM request."""

    kind: EventKind
    method: str
    route: str
    status: int | None = None
    error: str | None = None
    started: float = 0.0
    """Epoch seconds (time.time()) when the attempt started."""
    seconds: float = 0.0


Observer = Callable[[RequestEvent], None]


class Watch:
    """The observers of one client and its views."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def add(self, observer: Observer) -> None:
        self._observers.append(observer)

    def __bool__(self) -> bool:
        return bool(self._observers)

    def emit(self, event: RequestEvent) -> None:
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                logger.warning("An observer of CRM requests failed on a %s event", event.kind, exc_info=True)
