"""DRF's write rules in both dialects: blank references, booleans, field-less PATCHes, huge amounts, surrogates."""

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, get_origin

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import create_app
from lava_crm_mcp.sandbox.resources import BY_NAME, RESOURCES

pytestmark = pytest.mark.anyio
Minimal = dict[str, dict[str, Any]]
Made = Callable[[httpx.AsyncClient, Starlette, str, dict[str, Any]], Awaitable[str]]
FieldErrors = Callable[[httpx.Response], dict[str, list[str]]]
NOT_NULL = ["This field may not be null."]


def _is_list(resource: str, field: str) -> bool:
    return get_origin(BY_NAME[resource].model.model_fields[field].annotation) is list


SCALAR_REFS = [(res.name, name) for res in RESOURCES for name in res.refs if not _is_list(res.name, name)]
LIST_REFS = [(res.name, name) for res in RESOURCES for name in res.refs if _is_list(res.name, name)]
BOOLEANS = [
    (res.name, name) for res in RESOURCES for name, info in res.model.model_fields.items() if info.annotation is bool
]


def stored(app: Starlette, ident: str) -> dict[str, Any]:
    """A record's data exactly as the database holds it (no stamps)."""
    (data,) = app.state.sandbox.conn.execute("SELECT data FROM records WHERE id = ?", (ident,)).fetchone()
    return json.loads(data)


def column_of(app: Starlette, deal: str) -> list[str]:
    """The deals of the stage `deal` sits in, in board order."""
    sql = "SELECT deal_id FROM placements WHERE stage_id = (SELECT stage_id FROM placements WHERE deal_id = ?)"
    return [row[0] for row in app.state.sandbox.conn.execute(f"{sql} ORDER BY position", (deal,))]


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize(("resource", "field"), SCALAR_REFS)
async def test_a_blank_reference_is_stored_as_null_and_a_blank_patch_clears_one(
    made: Made, sandbox: Starlette, connect: Any, minimal: Minimal, resource: str, field: str, blank: str
) -> None:
    kind = BY_NAME[resource].refs[field]
    async with connect(sandbox) as client:
        ident = await made(client, sandbox, resource, {**minimal[resource], field: blank})
        assert stored(sandbox, ident)[field] is None
        target = await made(client, sandbox, kind, minimal[kind])
        detail = f"/api/{resource}/{ident}/"
        assert (await client.patch(detail, json={field: target})).status_code == 200
        assert stored(sandbox, ident)[field] == target
        assert (await client.patch(detail, json={field: blank})).status_code == 200
        assert stored(sandbox, ident)[field] is None
        assert (await client.get(detail)).status_code == 200


async def test_a_blank_account_id_of_the_newer_era_is_null_too(made: Made, connect: Any) -> None:
    app = create_app(dialect="django-crm")
    async with connect(app) as crm:
        ident = await made(crm, app, "contacts", {"first_name": "Ada", "last_name": "L", "account_id": ""})
    assert stored(app, ident)["account"] is None
    app.state.sandbox.close()


@pytest.mark.parametrize(("resource", "field"), LIST_REFS)
async def test_a_blank_id_in_a_reference_list_is_a_field_error(
    made: Made, sandbox: Starlette, connect: Any, minimal: Minimal, field_errors: FieldErrors, resource: str, field: str
) -> None:
    async with connect(sandbox) as client:
        contact = await made(client, sandbox, "contacts", minimal["contacts"])
        response = await client.post(f"/api/{resource}/", json={**minimal[resource], field: [contact, ""]})
    assert field_errors(response) == {field: ['Invalid pk "" - object does not exist.']}


@pytest.mark.parametrize("blank", ["", "  "])
async def test_a_blank_stage_id_is_a_field_error_and_the_deal_stays(
    made: Made, sandbox: Starlette, connect: Any, field_errors: FieldErrors, blank: str
) -> None:
    async with connect(sandbox) as client:
        deal = await made(client, sandbox, "opportunities", {"name": "Deal"})
        before = column_of(sandbox, deal)
        response = await client.patch(f"/api/deal-pipelines/deals/{deal}/move/", json={"stage_id": blank})
    assert field_errors(response) == {"stage_id": NOT_NULL}
    assert column_of(sandbox, deal) == before


