"""Progress of long tool calls (batches, syncs, merges), reported the way MCP documents: a notification per step when
the client sent a progress token, nothing otherwise. The server sets the reporter for each call (`reporting`); tools
call `progress(done, total, message)` and never wait on the client."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Reporter", "progress", "reporting"]

logger = logging.getLogger("lava_crm_mcp.tools")
Reporter = Callable[[float, float | None, str | None], Awaitable[None]]
_reporter: ContextVar[Reporter | None] = ContextVar("lava_crm_progress", default=None)


async def progress(done: int, total: int, message: str) -> None:
    """Tell the client how far the call is; a client that left or cannot hear it does not stop the work."""
    report = _reporter.get()
    if report is None:
        return
    try:
        await report(done, total, message)
    except Exception:  # a progress notification is a courtesy: the work goes on without it
        logger.debug("progress notification not sent", exc_info=True)


@contextmanager
def reporting(report: Reporter | None) -> Generator[None]:
    token = _reporter.set(report)
    try:
        yield
    finally:
        _reporter.reset(token)
