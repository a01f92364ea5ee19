"""DRF-style 400 bodies: required fields, types, enums, formats, ranges, references and uniqueness."""

from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
BAD_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."


async def errors_of(api: httpx.AsyncClient, resource: str, body: dict[str, Any]) -> dict[str, list[str]]:
    response = await api.post(f"/api/{resource}/", json=body)
    assert response.status_code == 400, response.text
    return response.json()


async def test_missing_required_fields_are_reported_per_field(api: httpx.AsyncClient) -> None:
    assert await errors_of(api, "contacts", {}) == {
        "first_name": ["This field is required."],
        "last_name": ["This field is required."],
    }


async def test_blank_and_null_required_fields_are_refused(api: httpx.AsyncClient) -> None:
    errors = await errors_of(api, "accounts", {"name": "   "})
    assert errors == {"name": ["This field may not be blank."]}
    assert await errors_of(api, "leads", {"title": None}) == {"title": ["This field may not be null."]}


@pytest.mark.parametrize(
    ("resource", "field", "value"),
    [
        ("accounts", "industry", "SPACE"),
        ("accounts", "status", "Open"),
        ("leads", "status", "new"),
        ("leads", "source", "fax"),
        ("tasks", "status", "Done"),
        ("tasks", "priority", "Urgent"),
        ("cases", "case_type", "Bug"),
        ("cases", "priority", "Medium"),
        ("invoices", "status", "Overdue"),
        ("opportunities", "stage", "Meeting"),
        ("opportunities", "currency", "usd"),
        ("contacts", "country", "UK"),
    ],
)
async def test_unknown_enum_values_are_not_valid_choices(
    api: httpx.AsyncClient, minimal: dict[str, dict[str, Any]], resource: str, field: str, value: str
) -> None:
    errors = await errors_of(api, resource, {**minimal[resource], field: value})
    assert errors == {field: [f'"{value}" is not a valid choice.']}


@pytest.mark.parametrize(
    ("resource", "field", "value", "message"),
    [
        ("contacts", "primary_email", "not-an-email", "Enter a valid email address."),
        ("accounts", "email", "a@b", "Enter a valid email address."),
        ("opportunities", "amount", "lots", "A valid number is required."),
        ("opportunities", "amount", "1.234", "Ensure that there are no more than 2 decimal places."),
        ("opportunities", "amount", "12345678901234", "Ensure that there are no more than 12 digits in total."),
        ("opportunities", "amount", True, "A valid number is required."),
        ("leads", "opportunity_amount", "NaN", "A valid number is required."),
        ("opportunities", "closed_on", "2024-02-30", BAD_DATE),
        ("tasks", "due_date", "05/06/2025", BAD_DATE),
        ("leads", "probability", 101, "Ensure this value is less than or equal to 100."),
        ("opportunities", "probability", -1, "Ensure this value is greater than or equal to 0."),
        ("opportunities", "probability", "high", "A valid integer is required."),
        ("contacts", "do_not_call", "perhaps", "Must be a valid boolean."),
        ("contacts", "title", 42, "Not a valid string."),
        ("contacts", "title", {"a": 1}, "Not a valid string."),
        ("cases", "contacts", "not-a-list", 'Expected a list of items but got type "str".'),
        ("tasks", "account", 7, "Incorrect type. Expected pk value, received int."),
        ("accounts", "name", "x" * 256, "Ensure this field has no more than 255 characters."),
    ],
)
async def test_wrong_types_and_formats_get_drf_messages(
    api: httpx.AsyncClient, minimal: dict[str, dict[str, Any]], resource: str, field: str, value: Any, message: str
) -> None:
    assert await errors_of(api, resource, {**minimal[resource], field: value}) == {field: [message]}


async def test_valid_formats_are_accepted_and_normalised(api: httpx.AsyncClient, create: Any) -> None:
    deal = await create(
        api, "opportunities", name="D", amount="  12.5 ", currency="EUR", probability="40", closed_on="2025-02-28"
    )
    assert (deal["amount"], deal["currency"], deal["probability"], deal["closed_on"]) == (
        "12.50",
        "EUR",
        40,
        "2025-02-28",
    )


@pytest.mark.parametrize(("field", "value"), [("account", "missing"), ("contacts", ["missing"]), ("opportunity", "x")])
async def test_references_to_records_that_do_not_exist_are_refused(
    api: httpx.AsyncClient, field: str, value: Any
) -> None:
    errors = await errors_of(api, "tasks", {"title": "T", field: value})
    assert errors == {
        field: [f'Invalid pk "{value[0] if isinstance(value, list) else value}" - object does not exist.']
    }


async def test_a_reference_of_the_wrong_kind_is_refused(api: httpx.AsyncClient, create: Any) -> None:
    contact = await create(api, "contacts", first_name="A", last_name="B")
    errors = await errors_of(api, "invoices", {"invoice_title": "I", "account": contact["id"]})
    assert errors == {"account": [f'Invalid pk "{contact["id"]}" - object does not exist.']}


async def test_references_to_another_orgs_records_are_refused(connect: Any) -> None:
    app = create_app(open_mode=True)
    async with connect(app, "alice") as alice, connect(app, "bob") as bob:
        account = (await alice.post("/api/accounts/", json={"name": "Alice Inc"})).json()
        response = await bob.post(
            "/api/contacts/", json={"first_name": "B", "last_name": "B", "account": account["id"]}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["account"]


async def test_a_patch_with_a_bad_reference_changes_nothing(api: httpx.AsyncClient, create: Any) -> None:
    contact = await create(api, "contacts", first_name="A", last_name="B")
    response = await api.patch(f"/api/contacts/{contact['id']}/", json={"title": "CTO", "account": "nope"})
    assert response.status_code == 400
    assert (await api.get(f"/api/contacts/{contact['id']}/")).json() == contact


async def test_contact_email_is_unique_per_org_ignoring_case(api: httpx.AsyncClient, create: Any) -> None:
    first = await create(api, "contacts", first_name="A", last_name="B", primary_email="ada@example.com")
    errors = await errors_of(api, "contacts", {"first_name": "C", "last_name": "D", "primary_email": "ADA@example.com"})
    assert errors == {"primary_email": ["contact with this primary email already exists."]}
    same = await api.patch(f"/api/contacts/{first['id']}/", json={"primary_email": "ada@example.com"})
    assert same.status_code == 200
    await create(api, "contacts", first_name="E", last_name="F")
    await create(api, "contacts", first_name="G", last_name="H")


async def test_account_name_is_unique_per_org_ignoring_case(api: httpx.AsyncClient, create: Any) -> None:
    await create(api, "accounts", name="Acme")
    other = await create(api, "accounts", name="Globex")
    assert await errors_of(api, "accounts", {"name": "ACME"}) == {"name": ["account with this name already exists."]}
    response = await api.put(f"/api/accounts/{other['id']}/", json={"name": "acme"})
    assert (response.status_code, response.json()) == (400, {"name": ["account with this name already exists."]})


async def test_the_same_unique_values_are_fine_in_another_org(connect: Any) -> None:
    app = create_app(open_mode=True)
    async with connect(app, "alice") as alice, connect(app, "bob") as bob:
        for client in (alice, bob):
            assert (await client.post("/api/accounts/", json={"name": "Acme"})).status_code == 201