@pytest.mark.parametrize("anchor", ["above_id", "below_id"])
async def test_a_blank_anchor_is_null_so_the_deal_goes_to_the_end_of_its_column(
    made: Made, sandbox: Starlette, connect: Any, anchor: str
) -> None:
    async with connect(sandbox) as client:
        first = await made(client, sandbox, "opportunities", {"name": "First"})
        second = await made(client, sandbox, "opportunities", {"name": "Second"})
        (stage,) = sandbox.state.sandbox.conn.execute("SELECT stage_id FROM placements WHERE deal_id = ?", (first,))
        body = {"stage_id": stage[0], anchor: ""}
        response = await client.patch(f"/api/deal-pipelines/deals/{first}/move/", json=body)
    assert response.status_code == 200, response.text
    assert column_of(sandbox, first) == [second, first]


async def test_a_blank_pipeline_stage_or_pipeline_id_means_the_default_pipeline(
    made: Made, sandbox: Starlette, connect: Any
) -> None:
    async with connect(sandbox) as client:
        deal = await made(client, sandbox, "opportunities", {"name": "Deal", "pipeline_stage": ""})
        board = await client.get("/api/deal-pipelines/board/", params={"pipeline_id": ""})
    sql = "SELECT s.name FROM placements p JOIN stages s ON s.id = p.stage_id WHERE p.deal_id = ?"
    assert sandbox.state.sandbox.conn.execute(sql, (deal,)).fetchone() == ("Prospecting",)
    assert board.json()["pipeline"]["name"] == "Sales Pipeline"


async def test_blank_references_an_older_sandbox_stored_read_as_null(made: Made, tmp_path: Path, connect: Any) -> None:
    db = tmp_path / "older.sqlite3"
    app = create_app(db)
    async with connect(app) as api:
        ident = await made(api, app, "tasks", {"title": "Call back"})
    app.state.sandbox.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE records SET data = json_set(data, '$.account', '', '$.lead', '') WHERE id = ?", (ident,))
    conn.close()
    app = create_app(db)
    async with connect(app) as api:
        task = (await api.get(f"/api/tasks/{ident}/")).json()
    app.state.sandbox.close()
    assert (task["account"], task["lead"]) == (None, None)


def test_every_boolean_write_field_is_covered_below() -> None:
    assert BOOLEANS == [("contacts", "do_not_call")]


DRF_TRUE = [True, 1, 1.0, "true", "True", "TRUE", "t", "T", "y", "Y", "yes", "Yes", "YES", "on", "ON", "1"]
DRF_FALSE = [False, 0, 0.0, -0.0, "false", "False", "f", "F", "n", "N", "no", "NO", "off", "Off", "0"]
NOT_BOOLEAN: list[object] = [
    "perhaps",
    "",
    " true",
    "yes ",
    "2",
    "-1",
    "1.0",
    "null",
    "oui",
    "ｔｒｕｅ",
    2,
    -1,
    0.5,
    10**30,
    [],
    [1],
    {},
]
"""DRF 3.18 BooleanField: TRUE_VALUES / FALSE_VALUES matched after lower-casing strings; anything else is invalid."""


@pytest.mark.parametrize(("value", "meaning"), [*((v, True) for v in DRF_TRUE), *((v, False) for v in DRF_FALSE)])
@pytest.mark.parametrize(("resource", "field"), BOOLEANS)
async def test_a_boolean_accepts_exactly_drf_true_and_false_values(
    made: Made,
    sandbox: Starlette,
    connect: Any,
    minimal: Minimal,
    resource: str,
    field: str,
    value: object,
    meaning: bool,
) -> None:
    async with connect(sandbox) as client:
        ident = await made(client, sandbox, resource, {**minimal[resource], field: value})
        assert stored(sandbox, ident)[field] is meaning
        await client.patch(f"/api/{resource}/{ident}/", json={field: not meaning})
        assert (await client.patch(f"/api/{resource}/{ident}/", json={field: value})).status_code == 200
    assert stored(sandbox, ident)[field] is meaning


@pytest.mark.parametrize("value", [*NOT_BOOLEAN, None])
@pytest.mark.parametrize(("resource", "field"), BOOLEANS)
async def test_anything_else_is_not_a_valid_boolean_on_create_or_patch(
    made: Made,
    sandbox: Starlette,
    connect: Any,
    minimal: Minimal,
    field_errors: FieldErrors,
    resource: str,
    field: str,
    value: object,
) -> None:
    message = NOT_NULL if value is None else ["Must be a valid boolean."]
    async with connect(sandbox) as client:
        assert field_errors(await client.post(f"/api/{resource}/", json={**minimal[resource], field: value})) == {
            field: message
        }
        ident = await made(client, sandbox, resource, minimal[resource])
        assert field_errors(await client.patch(f"/api/{resource}/{ident}/", json={field: value})) == {field: message}
    assert stored(sandbox, ident)[field] is False


