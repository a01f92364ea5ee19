"""MCP resources: the pipelines and their boards, as compact JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from lava_crm_mcp.context import current_crm
from lava_crm_mcp.crm import CrmError, CrmNotFound
from lava_crm_mcp.tools.render import clean

__all__ = ["register_resources"]

JSON = "application/json"


async def _json(read: Callable[[], Awaitable[BaseModel | list[Any]]]) -> str:
    try:
        value = await read()
    except CrmNotFound as exc:
        raise ResourceNotFoundError(exc.message) from exc
    except CrmError as exc:
        raise ResourceError(exc.message) from exc
    data = (
        [item.model_dump(mode="json") for item in value] if isinstance(value, list) else value.model_dump(mode="json")
    )
    return json.dumps(clean(data), separators=(",", ":"), ensure_ascii=False)


async def pipelines() -> str:
    """All deal pipelines with their stages (ids, names, open/won/lost, deal counts)."""
    return await _json(lambda: current_crm().pipelines.list())


async def default_board() -> str:
    """The default pipeline's board: each stage with its deals in order."""
    return await _json(lambda: current_crm().pipelines.board())


async def pipeline_board(pipeline_id: str) -> str:
    """One pipeline's board: each stage with its deals in order."""
    return await _json(lambda: current_crm().pipelines.board(pipeline_id))


def register_resources(server: MCPServer[Any]) -> None:
    server.resource("lava-crm://pipelines", name="pipelines", title="Deal pipelines", mime_type=JSON)(pipelines)
    server.resource("lava-crm://board", name="board", title="Default pipeline board", mime_type=JSON)(default_board)
    server.resource(
        "lava-crm://pipelines/{pipeline_id}/board", name="pipeline_board", title="Pipeline board", mime_type=JSON
    )(pipeline_board)
