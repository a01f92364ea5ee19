"""MCP resources: the pipelines and their (bounded) boards, as compact JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import MCPError, types
from mcp.server import ServerRequestContext

from lava_crm_mcp.context import AppState, crm_for
from lava_crm_mcp.crm import CrmClient, CrmError, CrmNotFound
from lava_crm_mcp.tools import ToolFailure
from lava_crm_mcp.tools.board import BoardArgs, read_board

__all__ = ["ResourceServer"]

JSON = "application/json"
Context = ServerRequestContext[AppState, Any]
Read = Callable[[CrmClient], Awaitable[Any]]
BOARD_TEMPLATE = "lava-crm://pipelines/{pipeline_id}/board"
PIPELINE_BOARD = re.compile(r"^lava-crm://pipelines/([A-Za-z0-9_-]{1,64})/board$")

RESOURCES = [
    types.Resource(
        uri="lava-crm://pipelines",
        name="pipelines",
        title="Deal pipelines",
        mime_type=JSON,
        description="All deal pipelines with their stages (ids, names, open/won/lost, deal counts).",
    ),
    types.Resource(
        uri="lava-crm://board",
        name="board",
        title="Default pipeline board",
        mime_type=JSON,
        description="The default pipeline's board: per stage its deal count, value and first deals.",
    ),
]
TEMPLATES = [
    types.ResourceTemplate(
        uri_template=BOARD_TEMPLATE,
        name="pipeline_board",
        title="Pipeline board",
        mime_type=JSON,
        description="One pipeline's board, bounded like get_pipeline_board.",
    ),
]


async def _pipelines(crm: CrmClient) -> Any:
    return [pipeline.model_dump(mode="json") for pipeline in await crm.pipelines.list()]


def _board(pipeline_id: str | None) -> Read:
    async def read(crm: CrmClient) -> Any:
        return (await read_board(crm, BoardArgs(pipeline=pipeline_id))).model_dump(mode="json")

    return read


def _reader(uri: str) -> Read | None:
    if uri == "lava-crm://pipelines":
        return _pipelines
    if uri == "lava-crm://board":
        return _board(None)
    match = PIPELINE_BOARD.match(uri)
    return _board(match.group(1)) if match else None


class ResourceServer:
    """resources/list, resources/templates/list and resources/read."""

    async def list_resources(
        self, ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=RESOURCES)

    async def list_templates(
        self, ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)

    async def read_resource(self, ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        read = _reader(uri)
        if read is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}", data={"uri": uri})
        try:
            value = await read(crm_for(ctx))
        except CrmNotFound as exc:
            raise MCPError(types.INVALID_PARAMS, exc.message, data={"uri": uri}) from exc
        except (CrmError, ToolFailure) as exc:
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from exc
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=JSON, text=text)])