IGNORED = {
    "empty": {},
    "unknown fields": {"nonsense": 1, "also": [None]},
    "read-only fields": {
        "id": "x",
        "created_at": "2000-01-01T00:00:00Z",
        "invoice_number": "INV-9999",
        "pipeline": "p",
        "pipeline_stage": "s",
        "is_closed": True,
    },
}


@pytest.mark.parametrize("body", IGNORED.values(), ids=IGNORED.keys())
@pytest.mark.parametrize("resource", [res.name for res in RESOURCES])
async def test_a_patch_naming_no_writable_field_is_200_and_changes_no_field(
    made: Made, sandbox: Starlette, connect: Any, minimal: Minimal, resource: str, body: dict[str, Any]
) -> None:
    """DRF and the contract (§2: unknown and read-only fields are ignored) both accept it; only updated_at moves."""
    async with connect(sandbox) as client:
        ident = await made(client, sandbox, resource, minimal[resource])
        before = stored(sandbox, ident)
        response = await client.patch(f"/api/{resource}/{ident}/", json=body)
    assert response.status_code == 200, response.text
    assert stored(sandbox, ident) == before


TOO_MANY_DIGITS = ["Ensure that there are no more than 12 digits in total."]
MONEY = [("opportunities", "amount"), ("leads", "opportunity_amount"), ("invoices", "amount")]


@pytest.mark.parametrize("value", [10**30, -(10**30), 1e308, "1E+400", "-1e999999", "99999999999", "1e10"])
@pytest.mark.parametrize(("resource", "field"), MONEY)
async def test_an_amount_too_large_for_twelve_digits_is_a_field_error_however_written(
    sandbox: Starlette, connect: Any, minimal: Minimal, field_errors: FieldErrors, resource: str, field: str, value: Any
) -> None:
    async with connect(sandbox) as client:
        response = await client.post(f"/api/{resource}/", json={**minimal[resource], field: value})
    assert field_errors(response) == {field: TOO_MANY_DIGITS}


@pytest.mark.parametrize(
    ("value", "shown"), [("9999999999.99", "9999999999.99"), ("1e9", "1000000000.00"), ("0E+50", "0.00")]
)
async def test_amounts_within_twelve_digits_are_kept(
    made: Made, sandbox: Starlette, connect: Any, value: str, shown: str
) -> None:
    async with connect(sandbox) as client:
        ident = await made(client, sandbox, "opportunities", {"name": "Deal", "amount": value})
    assert stored(sandbox, ident)["amount"] == shown


@pytest.mark.parametrize(
    ("resource", "field", "value", "code"),
    [
        ("contacts", "first_name", "Ada\ud83d", "U+D83D"),
        ("contacts", "account", "\ud800", "U+D800"),
        ("contacts", "country", "G\udfff", "U+DFFF"),
        ("invoices", "currency", "\ud800SD", "U+D800"),
        ("cases", "contacts", ["\udc00"], "U+DC00"),
    ],
)
async def test_a_lone_surrogate_is_a_field_error_not_a_server_error(
    sandbox: Starlette,
    connect: Any,
    minimal: Minimal,
    field_errors: FieldErrors,
    resource: str,
    field: str,
    value: Any,
    code: str,
) -> None:
    raw = json.dumps({**minimal[resource], field: value}).encode()
    async with connect(sandbox) as client:
        response = await client.post(f"/api/{resource}/", content=raw)
    assert field_errors(response) == {field: [f"Surrogate characters are not allowed: {code}."]}


async def test_a_lone_surrogate_stage_id_is_a_field_error(
    made: Made, sandbox: Starlette, connect: Any, field_errors: FieldErrors
) -> None:
    async with connect(sandbox) as client:
        deal = await made(client, sandbox, "opportunities", {"name": "Deal"})
        raw = json.dumps({"stage_id": "\ud800"}).encode()
        response = await client.patch(f"/api/deal-pipelines/deals/{deal}/move/", content=raw)
    assert field_errors(response) == {"stage_id": ["Surrogate characters are not allowed: U+D800."]}
