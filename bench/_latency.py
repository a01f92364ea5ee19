"""A remote-like upstream on loopback: a replaying proxy that answers each request after a fixed latency.

    python bench/_latency.py --upstream http://127.0.0.1:PORT --listen PORT:DELAY_MS [--listen PORT:DELAY_MS ...]

Each `--listen` port answers HTTP/1.1 (keep-alive) after its own delay. The first request for a URL is forwarded to
the upstream (the sandbox) and its answer kept; every later GET of that URL is replayed from memory. So the servers
under test see a CRM that is as far away as a remote one, while the CRM's own CPU (the sandbox's SQLite and
Starlette) stays out of the measurement: a replay costs this process a few tens of microseconds (uvloop, a bare
asyncio Protocol, no HTTP library on the hot path). The benches only read, so replaying is faithful.
`GET /_bench/gets` answers at once with the GETs each port has answered so far, as JSON.
Loopback only: the upstream and every listening address are 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from typing import cast

import httpx
from _common import LOOPBACK, loopback

COUNTS_PATH = b"/_bench/gets"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Replayer:
    """The answers kept so far (request line → whole HTTP answer) and the client that fetches new ones."""

    def __init__(self, upstream: str) -> None:
        self.http = httpx.AsyncClient(base_url=loopback(upstream), timeout=30)
        self.kept: dict[bytes, bytes] = {}
        self.gets: Counter[int] = Counter()
        self.pending: set[asyncio.Task[None]] = set()

    async def fetch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        sent = {name: value for name, value in headers.items() if name not in HOP_BY_HOP and name != "host"}
        response = await self.http.request(method, target, headers=sent, content=body or None)
        kept = [f"{name}: {value}" for name, value in response.headers.items() if name.lower() not in HOP_BY_HOP]
        head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}", *kept]
        head.append(f"content-length: {len(response.content)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.content


class Port(asyncio.Protocol):
    """One client connection to a listening port: requests parsed as they arrive, answered in order after `delay`."""

    def __init__(self, replayer: Replayer, port: int, delay: float) -> None:
        self.replayer, self.port, self.delay = replayer, port, delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[asyncio.Future[bytes]] = asyncio.Queue()
        self.writer = asyncio.get_running_loop().create_task(self.write_in_order())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not its subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self.writer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].split(b"\r\n")
            headers = dict(_header(line) for line in head[1:])
            size = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            self.queue.put_nowait(self.answer(head[0], headers, body))

    def answer(self, line: bytes, headers: dict[str, str], body: bytes) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        method, target = line.split(b" ")[:2]
        if target == COUNTS_PATH:
            counts = json.dumps({str(port): count for port, count in self.replayer.gets.items()}).encode()
            done = loop.create_future()
            done.set_result(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(counts), counts))
            return done
        if method == b"GET":
            self.replayer.gets[self.port] += 1
        future: asyncio.Future[bytes] = loop.create_future()
        kept = self.replayer.kept.get(line) if method == b"GET" else None
        if kept is not None:
            loop.call_later(self.delay, _settle, future, kept)
        else:
            task = loop.create_task(self.fetched(future, line, headers, body))
            self.replayer.pending.add(task)
            task.add_done_callback(self.replayer.pending.discard)
        return future

    async def fetched(self, future: asyncio.Future[bytes], line: bytes, headers: dict[str, str], body: bytes) -> None:
        method, target = (part.decode("latin-1") for part in line.split(b" ")[:2])
        started = asyncio.get_running_loop().time()
        try:
            answer = await self.replayer.fetch(method, target, headers, body)
        except httpx.HTTPError as exc:
            said = repr(exc).encode()
            _settle(future, b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: %d\r\n\r\n%s" % (len(said), said))
            return
        if method == "GET":
            self.replayer.kept[line] = answer
        await asyncio.sleep(max(0.0, self.delay - (asyncio.get_running_loop().time() - started)))
        _settle(future, answer)

    async def write_in_order(self) -> None:
        while True:
            answer = await (await self.queue.get())
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(answer)


def _header(line: bytes) -> tuple[str, str]:
    name, _, value = line.decode("latin-1").partition(":")
    return name.strip().lower(), value.strip()


def _settle(future: asyncio.Future[bytes], answer: bytes) -> None:
    if not future.done():
        future.set_result(answer)


async def serve(upstream: str, listens: list[tuple[int, float]]) -> None:
    replayer = Replayer(upstream)
    loop = asyncio.get_running_loop()
    for port, delay in listens:
        await loop.create_server(lambda p=port, d=delay: Port(replayer, p, d), LOOPBACK, port)
    sys.stderr.write(f"replaying {upstream} on {', '.join(f'{p} (+{d * 1000:g} ms)' for p, d in listens)}\n")
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the sandbox's base URL (loopback)")
    parser.add_argument("--listen", action="append", required=True, metavar="PORT:DELAY_MS")
    args = parser.parse_args()
    listens = [(int(port), float(ms) / 1000) for port, ms in (item.split(":") for item in args.listen)]
    try:
        import uvloop

        uvloop.run(serve(args.upstream, listens))
    except ImportError:
        asyncio.run(serve(args.upstream, listens))


if __name__ == "__main__":
    main()
