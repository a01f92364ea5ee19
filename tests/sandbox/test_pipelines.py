"""Deal pipelines: provisioning, stages, the board, moving deals, closing and the legacy stage field."""

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio
DEFAULT_STAGES = [
    ("Prospecting", "open"),
    ("Qualification", "open"),
    ("Proposal", "open"),
    ("Negotiation", "open"),
    ("Won", "won"),
    ("Lost", "lost"),
]


async def board(api: httpx.AsyncClient, pipeline_id: str | None = None) -> dict[str, Any]:
    params = {"pipeline_id": pipeline_id} if pipeline_id else {}
    response = await api.get("/api/deal-pipelines/board/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def stage_ids(api: httpx.AsyncClient, pipeline_id: str | None = None) -> dict[str, str]:
    return {stage["name"]: stage["id"] for stage in (await board(api, pipeline_id))["stages"]}


async def column(api: httpx.AsyncClient, name: str, pipeline_id: str | None = None) -> list[str]:
    stages = {stage["name"]: stage for stage in (await board(api, pipeline_id))["stages"]}
    return [deal["name"] for deal in stages[name]["deals"]]


async def move(api: httpx.AsyncClient, deal: dict[str, Any], stage_id: str, **anchor: str) -> httpx.Response:
    return await api.patch(f"/api/deal-pipelines/deals/{deal['id']}/move/", json={"stage_id": stage_id, **anchor})


async def test_every_org_gets_the_default_sales_pipeline_on_first_use(api: httpx.AsyncClient) -> None:
    page = (await api.get("/api/deal-pipelines/")).json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    pipeline = page["results"][0]
    assert (pipeline["name"], pipeline["is_default"]) == ("Sales Pipeline", True)
    assert [(stage["name"], stage["stage_type"]) for stage in pipeline["stages"]] == DEFAULT_STAGES
    assert [stage["order"] for stage in pipeline["stages"]] == list(range(6))
    assert all(stage["deal_count"] == 0 for stage in pipeline["stages"])


async def test_creating_a_pipeline_seeds_four_open_stages_won_and_lost(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/deal-pipelines/", json={"name": "Enterprise"})
    assert response.status_code == 201
    pipeline = response.json()
    assert (pipeline["name"], pipeline["is_default"]) == ("Enterprise", False)
    assert [(stage["name"], stage["stage_type"]) for stage in pipeline["stages"]] == DEFAULT_STAGES
    assert (await api.get("/api/deal-pipelines/")).json()["count"] == 2


BLANK = "This field may not be blank."


@pytest.mark.parametrize(
    ("name", "message"), [("", BLANK), ("  ", BLANK), ("sales pipeline", "A pipeline with this name already exists.")]
)
async def test_a_blank_or_duplicate_pipeline_name_is_400(api: httpx.AsyncClient, name: str, message: str) -> None:
    response = await api.post("/api/deal-pipelines/", json={"name": name})
    assert (response.status_code, response.json()) == (400, {"name": [message]})


async def test_the_board_of_an_unknown_pipeline_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/deal-pipelines/board/", params={"pipeline_id": "nope"})
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


async def test_a_new_deal_lands_at_the_end_of_the_first_open_stage(api: httpx.AsyncClient, create: Any) -> None:
    stages = await stage_ids(api)
    first = await create(api, "opportunities", name="First")
    await create(api, "opportunities", name="Second")
    assert (first["pipeline_stage"], first["is_closed"]) == (stages["Prospecting"], False)
    assert first["pipeline"] == (await board(api))["pipeline"]["id"]
    prospecting = (await board(api))["stages"][0]
    assert [(deal["name"], deal["position"]) for deal in prospecting["deals"]] == [("First", 0), ("Second", 1)]
    assert prospecting["deal_count"] == 2
    assert set(prospecting["deals"][0]) == {"id", "name", "amount", "currency", "account", "is_closed", "position"}


async def test_a_deal_created_in_a_stage_lands_there_and_a_won_stage_closes_it(
    api: httpx.AsyncClient, create: Any
) -> None:
    stages = await stage_ids(api)
    proposal = await create(api, "opportunities", name="P", pipeline_stage=stages["Proposal"])
    assert (proposal["pipeline_stage"], proposal["is_closed"]) == (stages["Proposal"], False)
    won = await create(api, "opportunities", name="W", pipeline_stage=stages["Won"])
    assert (won["is_closed"], won["stage"]) == (True, "CLOSED_WON")
    assert won["closed_on"]
    bad = await api.post("/api/opportunities/", json={"name": "X", "pipeline_stage": "nope"})
    assert bad.json() == {"pipeline_stage": ['Invalid pk "nope" - object does not exist.']}


async def test_adding_a_stage_places_it_after_the_last_open_stage(api: httpx.AsyncClient) -> None:
    pipeline_id = (await board(api))["pipeline"]["id"]
    response = await api.post(f"/api/deal-pipelines/{pipeline_id}/stages/", json={"name": "Contacted"})
    assert response.status_code == 201
    stage = response.json()
    assert {key: stage[key] for key in ("name", "stage_type", "order", "deal_count")} == {
        "name": "Contacted",
        "stage_type": "open",
        "order": 4,
        "deal_count": 0,
    }
    names = [(s["name"], s["order"]) for s in (await board(api))["stages"]]
    assert names[4:] == [("Contacted", 4), ("Won", 5), ("Lost", 6)]


async def test_a_stage_name_must_be_unique_and_non_blank_within_its_pipeline(api: httpx.AsyncClient) -> None:
    pipeline_id = (await board(api))["pipeline"]["id"]
    url = f"/api/deal-pipelines/{pipeline_id}/stages/"
    duplicate = await api.post(url, json={"name": "won"})
    assert (duplicate.status_code, duplicate.json()) == (400, {"name": ["A stage with this name already exists."]})
    assert (await api.post(url, json={})).json() == {"name": ["This field is required."]}
    other = (await api.post("/api/deal-pipelines/", json={"name": "Other"})).json()
    assert (await api.post(f"/api/deal-pipelines/{other['id']}/stages/", json={"name": "Meeting"})).status_code == 201
    assert (await api.post(url, json={"name": "Meeting"})).status_code == 201


async def test_adding_a_stage_to_an_unknown_pipeline_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/deal-pipelines/nope/stages/", json={"name": "Meeting"})
    assert response.status_code == 404


async def test_any_stage_can_be_renamed_but_names_stay_unique(api: httpx.AsyncClient) -> None:
    stages = await stage_ids(api)
    response = await api.put(f"/api/deal-pipelines/stages/{stages['Won']}/", json={"name": "Closed won"})
    assert (response.status_code, response.json()["name"], response.json()["stage_type"]) == (200, "Closed won", "won")
    same = await api.put(f"/api/deal-pipelines/stages/{stages['Proposal']}/", json={"name": "PROPOSAL"})
    assert same.json()["name"] == "PROPOSAL"
    clash = await api.put(f"/api/deal-pipelines/stages/{stages['Proposal']}/", json={"name": "prospecting"})
    assert clash.status_code == 400
    assert (await api.put("/api/deal-pipelines/stages/nope/", json={"name": "X"})).status_code == 404


async def test_only_empty_open_stages_can_be_deleted(api: httpx.AsyncClient, create: Any) -> None:
    stages = await stage_ids(api)
    for name in ("Won", "Lost"):
        response = await api.delete(f"/api/deal-pipelines/stages/{stages[name]}/")
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "Won and Lost stages are required and cannot be deleted."},
        )
    for _ in range(3):
        await create(api, "opportunities", name="D", pipeline_stage=stages["Qualification"])
    full = await api.delete(f"/api/deal-pipelines/stages/{stages['Qualification']}/")
    assert (full.status_code, full.json()) == (400, {"detail": "This stage still holds 3 deal(s); move them first."})
    empty = await api.delete(f"/api/deal-pipelines/stages/{stages['Proposal']}/")
    assert (empty.status_code, empty.content) == (204, b"")
    after = (await board(api))["stages"]
    assert [(s["name"], s["order"]) for s in after] == [
        ("Prospecting", 0),
        ("Qualification", 1),
        ("Negotiation", 2),
        ("Won", 3),
        ("Lost", 4),
    ]
    assert (await api.delete(f"/api/deal-pipelines/stages/{stages['Proposal']}/")).status_code == 404


