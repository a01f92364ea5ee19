"""A uvicorn server on a loopback socket, in a thread of the test process (bounded start and stop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from lava_crm_mcp.listen import listen

BOUND = 20.0


@contextmanager
def running(server: uvicorn.Server, port: int = 0) -> Iterator[str]:
    """`server` on 127.0.0.1:`port` (0: any free port) in a thread; its base URL. Stopped (bounded) on exit."""
    sock = listen("127.0.0.1", port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + BOUND
        while not server.started:
            assert thread.is_alive(), "the server stopped before it started"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(BOUND)
