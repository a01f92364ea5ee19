"""The token budget of what a model reads, counted offline with the project's own bench (bench/tokens.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from call_results import ok, text
from mcp import Client

from lava_crm_mcp.catalog import catalog

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tokens.py"


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location("bench_tokens", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.anyio
# bpe-openai 0.1.4 loads its data with importlib.resources.open_binary, deprecated since Python 3.11.
@pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")
async def test_the_catalog_and_a_search_page_fit_the_token_budget(bench: ModuleType) -> None:
    encoding = bench.encoding()
    measured = await bench.measure()
    views = [bench.model_view(tool) for tool in measured["tools"]]

    catalog_tokens = len(encoding.encode(bench.compact({"tools": views})))
    average = sum(len(encoding.encode(bench.compact(view))) for view in views) / len(views)
    searches = {
        noun: bench.per_twenty_rows(encoding, text, rows) for noun, (text, rows) in measured["searches"].items()
    }

    assert len(views) == len(catalog().tools)
    assert measured["searches"]["contacts"][1] == 20
    assert catalog_tokens <= bench.CATALOG_BUDGET == 8_000
    assert average <= bench.PER_TOOL_BUDGET
    over = {noun: tokens for noun, tokens in searches.items() if tokens > bench.SEARCH_RESULT_BUDGETS.get(noun, 1_200)}
    assert over == {}


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")
async def test_a_board_of_a_big_pipeline_stays_within_three_thousand_tokens(bench: ModuleType, client: Client) -> None:
    """Bounded per stage, so 300 deals cost what 10,000 do (bench/board.py measures 10,000)."""
    board = ok(await client.call_tool("list_pipelines", {}))["pipelines"][0]
    stages = [stage["id"] for stage in board["stages"]]
    for number in range(300):
        arguments = {
            "name": f"Renewal for Customer Number {number:04}",
            "amount": f"{number + 1}000.00",
            "currency": ("USD", "EUR", "GBP")[number % 3],
            "stage": stages[number % len(stages)],
        }
        ok(await client.call_tool("create_deal", arguments))

    result = await client.call_tool("get_pipeline_board", {})

    assert ok(result)["deal_count"] == 312
    assert len(bench.encoding().encode(text(result))) <= 3_000
