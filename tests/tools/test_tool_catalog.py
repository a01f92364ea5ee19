"""The tool catalog a model sees: a snapshot of list_tools, annotations, and the mode and toolset policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client

from lava_crm_mcp.settings import Settings
from lava_crm_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio

Connect = Callable[..., Client]
NAMES = [tool.name for tool in TOOLS]
READS = {tool.name for tool in TOOLS if tool.tier == "read"}
DELETES = {tool.name for tool in TOOLS if tool.tier == "destructive"}


async def listed(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


async def test_the_tool_list_is_the_inventory_in_order(client: Client) -> None:
    assert await listed(client) == NAMES == [spec.name for spec in TOOLS]


async def test_every_tool_has_a_title_and_all_four_hints_matching_its_tier(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        hints = tool.annotations
        assert tool.title, tool.name
        assert hints is not None, tool.name
        assert hints.title == tool.title, tool.name
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint)
        assert hints.read_only_hint is (tool.name in READS), tool.name
        assert hints.destructive_hint is (tool.name in DELETES), tool.name
        if tool.name in READS:
            assert hints.idempotent_hint is True, tool.name


def test_the_destructive_tools_are_exactly_the_deletes_and_merges() -> None:
    assert sorted(DELETES) == sorted(name for name in NAMES if name.startswith(("delete_", "merge_")))
    assert "delete_stage" in DELETES


@pytest.mark.parametrize(
    ("mode", "hidden"),
    [("read-only", set(NAMES) - READS), ("no-delete", DELETES), ("full", set[str]())],
)
async def test_a_mode_hides_the_tools_it_does_not_allow(connect: Connect, mode: str, hidden: set[str]) -> None:
    async with connect(Settings(mode=mode)) as client:
        assert await listed(client) == [name for name in NAMES if name not in hidden]


@pytest.mark.parametrize(
    ("spelled", "mode"),
    [("Read Only", "read-only"), ("readonly", "read-only"), ("no_delete", "no-delete"), (" ", "full"), ("", "full")],
)
def test_a_mode_may_be_spelled_loosely_or_left_empty(spelled: str, mode: str) -> None:
    assert Settings(LAVA_CRM_MODE=spelled).mode == mode  # pyright: ignore[reportCallIssue]


@pytest.mark.parametrize(
    ("mode", "tool", "arguments", "allows"),
    [
        ("read-only", "create_contact", {"first_name": "Ada", "last_name": "B"}, "allows read tools only"),
        ("read-only", "move_deal_to_stage", {"deal_id": "x", "stage": "Won"}, "allows read tools only"),
        ("read-only", "delete_contact", {"contact_id": "x"}, "allows read tools only"),
        ("no-delete", "delete_deal", {"deal_id": "x"}, "allows read, write tools only"),
        ("no-delete", "delete_stage", {"stage": "x"}, "allows read, write tools only"),
    ],
)
async def test_a_mode_refuses_a_hidden_tool_called_by_name(
    connect: Connect, mode: str, tool: str, arguments: dict[str, Any], allows: str
) -> None:
    async with connect(Settings(mode=mode)) as client:
        result = await client.call_tool(tool, arguments)
        contacts = (await client.call_tool("search_contacts", {})).structured_content or {}

    assert result.is_error
    assert (
        result.content[0].text
        == f"{tool} is disabled: this server runs in {mode} mode (LAVA_CRM_MODE), which {allows}."
    )
    assert contacts["total"] == 25


async def test_no_delete_mode_still_creates_and_moves(connect: Connect) -> None:
    async with connect(Settings(mode="no-delete")) as client:
        created = await client.call_tool("create_task", {"title": "Follow up"})
        board = (await client.call_tool("get_pipeline_board", {})).structured_content or {}
        deal_id = board["stages"][0]["deals"][0]["id"]
        moved = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": "Proposal"})

    assert not created.is_error
    assert not moved.is_error


async def test_a_toolset_filter_hides_and_refuses_the_other_toolsets(connect: Connect) -> None:
    async with connect(Settings(toolsets=("contacts",))) as client:
        names = await listed(client)
        search_deals = await client.call_tool("search_deals", {})
        move = await client.call_tool("move_deal_to_stage", {"deal_id": "x", "stage": "Won"})
        contacts = await client.call_tool("search_contacts", {"query": "ada"})

    assert names == [
        "search_contacts",
        "get_contact",
        "create_contact",
        "update_contact",
        "delete_contact",
        "sync_contacts",
        "merge_contacts",
    ]
    assert search_deals.is_error
    assert search_deals.content[0].text == (
        "search_deals is disabled: its toolset 'deals' is not enabled (LAVA_CRM_TOOLSETS=contacts)."
    )
    assert move.is_error
    assert "its toolset 'deals' is not enabled" in move.content[0].text
    assert not contacts.is_error


async def test_toolsets_and_modes_combine(connect: Connect) -> None:
    async with connect(Settings(mode="read-only", toolsets=("deals", "pipelines"))) as client:
        names = await listed(client)

    assert names == ["search_deals", "get_deal", "list_pipelines", "get_pipeline_board"]


async def test_an_unknown_tool_name_is_an_error_naming_it(client: Client) -> None:
    result = await client.call_tool("search_everything", {})

    assert result.is_error
    assert "search_everything" in result.content[0].text
