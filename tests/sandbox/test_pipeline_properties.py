"""Property test: random sequences of pipeline operations keep the board's invariants after every step."""

from typing import Any

import anyio
import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lava_crm_mcp.sandbox import create_app

NAMES = ["Contacted", "Meeting", "Demo", "won", "Prospecting", "", "  "]
LEGACY = ["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST", "Meeting"]
pick = st.integers(min_value=0, max_value=50)
anchor = st.one_of(st.none(), st.tuples(st.sampled_from(["above_id", "below_id"]), pick))
OPERATIONS = st.one_of(
    st.tuples(st.just("create_pipeline"), st.sampled_from(NAMES)),
    st.tuples(st.just("add_stage"), pick, st.sampled_from(NAMES)),
    st.tuples(st.just("rename_stage"), pick, st.sampled_from(NAMES)),
    st.tuples(st.just("delete_stage"), pick),
    st.tuples(st.just("create_deal"), st.one_of(st.none(), pick)),
    st.tuples(st.just("create_deal"), st.none()),
    st.tuples(st.just("move"), pick, pick, anchor),
    st.tuples(st.just("move"), pick, pick, anchor),
    st.tuples(st.just("legacy"), pick, st.sampled_from(LEGACY)),
    st.tuples(st.just("delete_deal"), pick),
)
Snapshot = dict[str, Any]


async def snapshot(api: httpx.AsyncClient) -> Snapshot:
    pipelines = (await api.get("/api/deal-pipelines/")).json()["results"]
    boards = {
        p["id"]: (await api.get("/api/deal-pipelines/board/", params={"pipeline_id": p["id"]})).json()
        for p in pipelines
    }
    deals: dict[str, Any] = {}
    page: str | None = "/api/opportunities/"
    while page:
        body = (await api.get(page)).json()
        deals.update({deal["id"]: deal for deal in body["results"]})
        page = body["next"]
    return {"pipelines": pipelines, "boards": boards, "deals": deals}


def stages_of(snap: Snapshot) -> list[dict[str, Any]]:
    return [stage for board in snap["boards"].values() for stage in board["stages"]]


def columns(snap: Snapshot) -> dict[str, list[str]]:
    return {stage["id"]: [deal["id"] for deal in stage["deals"]] for stage in stages_of(snap)}


def check_invariants(snap: Snapshot) -> None:
    for pipeline_id, board in snap["boards"].items():
        types = [stage["stage_type"] for stage in board["stages"]]
        assert types[-2:] == ["won", "lost"], types
        assert set(types[:-2]) <= {"open"}, types
        assert [stage["order"] for stage in board["stages"]] == list(range(len(types)))
        listed = next(p for p in snap["pipelines"] if p["id"] == pipeline_id)["stages"]
        assert [s["id"] for s in listed] == [s["id"] for s in board["stages"]]
        for stage in board["stages"]:
            assert [deal["position"] for deal in stage["deals"]] == list(range(len(stage["deals"])))
            assert stage["deal_count"] == len(stage["deals"])
            for card in stage["deals"]:
                deal = snap["deals"][card["id"]]
                assert (deal["pipeline"], deal["pipeline_stage"]) == (pipeline_id, stage["id"])
                assert deal["is_closed"] == card["is_closed"] == (stage["stage_type"] != "open")
    placed = [deal_id for ids in columns(snap).values() for deal_id in ids]
    assert sorted(placed) == sorted(snap["deals"])


def check_stable(before: Snapshot, after: Snapshot, touched: str | None) -> None:
    """Deals that were not moved keep their relative order in every column."""
    old, new = columns(before), columns(after)
    for stage_id, ids in new.items():
        kept = [deal for deal in old.get(stage_id, []) if deal != touched and deal in ids]
        assert [deal for deal in ids if deal != touched and deal in kept] == kept


def check_anchor(after: Snapshot, op: tuple[Any, ...], body: dict[str, Any], deal: str) -> None:
    """A successful move with above_id/below_id puts the deal right next to its anchor."""
    column = columns(after)[body["stage_id"]]
    for key, shift in (("above_id", -1), ("below_id", 1)):
        if key in body:
            assert column.index(deal) == column.index(body[key]) + shift, op
            return
    assert column[-1] == deal


def nth(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


async def apply(api: httpx.AsyncClient, snap: Snapshot, op: tuple[Any, ...]) -> tuple[httpx.Response, str | None]:
    stages, deals = [s["id"] for s in stages_of(snap)], sorted(snap["deals"])
    pipeline_ids = list(snap["boards"])
    match op:
        case ("create_pipeline", name):
            return await api.post("/api/deal-pipelines/", json={"name": name}), None
        case ("add_stage", index, name):
            return await api.post(f"/api/deal-pipelines/{nth(pipeline_ids, index)}/stages/", json={"name": name}), None
        case ("rename_stage", index, name):
            return await api.put(f"/api/deal-pipelines/stages/{nth(stages, index)}/", json={"name": name}), None
        case ("delete_stage", index):
            return await api.delete(f"/api/deal-pipelines/stages/{nth(stages, index)}/"), None
        case ("create_deal", index):
            body = {"name": "Deal"} if index is None else {"name": "Deal", "pipeline_stage": nth(stages, index)}
            response = await api.post("/api/opportunities/", json=body)
            return response, response.json().get("id")
        case ("move", deal_index, stage_index, anchor):
            deal = nth(deals, deal_index) or "missing"
            body = {"stage_id": nth(stages, stage_index)}
            if anchor is not None:
                target = columns(snap)[body["stage_id"]] or deals or ["missing"]
                body[anchor[0]] = nth(target, anchor[1])
            response = await api.patch(f"/api/deal-pipelines/deals/{deal}/move/", json=body)
            if response.status_code == 200:
                check_anchor(await snapshot(api), op, body, deal)
            return response, deal
        case ("legacy", index, value):
            deal = nth(deals, index) or "missing"
            return await api.patch(f"/api/opportunities/{deal}/", json={"stage": value}), None
        case ("delete_deal", index):
            deal = nth(deals, index) or "missing"
            return await api.delete(f"/api/opportunities/{deal}/"), deal
        case _:
            raise AssertionError(op)


def without_stamps(snap: Snapshot) -> Snapshot:
    deals = {
        key: {k: v for k, v in deal.items() if k not in {"stage", "updated_at"}} for key, deal in snap["deals"].items()
    }
    return {**snap, "deals": deals}


async def run(operations: list[tuple[Any, ...]]) -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer sandbox"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as api:
        for name in ("Alpha", "Beta", "Gamma"):
            await api.post("/api/opportunities/", json={"name": name})
        before = await snapshot(api)
        check_invariants(before)
        for op in operations:
            response, touched = await apply(api, before, op)
            assert response.status_code < 500, response.text
            event(f"{op[0]} -> {response.status_code}")
            after = await snapshot(api)
            check_invariants(after)
            if response.status_code >= 400:
                assert after == before, op
            check_stable(before, after, touched)
            if op[0] == "legacy":
                assert without_stamps(after) == without_stamps(before)
            before = after
    app.state.sandbox.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPERATIONS, min_size=1, max_size=20))
def test_random_pipeline_operations_keep_the_board_invariants(operations: list[tuple[Any, ...]]) -> None:
    anyio.run(run, operations)
