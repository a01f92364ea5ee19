"""The exact links, offsets and counts on both sides of a page boundary: drf pages of 20, django-crm slices of 10."""

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import create_app
from lava_crm_mcp.sandbox.app import Dialect

pytestmark = pytest.mark.anyio
BASE = "http://sandbox.test"


async def _filled(connect: Any, dialect: Dialect, resource: str, body: dict[str, Any], total: int) -> Starlette:
    app = create_app(dialect=dialect)
    async with connect(app) as client:
        for i in range(total):
            response = await client.post(f"/api/{resource}/", json={key: f"{value} {i}" for key, value in body.items()})
            assert response.status_code in {200, 201}, response.text
    return app


async def _get(connect: Any, app: Starlette, path: str, params: dict[str, str]) -> httpx.Response:
    async with connect(app) as client:
        return await client.get(path, params=params)


DRF_PAGES = [
    (20, "1", (20, None, None, 20)),
    (20, "2", None),
    (21, "1", (21, f"{BASE}/api/tasks/?page=2", None, 20)),
    (21, "2", (21, None, f"{BASE}/api/tasks/", 1)),
    (21, "3", None),
    (40, "1", (40, f"{BASE}/api/tasks/?page=2", None, 20)),
    (40, "2", (40, None, f"{BASE}/api/tasks/", 20)),
    (40, "3", None),
]
"""(rows, page, (count, next, previous, results on the page) or None for 404 "Invalid page.")."""


@pytest.mark.parametrize(("total", "page", "expected"), DRF_PAGES)
async def test_drf_pages_of_twenty_end_exactly_at_the_last_row(
    connect: Any, total: int, page: str, expected: tuple[int, str | None, str | None, int] | None
) -> None:
    app = await _filled(connect, "drf", "tasks", {"title": "Task"}, total)
    response = await _get(connect, app, "/api/tasks/", {"page": page})
    app.state.sandbox.close()
    if expected is None:
        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})
        return
    body = response.json()
    assert (body["count"], body["next"], body["previous"], len(body["results"])) == expected


CRM_SLICES = [
    (10, "0", (10, 10, None)),
    (10, "10", (10, 0, None)),
    (11, "0", (11, 10, 10)),
    (11, "10", (11, 1, None)),
    (20, "0", (20, 10, 10)),
    (20, "10", (20, 10, None)),
    (20, "20", (20, 0, None)),
]
"""(rows, offset asked, (count, rows in the slice, next offset))."""


@pytest.mark.parametrize(("total", "offset", "expected"), CRM_SLICES)
async def test_django_crm_slices_of_ten_give_the_next_offset_only_while_rows_remain(
    connect: Any, total: int, offset: str, expected: tuple[int, int, int | None]
) -> None:
    app = await _filled(connect, "django-crm", "tasks", {"title": "Task"}, total)
    body = (await _get(connect, app, "/api/tasks/", {"offset": offset})).json()
    app.state.sandbox.close()
    assert (body["tasks_count"], len(body["tasks"]), body["offset"]) == expected


@pytest.mark.parametrize(("total", "offset", "expected"), CRM_SLICES)
async def test_django_crm_next_links_carry_the_next_offset_only_while_rows_remain(
    connect: Any, total: int, offset: str, expected: tuple[int, int, int | None]
) -> None:
    app = await _filled(connect, "django-crm", "invoices", {"invoice_title": "Invoice"}, total)
    body = (await _get(connect, app, "/api/invoices/", {"offset": offset})).json()
    app.state.sandbox.close()
    count, size, following = expected
    link = None if following is None else f"{BASE}/api/invoices/?offset={following}&limit=10"
    assert (body["count"], len(body["results"]), _same_query(body["next"], link)) == (count, size, True)


def _same_query(url: str | None, expected: str | None) -> bool:
    """Links compared by path and parameters, whatever their order."""
    if url is None or expected is None:
        return url == expected
    got, want = httpx.URL(url), httpx.URL(expected)
    return (got.path, sorted(got.params.multi_items())) == (want.path, sorted(want.params.multi_items()))


@pytest.mark.parametrize(("total", "offset", "expected"), CRM_SLICES)
async def test_django_crm_account_sections_give_their_own_next_offset_at_the_boundary(
    connect: Any, total: int, offset: str, expected: tuple[int, int, int | None]
) -> None:
    app = await _filled(connect, "django-crm", "accounts", {"name": "Acme"}, total)
    body = (await _get(connect, app, "/api/accounts/", {"offset": offset})).json()
    app.state.sandbox.close()
    active = body["active_accounts"]
    assert (active["open_accounts_count"], len(active["open_accounts"]), active["offset"]) == expected
