"""One hard deadline per tool call, covering every request, retry and byte the call makes.

The caller (a tool call) opens `call_deadline(seconds)`; every request made inside it, however deep, stops when the
deadline passes. The deadline lives in a context variable, so concurrent calls sharing one client each keep their own.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["call_deadline", "seconds_left"]

_ends: ContextVar[float | None] = ContextVar("lava_crm_call_deadline", default=None)


@contextmanager
def call_deadline(seconds: float) -> Generator[None]:
    """Everything inside ends within `seconds` (an enclosing, earlier deadline still wins)."""
    ends = time.monotonic() + seconds
    outer = _ends.get()
    token = _ends.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _ends.reset(token)


def seconds_left() -> float | None:
    """Seconds until the current call's deadline (never negative), or None outside a call."""
    ends = _ends.get()
    return None if ends is None else max(ends - time.monotonic(), 0.0)
