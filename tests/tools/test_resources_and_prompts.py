"""MCP resources (pipelines and boards as compact JSON) and prompts (ready-made CRM workflows)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import TextResourceContents

pytestmark = pytest.mark.anyio


async def read_json(client: Client, uri: str) -> Any:
    contents = (await client.read_resource(uri)).contents
    assert len(contents) == 1
    body = contents[0]
    assert isinstance(body, TextResourceContents)
    assert body.mime_type == "application/json"
    data = json.loads(body.text)
    assert body.text == json.dumps(data, separators=(",", ":"), ensure_ascii=False)  # compact: no indentation
    return data


async def test_the_pipelines_and_the_default_board_are_listed_resources(client: Client) -> None:
    resources = (await client.list_resources()).resources

    assert {(r.uri, r.name, r.mime_type) for r in resources} == {
        ("lava-crm://pipelines", "pipelines", "application/json"),
        ("lava-crm://board", "board", "application/json"),
    }
    assert all(r.description for r in resources)


async def test_a_pipeline_board_is_a_resource_template(client: Client) -> None:
    templates = (await client.list_resource_templates()).resource_templates

    assert [(t.uri_template, t.name, t.mime_type) for t in templates] == [
        ("lava-crm://pipelines/{pipeline_id}/board", "pipeline_board", "application/json"),
    ]


async def test_the_pipelines_resource_lists_every_pipeline_with_its_stages(client: Client) -> None:
    pipelines = await read_json(client, "lava-crm://pipelines")

    assert [p["name"] for p in pipelines] == ["Sales Pipeline", "Partnerships"]
    assert [s["name"] for s in pipelines[0]["stages"]][-2:] == ["Won", "Lost"]


async def test_the_board_resource_is_the_default_pipeline_board(client: Client) -> None:
    board = await read_json(client, "lava-crm://board")
    tool = (await client.call_tool("get_pipeline_board", {})).structured_content or {}

    assert board == tool
    assert board["pipeline"]["is_default"] is True


async def test_the_board_template_reads_any_pipeline_by_id(client: Client) -> None:
    pipelines = await read_json(client, "lava-crm://pipelines")
    partnerships = pipelines[1]

    board = await read_json(client, f"lava-crm://pipelines/{partnerships['id']}/board")

    assert board["pipeline"]["name"] == "Partnerships"
    assert [s["id"] for s in board["stages"]] == [s["id"] for s in partnerships["stages"]]


async def test_an_unknown_pipeline_board_raises_an_mcp_error(client: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await client.read_resource("lava-crm://pipelines/no-such-pipeline/board")

    assert "no-such-pipeline" in str(raised.value)


async def test_resources_strip_invisible_characters_from_crm_text(client: Client) -> None:
    await client.call_tool("create_deal", {"name": "Sneaky\u200b\u202e deal\x07"})

    text = json.dumps(await read_json(client, "lava-crm://board"), ensure_ascii=False)

    assert "Sneaky deal" in text
    assert not {"\u200b", "\u202e", "\x07"} & set(text)


async def test_the_prompts_are_listed_with_described_arguments(client: Client) -> None:
    prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}

    assert sorted(prompts) == ["log_follow_up", "pipeline_review"]
    arguments = {name: [(arg.name, arg.required) for arg in prompt.arguments or []] for name, prompt in prompts.items()}
    assert arguments == {
        "pipeline_review": [("pipeline", False), ("stalled_days", False)],
        "log_follow_up": [("contact", True), ("summary", True), ("due_date", False)],
    }
    for prompt in prompts.values():
        assert prompt.title
        assert prompt.description
        assert all(arg.description for arg in prompt.arguments or [])


async def test_the_pipeline_review_prompt_names_the_board_and_the_tools_to_use(client: Client) -> None:
    default = await client.get_prompt("pipeline_review", {})
    other = await client.get_prompt("pipeline_review", {"pipeline": "Partnerships", "stalled_days": "30"})

    text = getattr(default.messages[0].content, "text", "")
    assert "lava-crm://board" in text
    for tool in ("get_pipeline_board", "search_deals", "move_deal_to_stage", "create_task"):
        assert tool in text
    assert "Do not call get_deal per deal" in text
    other_text = getattr(other.messages[0].content, "text", "")
    assert "get_pipeline_board with pipeline='Partnerships'" in other_text
    assert "search_deals(status='open', pipeline='Partnerships', no_activity_since=30" in other_text


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("pipeline_review", {"stalled_days": "abc"}, "Invalid arguments for prompt pipeline_review: stalled_days:"),
        ("pipeline_review", {"stalled_days": "0"}, "greater than or equal to 1"),
        ("log_follow_up", {"contact": "Ada"}, "summary: Field required"),
        ("log_follow_up", {"contact": "Ada", "summary": "x", "due_date": "soon"}, "due_date:"),
        ("pipeline_review", {"color": "red"}, "color: Extra inputs are not permitted"),
        ("pipeline_rewiew", {}, "Unknown prompt 'pipeline_rewiew'; prompts: pipeline_review, log_follow_up."),
    ],
)
async def test_a_bad_prompt_name_or_argument_is_an_invalid_params_error_saying_why(
    client: Client, name: str, arguments: dict[str, str], says: str
) -> None:
    with pytest.raises(MCPError) as raised:
        await client.get_prompt(name, arguments)

    assert raised.value.code == -32602
    assert says in raised.value.message


async def test_the_follow_up_prompt_names_the_contact_and_the_tools_to_use(client: Client) -> None:
    result = await client.get_prompt(
        "log_follow_up", {"contact": "Ada Lovelace", "summary": "Demo call went well", "due_date": "2026-01-15"}
    )

    assert [message.role for message in result.messages] == ["user"]
    text = getattr(result.messages[0].content, "text", "")
    assert "'Ada Lovelace'" in text
    assert "Demo call went well" in text
    assert "due_date 2026-01-15" in text
    for tool in ("search_contacts", "log_activity", "create_task"):
        assert tool in text
    assert "Never edit the contact's description." in text
