"""A task's optional `lead` and `case`: validated like every reference, filtered on, cleared when their record goes."""

from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio


async def test_a_task_can_follow_up_a_lead_and_work_on_a_case(api: httpx.AsyncClient, create: Any) -> None:
    lead = await create(api, "leads", title="Data warehouse migration")
    case = await create(api, "cases", name="Dashboard export times out")
    task = await create(api, "tasks", title="Reproduce export timeout", lead=lead["id"], case=case["id"])
    assert (task["lead"], task["case"]) == (lead["id"], case["id"])
    assert (await create(api, "tasks", title="Unrelated"))["lead"] is None
    cleared = (await api.patch(f"/api/tasks/{task['id']}/", json={"lead": None})).json()
    assert (cleared["lead"], cleared["case"]) == (None, case["id"])


@pytest.mark.parametrize("field", ["lead", "case"])
async def test_a_task_parent_must_be_an_existing_record_of_that_kind(
    api: httpx.AsyncClient, create: Any, field: str
) -> None:
    contact = await create(api, "contacts", first_name="Barbara", last_name="Liskov")
    for ident in ("nope", contact["id"]):
        response = await api.post("/api/tasks/", json={"title": "T", field: ident})
        assert (response.status_code, response.json()) == (
            400,
            {field: [f'Invalid pk "{ident}" - object does not exist.']},
        )


async def test_a_task_parent_of_another_org_is_refused(connect: Any, create: Any) -> None:
    app = create_app(open_mode=True)
    async with connect(app, "alice") as alice, connect(app, "bob") as bob:
        lead = await create(alice, "leads", title="Alice's lead")
        response = await bob.post("/api/tasks/", json={"title": "T", "lead": lead["id"]})
    assert (response.status_code, response.json()) == (
        400,
        {"lead": [f'Invalid pk "{lead["id"]}" - object does not exist.']},
    )
    app.state.sandbox.close()


async def test_deleting_a_lead_or_a_case_clears_it_from_its_tasks(api: httpx.AsyncClient, create: Any) -> None:
    lead = await create(api, "leads", title="Fleet pilot")
    case = await create(api, "cases", name="Sensor outage")
    task = await create(api, "tasks", title="Call Nikola", lead=lead["id"], case=case["id"], priority="High")
    await api.delete(f"/api/leads/{lead['id']}/")
    assert (await api.get("/api/tasks/", params={"lead": lead["id"]})).json()["count"] == 0
    await api.delete(f"/api/cases/{case['id']}/")
    after = (await api.get(f"/api/tasks/{task['id']}/")).json()
    assert after == {**task, "lead": None, "case": None, "updated_at": after["updated_at"]}
