"""The token budget of what a model reads, counted offline with the project's own bench (bench/tokens.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

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

    catalog = len(encoding.encode(bench.compact({"tools": views})))
    average = sum(len(encoding.encode(bench.compact(view))) for view in views) / len(views)
    search = len(encoding.encode(measured["search_text"]))

    assert len(views) == 42
    assert measured["rows"] == 20
    assert catalog <= 7_000
    assert average <= 170
    assert search <= 1_200
