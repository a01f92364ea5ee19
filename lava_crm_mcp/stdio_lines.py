"""stdio: a line that is not a JSON-RPC message gets a JSON-RPC error reply, never silence.

The SDK's stdio transport parses each line and hands what it cannot parse to the server as an exception, which the
server drops (a debug log line): a client that sent a bad line would wait for an answer that never comes.
`answering_bad_lines` sits between the two: parsed messages go on to the server, and each exception becomes a reply
on the write stream: -32700 (parse error) for a line that is not JSON (a lone UTF-16 surrogate such as `\\ud800`
included, and nesting deeper than the parser allows), -32600 (invalid request) for JSON that is not a JSON-RPC
message, with the line's `id` when it has one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import asynccontextmanager
from typing import Any, Protocol, cast

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp import types
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

__all__ = ["answering_bad_lines", "error_reply"]

logger = logging.getLogger("lava_crm_mcp.stdio")
Inbound = AsyncIterable[SessionMessage | Exception]


class Outbound(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


NOT_JSON = (
    "Parse error: the line is not valid JSON ({problem}). Send each JSON-RPC message as one line of UTF-8 JSON; "
    "a lone UTF-16 surrogate escape such as \\ud800 is not valid JSON."
)
NOT_JSON_RPC = (
    'Invalid Request: the line is JSON but not a JSON-RPC 2.0 message. A request needs "jsonrpc": "2.0", an "id" '
    'and a "method" (a notification has no "id"); batches (arrays) are not accepted.'
)


@asynccontextmanager
async def answering_bad_lines(
    read: Inbound, write: Outbound
) -> AsyncGenerator[MemoryObjectReceiveStream[SessionMessage | Exception]]:
    """The messages of `read` for the server; each line that could not be read is answered on `write`."""
    forward, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)

    async def relay() -> None:
        async with forward:
            async for item in read:
                if not isinstance(item, Exception):
                    await forward.send(item)
                    continue
                reply = error_reply(item)
                logger.info("Answered an unreadable stdio line with JSON-RPC error %d", reply.error.code)
                try:
                    await write.send(SessionMessage(reply))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return

    async with anyio.create_task_group() as relaying:
        relaying.start_soon(relay)
        yield messages
        relaying.cancel_scope.cancel()


def error_reply(error: Exception) -> types.JSONRPCError:
    """-32700 for a line that is not JSON, -32600 (with the line's `id`, if any) for JSON that is not JSON-RPC."""
    problems = error.errors() if isinstance(error, ValidationError) else []
    not_json = [problem for problem in problems if problem["type"] == "json_invalid"]
    if not problems or not_json:
        problem = not_json[0]["msg"].removeprefix("Invalid JSON: ") if not_json else type(error).__name__
        data = types.ErrorData(code=types.PARSE_ERROR, message=NOT_JSON.format(problem=problem))
        return types.JSONRPCError(jsonrpc="2.0", id=None, error=data)
    data = types.ErrorData(code=types.INVALID_REQUEST, message=NOT_JSON_RPC)
    return types.JSONRPCError(jsonrpc="2.0", id=_id_of(problems), error=data)


def _id_of(problems: list[Any]) -> int | str | None:
    """The `id` of the message a union's validation errors were about (each error's input is that message)."""
    for problem in problems:
        message: object = problem.get("input")
        if len(problem["loc"]) <= 2 and isinstance(message, dict):
            found = cast(dict[str, object], message).get("id")
            if isinstance(found, str) or (isinstance(found, int) and not isinstance(found, bool)):
                return found
    return None
