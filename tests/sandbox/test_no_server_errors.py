"""Hostile input never gets a 5xx: odd paging values on every list, odd bodies on every write, in both dialects.

The bodies are generated deterministically (no hypothesis): every field of every resource, the newer era's aliases
and the read-only names, each set to every odd value below, alone and all at once. A 400 must leave the database
as it was; an accepted write must leave a record that reads back, whose references name real records or null.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox.djangocrm import ALIASES
from lava_crm_mcp.sandbox.resources import BY_NAME, RESOURCES

pytestmark = pytest.mark.anyio
LISTS = [*(f"/api/{res.name}/" for res in RESOURCES), "/api/deal-pipelines/"]
HUGE = "9" * 20
INTEGERS = [HUGE, "9" * 19, "9" * 18, "999999999", "-1", f"-{HUGE}", "0", "1", " 2 ", "+1", "١٢", "１", "٣"]
NOT_INTEGERS = ["", " ", "1.5", "1e3", "0x10", "1_000", "NaN", "inf", "last", "9" * 5000, "\x00", "🦄", "%"]
QUERY_VALUES = [*INTEGERS, *NOT_INTEGERS]
WRONG_TYPES: list[object] = [None, True, -1, 1.5, 10**30, 1e308, [], [""], ["x"], [{"id": "x"}], {}]
NESTED: list[object] = [{"id": {"deep": [1, {"deeper": None}]}}]
ODD_TEXT = ["", "   ", "x" * 300, "x" * 20_000, "a\x00b", "\ud800", "🦄" * 64, "\u202e' OR 1=1 --"]
ODD_NUMBERS = ["١٢٣", "١٩٩٠-٠١-٠١", "1E+400", "NaN", "2024-02-30", "12345678901.999"]
ODD: list[object] = [*WRONG_TYPES, *NESTED, *ODD_TEXT, *ODD_NUMBERS]
READ_ONLY = ("id", "created_at", "updated_at", "invoice_number", "pipeline", "is_closed")
RAW_BODIES = [b"{", b"null", b"[]", b'"x"', b"1", b"\xff\xfe{}", b'{"name": NaN}', b"[" * 5000 + b"]" * 5000]
TABLES = ("orgs", "records", "pipelines", "stages", "placements")


def fields(resource: str, dialect: str) -> list[str]:
    """The names a write body of `resource` is read by: its fields, and in django-crm the newer era's aliases."""
    aliases = [*ALIASES[resource]] if dialect == "django-crm" and resource in ALIASES else []
    return [*BY_NAME[resource].model.model_fields, *aliases]


def odd_bodies(resource: str, dialect: str, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """For each odd value: one body with every field (and read-only name) set to it, then each field alone."""
    names = fields(resource, dialect)
    for value in ODD:
        yield dict.fromkeys([*names, *READ_ONLY], value)
        for name in names:
            yield {**base, name: value}


def state(app: Starlette) -> tuple[int, ...]:
    """The row count of every table and the connection's change counter (a failed write must move neither)."""
    conn = app.state.sandbox.conn
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)  # noqa: S608
    return (*conn.execute(f"SELECT {counts}").fetchone(), conn.total_changes)


def _ids(value: object) -> list[object]:
    if isinstance(value, list):
        return list(cast(list[object], value))
    return [] if value is None else [value]


def dangling(app: Starlette, resource: str, ident: str) -> list[str]:
    """The references of a stored record that name no record of the right kind (null and [] name none)."""
    conn, found = app.state.sandbox.conn, list[str]()
    record: dict[str, object] = json.loads(
        conn.execute("SELECT data FROM records WHERE id = ?", (ident,)).fetchone()[0]
    )
    for name, kind in BY_NAME[resource].refs.items():
        for ref in _ids(record.get(name)):
            sql = "SELECT 1 FROM records WHERE id = ? AND kind = ?"
            if not isinstance(ref, str) or conn.execute(sql, (ref, kind)).fetchone() is None:
                found.append(f"{name}={ref!r}")
    return found


async def sent(client: httpx.AsyncClient, app: Starlette, method: str, url: str, content: bytes) -> httpx.Response:
    """The response to a raw body, checked: never a 5xx, and a 400 that changed nothing."""
    before = state(app)
    response = await client.request(method, url, content=content)
    assert response.status_code < 500, f"{method} {url} {content[:200]!r}: {response.text[:300]}"
    if response.status_code == 400:
        assert state(app) == before, f"{method} {url} {content[:200]!r} answered 400 but wrote"
    return response


def encoded(body: object) -> bytes:
    return json.dumps(body).encode()  # ASCII-escaped, so lone surrogates survive the trip


