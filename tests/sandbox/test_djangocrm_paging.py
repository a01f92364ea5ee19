"""The django-crm dialect pages every list by limit/offset (ignoring `page`), each list in its own shape."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio
TOTAL = 45
Body = dict[str, Any]
Slice = tuple[list[Body], int | None]
Reader = Callable[[Body, int], Slice]
"""From one list body (and the offset it was asked for): its records and the offset to ask for next."""


def keyed(count_key: str, items_key: str) -> Reader:
    def read(body: Body, _offset: int) -> Slice:
        assert body[count_key] == TOTAL
        return body[items_key], body["offset"]

    return read


def by_count(body: Body, offset: int) -> Slice:
    """The contacts list has no offset and no next link: the client pages by the count."""
    assert body["count"] == TOTAL
    following = offset + len(body["results"])
    return body["results"], following if following < body["count"] else None


def split(first: tuple[str, str, str], second: tuple[str, str, str]) -> Reader:
    def read(body: Body, _offset: int) -> Slice:
        sections = [body[outer] for outer, _, _ in (first, second)]
        assert sum(section[count] for section, (_, _, count) in zip(sections, (first, second), strict=True)) == TOTAL
        items = [item for section, (_, key, _) in zip(sections, (first, second), strict=True) for item in section[key]]
        offsets = {section["offset"] for section in sections} - {None}
        assert len(offsets) <= 1
        return items, offsets.pop() if offsets else None

    return read


def linked(body: Body, offset: int) -> Slice:
    assert body["count"] == TOTAL
    if body["next"] is None:
        return body["results"], None
    params = httpx.URL(body["next"]).params
    assert ("page" not in params, params["limit"], int(params["offset"])) == (True, "10", offset + 10)
    return body["results"], int(params["offset"])


ACCOUNTS = split(
    ("active_accounts", "open_accounts", "open_accounts_count"),
    ("closed_accounts", "close_accounts", "close_accounts_count"),
)
LEADS = split(("open_leads", "open_leads", "leads_count"), ("close_leads", "close_leads", "leads_count"))
LISTS: dict[str, tuple[str, Callable[[int], Body], Reader]] = {
    "contacts": ("/api/contacts/", lambda i: {"first_name": f"Ada{i}", "last_name": "Lovelace"}, by_count),
    "accounts": ("/api/accounts/", lambda i: {"name": f"Acme {i}", "status": "close" if i % 3 else "open"}, ACCOUNTS),
    "leads": ("/api/leads/", lambda i: {"title": f"Lead {i}", "status": "closed" if i % 4 else "assigned"}, LEADS),
    "opportunities": (
        "/api/opportunities/",
        lambda i: {"name": f"Deal {i}"},
        keyed("opportunities_count", "opportunities"),
    ),
    "tasks": ("/api/tasks/", lambda i: {"title": f"Task {i}"}, keyed("tasks_count", "tasks")),
    "cases": ("/api/cases/", lambda i: {"name": f"Case {i}"}, keyed("cases_count", "cases")),
    "invoices": ("/api/invoices/", lambda i: {"invoice_title": f"Invoice {i}"}, linked),
    "pipelines": ("/api/deal-pipelines/", lambda i: {"name": f"Pipeline {i}"}, keyed("pipelines_count", "pipelines")),
}


async def fill(crm: httpx.AsyncClient, name: str) -> str:
    """Create records until the list holds 45 (the default pipeline counts as one); return the list's path."""
    path, body, _ = LISTS[name]
    for i in range(TOTAL - (name == "pipelines")):
        assert (await crm.post(path, json=body(i))).status_code in {200, 201}
    return path


@pytest.mark.parametrize("name", list(LISTS))
async def test_walking_a_list_by_offset_visits_every_record_exactly_once_and_page_is_ignored(
    crm: httpx.AsyncClient, name: str
) -> None:
    path, read = await fill(crm, name), LISTS[name][2]
    visited: list[str] = []
    offset: int | None = 0
    for _ in range(TOTAL):
        if offset is None:
            break
        params = {"page": "3"} | ({"offset": str(offset)} if offset else {})
        items, offset = read((await crm.get(path, params=params)).json(), offset)
        assert 0 < len(items) <= 20  # 10 a section; accounts and leads have two
        visited += [item["id"] for item in items]
    everything, _ = read((await crm.get(path, params={"limit": "1000"})).json(), 0)
    assert len(visited) == len(set(visited)) == TOTAL
    assert set(visited) == {item["id"] for item in everything}


