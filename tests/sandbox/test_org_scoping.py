"""Pipelines, stages and deals are scoped to the token's org: another org's ids are 404 (400 as a reference).

Org A owns a second pipeline with a custom stage and a deal on it; org B tries every pipeline and stage route
with A's ids. Each attempt must fail, and A's pipelines, boards and deals must read exactly as before.
"""

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import create_app
from lava_crm_mcp.sandbox.app import Dialect

pytestmark = pytest.mark.anyio
TOKENS = {"token-a": "org-a", "token-b": "org-b"}


@dataclass(frozen=True)
class Owned:
    """Org A's ids: its default and its own pipeline, a stage of each, an empty custom stage and a deal."""

    default_pipeline: str
    pipeline: str
    default_stage: str
    stage: str
    empty_stage: str
    deal: str


Attack = Callable[[httpx.AsyncClient, Owned, str], Awaitable[httpx.Response]]
"""What org B sends with A's ids (and B's own deal id)."""


def _columns(board: dict[str, Any]) -> list[dict[str, Any]]:
    return board["stages"] if "stages" in board else board["columns"]


async def _board(client: httpx.AsyncClient, pipeline_id: str | None = None) -> dict[str, Any]:
    response = await client.get("/api/deal-pipelines/board/", params={"pipeline_id": pipeline_id or ""})
    assert response.status_code == 200, response.text
    return response.json()


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, json=body)
    assert response.status_code in {200, 201}, response.text
    return response.json()["id"]


async def _seed_a(client: httpx.AsyncClient) -> Owned:
    default = await _board(client)
    pipeline = await _created(client, "/api/deal-pipelines/", {"name": "A's pipeline"})
    stage = await _created(client, f"/api/deal-pipelines/{pipeline}/stages/", {"name": "A's custom"})
    empty = await _created(client, f"/api/deal-pipelines/{pipeline}/stages/", {"name": "A's empty"})
    deal = await _created(client, "/api/opportunities/", {"name": "A's deal", "pipeline_stage": stage})
    first = _columns(default)[0]["id"]
    return Owned(default["pipeline"]["id"], pipeline, first, stage, empty, deal)


async def _view(client: httpx.AsyncClient, owned: Owned) -> list[Any]:
    """Everything org A can see of its pipelines: the list, both boards and its deal."""
    pipelines = (await client.get("/api/deal-pipelines/")).json()
    boards = [await _board(client, ident) for ident in (owned.default_pipeline, owned.pipeline)]
    deal = (await client.get(f"/api/opportunities/{owned.deal}/")).json()
    return [pipelines, *boards, deal]


async def _move_to_stage(b: httpx.AsyncClient, a: Owned, deal: str) -> httpx.Response:
    return await b.patch(f"/api/deal-pipelines/deals/{deal}/move/", json={"stage_id": a.stage})


async def _move_to_default_stage(b: httpx.AsyncClient, a: Owned, deal: str) -> httpx.Response:
    return await b.patch(f"/api/deal-pipelines/deals/{deal}/move/", json={"stage_id": a.default_stage})


async def _move_their_deal(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    own_stage = _columns(await _board(b))[0]["id"]
    return await b.patch(f"/api/deal-pipelines/deals/{a.deal}/move/", json={"stage_id": own_stage})


async def _rename_stage(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.put(f"/api/deal-pipelines/stages/{a.stage}/", json={"name": "Taken over"})


async def _delete_stage(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.delete(f"/api/deal-pipelines/stages/{a.empty_stage}/")


async def _add_stage(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.post(f"/api/deal-pipelines/{a.pipeline}/stages/", json={"name": "Planted"})


async def _read_board(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.get("/api/deal-pipelines/board/", params={"pipeline_id": a.pipeline})


async def _read_default_board(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.get("/api/deal-pipelines/board/", params={"pipeline_id": a.default_pipeline})


NOT_FOUND: dict[str, Attack] = {
    "move a deal into their stage": _move_to_stage,
    "move a deal into their default stage": _move_to_default_stage,
    "move their deal into our stage": _move_their_deal,
    "rename their stage": _rename_stage,
    "delete their empty stage": _delete_stage,
    "add a stage to their pipeline": _add_stage,
    "read their board": _read_board,
    "read their default board": _read_default_board,
}


@dataclass(frozen=True)
class Orgs:
    app: Starlette
    a: httpx.AsyncClient
    b: httpx.AsyncClient


@pytest.fixture
def fixed(dialect: Dialect) -> Iterator[Starlette]:
    app = create_app(tokens=TOKENS, dialect=dialect)
    yield app
    app.state.sandbox.close()


async def _attempt(fixed: Starlette, connect: Any, attack: Attack) -> tuple[httpx.Response, list[Any], list[Any]]:
    """A's view before, B's response to the attack, A's view after."""
    async with connect(fixed, "token-a") as a, connect(fixed, "token-b") as b:
        owned = await _seed_a(a)
        own_deal = await _created(b, "/api/opportunities/", {"name": "B's deal"})
        before = await _view(a, owned)
        response = await attack(b, owned, own_deal)
        return response, before, await _view(a, owned)


@pytest.mark.parametrize("attack", NOT_FOUND.values(), ids=NOT_FOUND.keys())
async def test_another_orgs_pipeline_or_stage_id_is_404_and_their_data_is_unchanged(
    fixed: Starlette, connect: Any, attack: Attack
) -> None:
    response, before, after = await _attempt(fixed, connect, attack)
    assert response.status_code == 404, response.text
    assert after == before


async def _create_in_their_stage(b: httpx.AsyncClient, a: Owned, _deal: str) -> httpx.Response:
    return await b.post("/api/opportunities/", json={"name": "Planted", "pipeline_stage": a.stage})


async def _anchor_on_their_deal(b: httpx.AsyncClient, a: Owned, deal: str) -> httpx.Response:
    stage = _columns(await _board(b))[0]["id"]
    return await b.patch(f"/api/deal-pipelines/deals/{deal}/move/", json={"stage_id": stage, "above_id": a.deal})


INVALID: dict[str, tuple[Attack, str]] = {
    "create a deal in their stage": (_create_in_their_stage, "pipeline_stage"),
    "anchor a move on their deal": (_anchor_on_their_deal, "above_id"),
}


@pytest.mark.parametrize(("attack", "field"), INVALID.values(), ids=INVALID.keys())
async def test_another_orgs_stage_or_deal_as_a_reference_is_a_400_and_their_data_is_unchanged(
    fixed: Starlette,
    connect: Any,
    field_errors: Callable[[httpx.Response], dict[str, list[str]]],
    attack: Attack,
    field: str,
) -> None:
    response, before, after = await _attempt(fixed, connect, attack)
    assert list(field_errors(response)) == [field]
    assert after == before


async def test_each_org_still_sees_only_its_own_pipelines_and_deals(fixed: Starlette, connect: Any) -> None:
    async with connect(fixed, "token-a") as a, connect(fixed, "token-b") as b:
        owned = await _seed_a(a)
        pipelines = (await b.get("/api/deal-pipelines/")).json()
        deals = (await b.get("/api/opportunities/", params={"pipeline": owned.pipeline})).json()
    listed = pipelines.get("results") or pipelines["pipelines"]
    assert [pipeline["name"] for pipeline in listed] == ["Sales Pipeline"]
    assert deals.get("count", deals.get("opportunities_count")) == 0
