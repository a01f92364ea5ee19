"""When a failed request may be sent again, and how long to wait: never duplicating a write."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

__all__ = ["RetryPolicy", "parse_retry_after"]

# Sending these twice leaves the CRM as sending them once, and a repeat answers as the first would. Not DELETE: its
# repeat answers 404 when the first went through, so it is resent only when the CRM surely did not act.
REPEATABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Failures where the request provably never reached the server: safe to resend any method.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; HTTP dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and one total deadline."""

    deadline: float = 20.0
    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0

    def may_retry_status(self, method: str, status: int) -> bool:
        if status == 429:
            return True  # refused before processing: safe for every method
        return method in REPEATABLE and status in RETRY_STATUSES

    def may_retry_error(self, method: str, error: httpx.TransportError) -> bool:
        if isinstance(error, NEVER_SENT):
            return True
        return method in REPEATABLE and isinstance(
            error, httpx.ReadTimeout | httpx.RemoteProtocolError | httpx.ReadError
        )

    def delay(self, attempt: int, retry_after: float | None, elapsed: float) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None when the budget is spent."""
        if attempt >= self.max_attempts:
            return None
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))  # noqa: S311
        wait = retry_after if retry_after is not None else backoff
        return wait if elapsed + wait < self.deadline else None
