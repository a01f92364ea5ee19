"""Refreshes that run behind the call that asked for them: at most one per key, cancelled when the client closes.

A cache that serves an entry past its time-to-live (stale-while-revalidate) asks for its refresh here, so the call
that found it stale answers at once instead of waiting a round trip. A refresh runs in a fresh context (no call's
deadline or reporter applies to it) on the running event loop; under an event loop other than asyncio's nothing is
started and the entry simply expires as before. A failed refresh is logged and the entry stays as it was.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Hashable

__all__ = ["Background"]

logger = logging.getLogger("lava_crm_mcp.crm")
MAX_PENDING = 256  # refreshes running at once; past it, an entry waits for a later call to ask again


class Background:
    """The refreshes in flight, one per key."""

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}

    def refresh(self, key: Hashable, job: Callable[[], Awaitable[object]]) -> bool:
        """Start `job` behind the caller unless a refresh of `key` is already running; whether one runs now."""
        if key in self._tasks:
            return True
        if len(self._tasks) >= MAX_PENDING:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._tasks[key] = loop.create_task(self._run(key, job), context=contextvars.Context())
        return True

    async def _run(self, key: Hashable, job: Callable[[], Awaitable[object]]) -> None:
        try:
            await job()
        except Exception as exc:  # a refresh is a courtesy: the stale entry stays, a later call asks again
            logger.warning("a background refresh failed (%s): %s", type(exc).__name__, exc)
        finally:
            self._tasks.pop(key, None)

    async def settled(self) -> None:
        """Wait for the refreshes running now to finish."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel every refresh still running."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