async def test_moving_a_deal_places_it_above_or_below_another_or_at_the_end(
    api: httpx.AsyncClient, create: Any
) -> None:
    stages = await stage_ids(api)
    a, b, c, d = [await create(api, "opportunities", name=name) for name in "ABCD"]
    target = stages["Proposal"]
    assert (await move(api, a, target)).status_code == 200
    await move(api, b, target)
    assert await column(api, "Proposal") == ["A", "B"]
    await move(api, c, target, above_id=b["id"])
    assert await column(api, "Proposal") == ["A", "C", "B"]
    await move(api, d, target, below_id=a["id"])
    assert await column(api, "Proposal") == ["A", "D", "C", "B"]
    await move(api, b, target, above_id=a["id"])
    assert await column(api, "Proposal") == ["B", "A", "D", "C"]
    positions = [deal["position"] for deal in (await board(api))["stages"][2]["deals"]]
    assert positions == [0, 1, 2, 3]
    assert await column(api, "Prospecting") == []


async def test_an_anchor_outside_the_target_stage_is_400_and_changes_nothing(
    api: httpx.AsyncClient, create: Any
) -> None:
    stages = await stage_ids(api)
    a, b = await create(api, "opportunities", name="A"), await create(api, "opportunities", name="B")
    before = await board(api)
    response = await move(api, a, stages["Proposal"], above_id=b["id"])
    assert (response.status_code, list(response.json())) == (400, ["above_id"])
    assert (await move(api, a, stages["Prospecting"], below_id=a["id"])).status_code == 400
    assert await board(api) == before


