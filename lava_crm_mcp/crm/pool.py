"""The connections behind the one HTTP choke point: several small httpx pools instead of one large one.

httpcore's pool walks every connection it holds on each request it places and each response it releases (an expiry
check per connection that asks the socket whether it is readable, then a match of queued requests to connections).
With one pool and a hundred reads in flight that walk becomes most of a read's CPU: measured on the bench's 40 ms
upstream, one pool of 50 connections spent 0.74 ms of CPU per GET at 8 in flight and 2.1 ms at 96 (one of 128
connections: 14 ms). SHARDS pools of PER_SHARD connections keep each walk short: 0.76, 0.80 and 0.86 ms at 8, 24
and 96 in flight. A request goes to the pool with the fewest requests in flight (the first such, so a quiet server
keeps reusing the warm connections of one pool); the pool is released when the response is closed.

httpx honours a proxy named by the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) only on the transport
it makes itself, so where one is named the client keeps httpx's own single pool (`env_proxies`).
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator, Callable

import httpx

__all__ = ["PER_SHARD", "SHARDS", "Pools", "env_proxies"]

SHARDS = 8
PER_SHARD = 16  # connections per pool, all kept alive between requests: at most SHARDS * PER_SHARD open


def env_proxies() -> bool:
    """Whether the environment names an HTTP proxy (read as httpx reads it)."""
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


class Pools(httpx.AsyncBaseTransport):
    """SHARDS httpx transports; each request to the least busy one."""

    def __init__(
        self,
        shards: int = SHARDS,
        per_shard: int = PER_SHARD,
        make: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        make = make or _transport()
        self._pools = [make(limits) for _ in range(shards)]
        self._busy = [0] * shards

    @property
    def in_flight(self) -> list[int]:
        """Requests in flight per pool (sent, and their responses not yet closed)."""
        return list(self._busy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._busy.index(min(self._busy))
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        if response.is_closed:  # read whole already (a test transport's answer): nothing stays in flight
            self._busy[index] -= 1
        else:
            response.stream = _Released(response.stream, self._busy, index)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def _transport() -> Callable[[httpx.Limits], httpx.AsyncBaseTransport]:
    """httpx's transport, all on one TLS context (made once: about 20 ms each; it honours SSL_CERT_FILE/_DIR)."""
    context = httpx.create_ssl_context()
    return lambda limits: httpx.AsyncHTTPTransport(verify=context, limits=limits)


class _Released(httpx.AsyncByteStream):
    """A response body that gives its pool's slot back once closed."""

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, busy: list[int], index: int) -> None:
        assert isinstance(stream, httpx.AsyncByteStream)
        self._stream, self._busy, self._index, self._open = stream, busy, index, True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._open:
                self._open = False
                self._busy[self._index] -= 1
