"""`lava-crm-mcp http --workers N`: N server processes on one port, so one replica uses N cores.

One Python process runs on one core. With `--workers N` the parent binds the port, makes sure every worker keys
confirm tokens alike (the key file exists before any worker starts; LAVA_MCP_CONFIRM_SECRET or a long credential
need nothing), then forks N workers. Each builds its own app, CRM client and caches. Where the platform has
SO_REUSEPORT (Linux), each worker listens on a socket of its own bound to the same address and the kernel spreads
new connections evenly over them; one shared socket would let whichever worker accepts first take most kept-alive
connections (measured: 2 workers then served no more than 1). Elsewhere they share the parent's socket.
Stateless mode only: a stateful session lives in one worker's memory, and the next request of that session may
reach another. The parent passes SIGTERM and SIGINT on (each worker drains as a single server does); when a worker
stops by itself, the parent stops the others and exits with that worker's code, so the orchestrator restarts the
whole replica.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lava_crm_mcp.settings import Settings

__all__ = ["run_workers", "workers_problem"]

logger = logging.getLogger("lava_crm_mcp.http")
MAX_WORKERS = 64


def workers_problem(workers: int, *, stateful: bool, sandbox: bool) -> str | None:
    """Why `--workers` cannot be used as given (one sentence), or None."""
    if workers < 1 or workers > MAX_WORKERS:
        return f"--workers {workers} is not a number of processes: use 1 to {MAX_WORKERS}."
    if workers == 1:
        return None
    if stateful:
        return (
            "--workers needs stateless mode: a stateful session lives in one process's memory, and its next request "
            "may reach another worker. Drop --stateful, or run one worker per replica."
        )
    if sandbox:
        return (
            "--workers cannot share the embedded sandbox (one SQLite file in one process): run `lava-crm-mcp sandbox` "
            "apart and point LAVA_CRM_BASE_URL at it, or use one worker."
        )
    if not hasattr(os, "fork"):
        return "--workers needs fork(), which this platform lacks: run one worker per process instead."
    return None


def run_workers(count: int, serve_one: Callable[[socket.socket], int], settings: Settings, sock: socket.socket) -> int:
    """Fork `count` workers, each running `serve_one(its socket)`; wait for them all; the first non-zero exit code,
    else 0. `sock` is bound (with SO_REUSEPORT where there is one) and not listening."""
    _share_confirm_key(settings)
    children: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                code = serve_one(_own_socket(sock))
            finally:
                logging.shutdown()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    logger.info("serving with %d worker processes: %s", count, ", ".join(map(str, children)))
    return _supervise(children)


def _own_socket(shared: socket.socket) -> socket.socket:
    """A socket of this worker's own on the shared one's address (SO_REUSEPORT), else the shared one."""
    if not hasattr(socket, "SO_REUSEPORT") or not shared.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT):
        return shared
    own = socket.socket(shared.family, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    own.bind(shared.getsockname())
    shared.close()
    return own


def _share_confirm_key(settings: Settings) -> None:
    """Make the confirm-token key file now, so that no worker makes a key of its own (tools/confirm.py)."""
    if settings.confirm_deletes and settings.confirm_secret is None:
        from lava_crm_mcp.tools.confirm import key_from_file

        key_from_file(settings.confirm_key_path())


def _supervise(children: list[int]) -> int:
    codes: dict[int, int] = {}
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _signal([pid for pid in children if pid not in codes], signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while len(codes) < len(children):
            pid, status = os.wait()
            codes[pid] = os.waitstatus_to_exitcode(status)
            if not stopping:
                stopping = True
                logger.warning("worker %d stopped (exit %d): stopping the others", pid, codes[pid])
                _signal([other for other in children if other not in codes], signal.SIGTERM)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return next((abs(code) for code in codes.values() if code), 0)


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