async def test_moving_into_won_or_lost_closes_and_back_to_open_reopens(api: httpx.AsyncClient, create: Any) -> None:
    stages = await stage_ids(api)
    deal = await create(api, "opportunities", name="D", closed_on="2025-01-31")
    won = (await move(api, deal, stages["Won"])).json()
    assert (won["is_closed"], won["stage"], won["closed_on"], won["pipeline_stage"]) == (
        True,
        "CLOSED_WON",
        "2025-01-31",
        stages["Won"],
    )
    lost = (await move(api, deal, stages["Lost"])).json()
    assert (lost["is_closed"], lost["stage"]) == (True, "CLOSED_LOST")
    reopened = (await move(api, deal, stages["Negotiation"])).json()
    assert (reopened["is_closed"], reopened["pipeline_stage"]) == (False, stages["Negotiation"])
    fresh = (await move(api, await create(api, "opportunities", name="E"), stages["Won"])).json()
    assert fresh["closed_on"] is not None


async def test_a_deal_can_move_to_a_stage_of_another_pipeline(api: httpx.AsyncClient, create: Any) -> None:
    other = (await api.post("/api/deal-pipelines/", json={"name": "Partnerships"})).json()
    deal = await create(api, "opportunities", name="Partner deal")
    moved = (await move(api, deal, other["stages"][1]["id"])).json()
    assert (moved["pipeline"], moved["pipeline_stage"]) == (other["id"], other["stages"][1]["id"])
    assert await column(api, "Qualification", other["id"]) == ["Partner deal"]
    assert await column(api, "Prospecting") == []


async def test_moving_an_unknown_deal_or_to_an_unknown_stage_is_404(api: httpx.AsyncClient, create: Any) -> None:
    stages = await stage_ids(api)
    deal = await create(api, "opportunities", name="D")
    assert (await move(api, deal, "nope")).status_code == 404
    assert (await move(api, {"id": "nope"}, stages["Won"])).status_code == 404
    missing = await api.patch(f"/api/deal-pipelines/deals/{deal['id']}/move/", json={})
    assert (missing.status_code, missing.json()) == (400, {"stage_id": ["This field is required."]})


async def test_writing_the_legacy_stage_never_moves_the_deal(api: httpx.AsyncClient, create: Any) -> None:
    stages = await stage_ids(api)
    deal = await create(api, "opportunities", name="D", stage="NEGOTIATION")
    assert deal["pipeline_stage"] == stages["Prospecting"]
    before = await board(api)
    patched = (await api.patch(f"/api/opportunities/{deal['id']}/", json={"stage": "CLOSED_WON"})).json()
    assert (patched["stage"], patched["is_closed"], patched["pipeline_stage"]) == (
        "CLOSED_WON",
        False,
        stages["Prospecting"],
    )
    put = await api.put(
        f"/api/opportunities/{deal['id']}/", json={"name": "D", "stage": "CLOSED_LOST", "pipeline_stage": stages["Won"]}
    )
    assert put.json()["pipeline_stage"] == stages["Prospecting"]
    assert await board(api) == before


async def test_an_invalid_legacy_stage_value_is_400(api: httpx.AsyncClient, create: Any) -> None:
    deal = await create(api, "opportunities", name="D")
    response = await api.patch(f"/api/opportunities/{deal['id']}/", json={"stage": "Meeting"})
    assert (response.status_code, response.json()) == (400, {"stage": ['"Meeting" is not a valid choice.']})


async def test_deleting_a_deal_closes_the_gap_in_its_column(api: httpx.AsyncClient, create: Any) -> None:
    deals = [await create(api, "opportunities", name=name) for name in "ABC"]
    await api.delete(f"/api/opportunities/{deals[1]['id']}/")
    prospecting = (await board(api))["stages"][0]
    assert [(deal["name"], deal["position"]) for deal in prospecting["deals"]] == [("A", 0), ("C", 1)]
