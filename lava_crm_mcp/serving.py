"""uvicorn for `lava-crm-mcp http`: connection timeouts, a drain before shutdown, and exit codes.

uvicorn (h11) closes a kept-alive connection after `timeout_keep_alive` seconds without a new request, but has no
limit on how long a request may take to *arrive*: a connection that sends nothing, or drips its headers a byte at a
time, stays open for good (slowloris), and an ASGI middleware cannot see it before the headers are complete.
`RequestDeadline` adds that limit to uvicorn's HTTP protocol (httptools, uvicorn's fast parser, where it is
installed, else h11); `edge.BodyDeadline` bounds the body.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import logging
import signal
import socket
import sys
import textwrap
import threading
from types import FrameType
from typing import TYPE_CHECKING, ClassVar, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from lava_crm_mcp.http_app import HttpApp
from lava_crm_mcp.readiness import Readiness
from lava_crm_mcp.settings import Settings

__all__ = ["DrainingServer", "RequestDeadline", "build_uvicorn", "serve", "uvicorn_problem"]

logger = logging.getLogger("lava_crm_mcp.http")
GRACEFUL_SECONDS = 10


if TYPE_CHECKING:
    _Protocol = H11Protocol  # the attributes both of uvicorn's HTTP protocols have (cycle, transport, loop, client)
else:
    _Protocol = object


class RequestDeadline(_Protocol):
    """A deadline for each request head, mixed into uvicorn's HTTP protocol: from the connection's start, or from
    the first byte of a later request, the head must be complete within `seconds`, else the connection is closed.
    Bytes after an early answer (a body the app never read) count as waiting too."""

    seconds: ClassVar[float] = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_request():
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._disarm()

    def _awaiting_request(self) -> bool:
        cycle = cast("RequestResponseCycle | None", self.cycle)  # typed as set, but None before the first request
        return cycle is None or cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is None and not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.info("%s - closed: no complete request within %g s", _peer(self.client), self.seconds)
            self.transport.close()


def _peer(client: tuple[str, int] | None) -> str:
    return "{}:{}".format(*client) if client else "-"


def _fastest_protocol() -> type[asyncio.Protocol]:
    """httptools (C parser) when installed, as uvicorn's own "auto" choice; else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return H11Protocol
    return HttpToolsProtocol


HOOKS = ("connection_made", "data_received", "connection_lost")
STATE = ("cycle", "transport", "loop", "client")  # what RequestDeadline reads of the protocol


def _set_on_self(cls: type) -> set[str]:
    """The attributes the class's own code assigns on `self`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    targets = [target for node in ast.walk(tree) if isinstance(node, ast.Assign) for target in node.targets]
    targets += [node.target for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)]
    return {
        t.attr
        for t in targets
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
    }


def uvicorn_problem(base: type | None = None) -> str | None:
    """Why the installed uvicorn cannot carry `RequestDeadline` (it relies on its HTTP protocol's internals), in one
    sentence naming the version; None when everything it uses is there."""
    base = base or _fastest_protocol()
    try:
        missing = [name for name in HOOKS if not callable(getattr(base, name, None))]
        missing += [f"self.{name}" for name in STATE if name not in _set_on_self(base)]
        cycle = getattr(sys.modules[base.__module__], "RequestResponseCycle", None)
        if cycle is None or "response_complete" not in _set_on_self(cycle):
            missing.append("RequestResponseCycle.response_complete")
    except (OSError, TypeError):  # no source to read (a bytecode-only install): nothing to check against
        logger.warning("cannot read uvicorn's HTTP protocol source to check it against the request deadline")
        return None
    if not missing:
        return None
    return (
        f"uvicorn {uvicorn.__version__} is not compatible with this lava-crm-mcp: its {base.__name__} lacks "
        f"{', '.join(missing)}, which the request deadline needs. Install an earlier uvicorn "
        f"(pip install 'uvicorn<{uvicorn.__version__}') or a lava-crm-mcp release that supports it."
    )


def request_deadline(seconds: float) -> type[asyncio.Protocol]:
    base = _fastest_protocol()
    return type(f"{base.__name__}WithDeadline", (RequestDeadline, base), {"seconds": seconds})


class DrainingServer(uvicorn.Server):
    """On SIGTERM: /readyz answers 503 at once; after `delay` seconds (still serving meanwhile, so load balancers can
    take this replica out) the usual graceful shutdown starts. A second SIGTERM, or SIGINT, stops without the delay."""

    def __init__(self, config: uvicorn.Config, readiness: Readiness, delay: float) -> None:
        super().__init__(config)
        self.readiness = readiness
        self.delay = delay
        self._stopping: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.readiness.draining = True
        if sig != signal.SIGTERM or self.delay <= 0 or self._stopping is not None:
            if self._stopping is not None:
                self._stopping.cancel()
            logger.info("%s: shutting down after the requests in flight", signal.Signals(sig).name)
            super().handle_exit(sig, frame)
            return
        logger.info("SIGTERM: /readyz answers 503; shutting down in %g s (send SIGTERM again to stop now)", self.delay)
        self._stopping = threading.Timer(self.delay, super().handle_exit, (sig, frame))
        self._stopping.daemon = True
        self._stopping.start()


def build_uvicorn(service: HttpApp, settings: Settings) -> DrainingServer:
    config = uvicorn.Config(
        service.asgi,
        http=request_deadline(settings.request_timeout),
        ws="none",
        log_config=None,
        access_log=False,  # edge.AccessLog writes it, without query strings
        server_header=False,
        timeout_keep_alive=settings.idle_timeout,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    return DrainingServer(config, service.readiness, settings.shutdown_delay)


def settle_memory() -> None:
    """Before serving: what start-up built (the SDK, the tool models and their schemas: hundreds of thousands of
    objects that live as long as the process) is frozen out of the cyclic garbage collector, so that its collections
    of the oldest generation no longer walk that whole graph while calls are served. Measured on the bench's
    get_contact behind 40 ms (2 cores): server CPU per call 5.2-6.3 -> 4.6-4.9 ms at 8 clients and 5.6-7.0 ->
    5.2-5.8 ms at 32. Raising the youngest generation's threshold as well (10,000 or 50,000 allocations) changed
    nothing measurable and grew RSS, so CPython's thresholds stay."""
    gc.collect()
    gc.freeze()


def serve(service: HttpApp, settings: Settings, sock: socket.socket) -> int:
    """Run under uvicorn on the bound `sock` (listen.py) until SIGTERM/SIGINT, draining in-flight requests; 0 on a
    clean stop."""
    server = build_uvicorn(service, settings)

    def on_sigterm(signum: int, frame: object) -> None:
        # uvicorn drains on SIGTERM, then re-raises it to this handler, whose default would kill the process
        # (exit -15). After a drain we simply return: exit 0. Before uvicorn took over the signal: stop now.
        if not server.should_exit:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    settle_memory()
    server.run(sockets=[sock])
    logger.info("Stopped serving MCP")
    return 0 if server.started else 3  # 3: uvicorn could not start (as uvicorn.run() exits)