async def test_account_sections_are_sliced_by_the_same_window_with_their_own_counts_and_offsets(
    crm: httpx.AsyncClient,
) -> None:
    path = await fill(crm, "accounts")
    body = (await crm.get(path, params={"limit": "10", "offset": "10"})).json()
    active, closed = body["active_accounts"], body["closed_accounts"]
    assert (active["open_accounts_count"], len(active["open_accounts"]), active["offset"]) == (15, 5, None)
    assert (closed["close_accounts_count"], len(closed["close_accounts"]), closed["offset"]) == (30, 10, 20)
    assert {account["status"] for account in closed["close_accounts"]} == {"close"}


async def test_invoice_links_carry_limit_and_offset_and_keep_the_filters(crm: httpx.AsyncClient) -> None:
    await fill(crm, "invoices")
    body = (
        await crm.get("/api/invoices/", params={"status": "Draft", "limit": "20", "offset": "20", "page": "7"})
    ).json()
    assert (body["count"], len(body["results"])) == (45, 20)
    assert body["next"] == "http://sandbox.test/api/invoices/?status=Draft&limit=20&offset=40"
    assert body["previous"] == "http://sandbox.test/api/invoices/?status=Draft&limit=20&offset=0"
    last = (await crm.get(body["next"])).json()
    assert (len(last["results"]), last["next"], last["previous"]) == (5, None, body["next"].replace("40", "20"))


@pytest.mark.parametrize("name", ["contacts", "opportunities", "invoices", "pipelines"])
async def test_a_limit_has_no_maximum_and_an_offset_past_the_end_is_an_empty_last_slice(
    crm: httpx.AsyncClient, name: str
) -> None:
    path, read = await fill(crm, name), LISTS[name][2]
    assert len(read((await crm.get(path, params={"limit": "1000"})).json(), 0)[0]) == TOTAL
    past = await crm.get(path, params={"offset": "99"})
    assert past.status_code == 200
    assert read(past.json(), 99) == ([], None)


async def test_an_offset_counts_only_the_filtered_records(crm: httpx.AsyncClient) -> None:
    path = await fill(crm, "leads")
    body = (await crm.get(path, params={"status": "assigned", "offset": "10"})).json()
    assert (body["open_leads"]["leads_count"], len(body["open_leads"]["open_leads"])) == (12, 2)
    assert (body["open_leads"]["offset"], body["close_leads"]) == (
        None,
        {"leads_count": 0, "close_leads": [], "offset": None},
    )


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"limit": "ten"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "2.5"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "0"}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"offset": "-1"}, {"offset": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"offset": "x", "limit": "y"},
            {"limit": ["A valid integer is required."], "offset": ["A valid integer is required."]},
        ),
        ({"offset": "１"}, {"offset": ["A valid integer is required."]}),
    ],
)
@pytest.mark.parametrize("path", ["/api/contacts/", "/api/accounts/", "/api/invoices/", "/api/deal-pipelines/"])
async def test_a_bad_limit_or_offset_is_a_400_in_the_error_envelope(
    crm: httpx.AsyncClient, path: str, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = await crm.get(path, params=params)
    assert (response.status_code, response.json()) == (400, {"error": True, "errors": errors})


@pytest.mark.parametrize("page", ["0", "-4", "abc", "999"])
async def test_any_page_value_is_ignored(crm: httpx.AsyncClient, page: str) -> None:
    await crm.post("/api/cases/", json={"name": "Case"})
    body = (await crm.get("/api/cases/", params={"page": page, "limit": ""})).json()
    assert (body["cases_count"], len(body["cases"]), body["offset"]) == (1, 1, None)