@pytest.mark.parametrize("param", ["page", "limit", "offset"])
@pytest.mark.parametrize("path", LISTS)
async def test_no_paging_value_is_a_server_error(
    sandbox: Starlette, connect: Any, dialect: str, path: str, param: str
) -> None:
    async with connect(sandbox) as client:
        await client.post("/api/tasks/", json={"title": "One task"})
        for value in QUERY_VALUES:
            response = await client.get(path, params={param: value})
            assert response.status_code in {200, 400, 404}, f"{param}={value[:40]!r}: {response.text[:300]}"
            if dialect == "drf" and response.status_code != 200:
                assert (param, response.status_code, response.json()) == ("page", 404, {"detail": "Invalid page."})
            if dialect == "django-crm" and response.status_code != 200:
                assert (response.status_code, set(response.json()["errors"])) == (400, {param}), value[:40]


@pytest.mark.parametrize("page", [HUGE, f"-{HUGE}", "9" * 5000, "999999999"])
async def test_an_absurd_drf_page_is_drfs_404_invalid_page(api: httpx.AsyncClient, page: str) -> None:
    response = await api.get("/api/contacts/", params={"page": page})
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


@pytest.mark.parametrize("param", ["limit", "offset"])
async def test_an_absurd_django_crm_limit_or_offset_is_a_400_naming_it(crm: httpx.AsyncClient, param: str) -> None:
    response = await crm.get("/api/contacts/", params={param: HUGE})
    assert (response.status_code, response.json()) == (
        400,
        {"error": True, "errors": {param: ["A valid integer is required."]}},
    )


@pytest.mark.parametrize("path", LISTS)
async def test_the_largest_limit_and_offset_together_are_an_empty_slice(
    sandbox: Starlette, connect: Any, path: str
) -> None:
    async with connect(sandbox) as client:
        response = await client.get(path, params={"limit": "9" * 18, "offset": "9" * 18, "page": "1"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("resource", [res.name for res in RESOURCES])
async def test_no_create_or_patch_body_is_a_server_error_and_a_400_writes_nothing(
    newest: Callable[[Starlette, str], str],
    sandbox: Starlette,
    connect: Any,
    minimal: dict[str, dict[str, Any]],
    dialect: str,
    resource: str,
) -> None:
    async with connect(sandbox) as client:
        await sent(client, sandbox, "POST", f"/api/{resource}/", encoded(minimal[resource]))
        target = newest(sandbox, resource)
        for body in odd_bodies(resource, dialect, minimal[resource]):
            for method, url in (("POST", f"/api/{resource}/"), ("PATCH", f"/api/{resource}/{target}/")):
                response = await sent(client, sandbox, method, url, encoded(body))
                if response.status_code < 300:
                    ident = newest(sandbox, resource) if method == "POST" else target
                    assert (await client.get(f"/api/{resource}/{ident}/")).status_code == 200
                    assert not dangling(sandbox, resource, ident), body
        for raw in RAW_BODIES:
            await sent(client, sandbox, "POST", f"/api/{resource}/", raw)
            await sent(client, sandbox, "PUT", f"/api/{resource}/{target}/", raw)
        assert (await client.get(f"/api/{resource}/", params={"limit": "1000"})).status_code == 200


async def _board_ids(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """The default pipeline's id, its first stage's id and a deal in that stage."""
    await client.post("/api/opportunities/", json={"name": "Deal"})
    board = (await client.get("/api/deal-pipelines/board/")).json()
    stages = board.get("stages") or board["columns"]
    deals = stages[0].get("deals") or stages[0]["items"]
    return board["pipeline"]["id"], stages[0]["id"], deals[0]["id"]


async def test_no_pipeline_stage_or_move_body_is_a_server_error_and_a_400_writes_nothing(
    sandbox: Starlette, connect: Any
) -> None:
    async with connect(sandbox) as client:
        pipeline, stage, deal = await _board_ids(client)
        move = f"/api/deal-pipelines/deals/{deal}/move/"
        writes: list[tuple[str, str, dict[str, object], str]] = [
            ("POST", "/api/deal-pipelines/", {}, "name"),
            ("POST", f"/api/deal-pipelines/{pipeline}/stages/", {}, "name"),
            ("PUT", f"/api/deal-pipelines/stages/{stage}/", {}, "name"),
            ("PATCH", move, {}, "stage_id"),
            ("PATCH", move, {"above_id": deal}, "stage_id"),
            ("PATCH", move, {"stage_id": stage}, "above_id"),
            ("PATCH", move, {"stage_id": stage}, "below_id"),
        ]
        for method, url, base, name in writes:
            for value in ODD:
                await sent(client, sandbox, method, url, encoded({**base, name: value}))
            for raw in RAW_BODIES:
                await sent(client, sandbox, method, url, raw)
        for value in QUERY_VALUES:
            response = await client.get("/api/deal-pipelines/board/", params={"pipeline_id": value})
            assert response.status_code in {200, 404}, response.text
