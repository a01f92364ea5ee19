"""Both dialects' list, detail, write and error shapes (fixtures written from the API notes, §2 and §5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import (
    RESOURCES,
    CrmAuthError,
    CrmClient,
    CrmForbidden,
    CrmInvalid,
    CrmNotFound,
    CrmProtocolError,
    CrmUnavailable,
    ResourceSpec,
    RetryPolicy,
)

CRM = "https://lava-crm-api.fly.dev/api"
ONCE = RetryPolicy(max_attempts=1)
USERS = [{"id": "u-1", "email": "owner@example.com"}, {"id": "u-2", "email": "rep@example.com"}]
COUNTRIES = [["GB", "United Kingdom"], ["US", "United States"]]


def rec(record_id: str, **fields: Any) -> dict[str, Any]:
    """A record of any noun; deals carry their board placement (other nouns keep it as unknown extra fields)."""
    stamps = {"created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z"}
    return {"id": record_id, **stamps, "pipeline": "p-1", "pipeline_stage": "s-1", **fields}


def required(spec: ResourceSpec[Any, Any, Any]) -> dict[str, str]:
    return {name: "X" for name, field in spec.create.model_fields.items() if field.is_required()}


# django-crm list bodies, keyed per resource, with catalogues that are not records.
DJANGO_LISTS: dict[str, dict[str, Any]] = {
    "contacts": {
        "contacts_count": 2,
        "contact_obj_list": [rec("c-1", first_name="Ada"), rec("c-2", first_name="Alan")],
        "countries": COUNTRIES,
        "users": USERS,
        "offset": None,
    },
    "accounts": {
        "active_accounts": {"open_accounts": [rec("a-1", name="Acme", status="open")]},
        "closed_accounts": {"close_accounts": [rec("a-2", name="Initech", status="close")]},
        "users": USERS,
        "industries": [["SOFTWARE", "SOFTWARE"]],
        "tags": [],
    },
    "leads": {
        "open_leads": {"leads_count": 1, "open_leads": [rec("l-1", title="Website redo", status="assigned")]},
        "close_leads": {"leads_count": 1, "close_leads": [rec("l-2", title="Old", status="closed")]},
        "status": [["assigned", "Assigned"], ["closed", "Closed"]],
        "source": [["call", "Call"]],
        "users": USERS,
        "countries": COUNTRIES,
    },
    "opportunities": {
        "opportunities_count": 2,
        "opportunities": [rec("o-1", name="Big deal", amount="1500.00"), rec("o-2", name="Small deal")],
        "users": USERS,
        "stage": [["PROSPECTING", "PROSPECTING"]],
        "offset": None,
    },
    "tasks": {"tasks_count": 2, "tasks": [rec("t-1", title="Call"), rec("t-2", title="Mail")], "users": USERS},
    "cases": {"cases_count": 2, "cases": [rec("k-1", name="Broken"), rec("k-2", name="Slow")], "users": USERS},
    "invoices": {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [rec("i-1", invoice_title="May"), rec("i-2", invoice_title="June")],
    },
}
DJANGO_DETAIL_KEYS = {
    "contacts": "contact_obj",
    "accounts": "account_obj",
    "leads": "lead_obj",
    "opportunities": "opportunity_obj",
    "tasks": "task_obj",
    "cases": "cases_obj",
    "invoices": "invoice",
}
PATHS = [spec.path for spec in RESOURCES]


@pytest.fixture
def spec(request: pytest.FixtureRequest) -> ResourceSpec[Any, Any, Any]:
    return next(spec for spec in RESOURCES if spec.path == request.param)


FIRST = {"limit": 20}  # the first slice of a list: page 1 is implied, limit says how many


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_drf_list_reads_results_count_and_next(
    client: CrmClient, on: Callable[..., respx.Route], spec: ResourceSpec[Any, Any, Any]
) -> None:
    on("GET", f"{spec.path}/", {"page": 2, "limit": 20, "offset": 20}).respond(
        json={
            "count": 45,
            "next": f"{CRM}/{spec.path}/?page=3",
            "previous": f"{CRM}/{spec.path}/",
            "results": [rec("r-1"), rec("r-2")],
        }
    )

    page = await client.records(spec.path).list(page=2)

    assert [item.id for item in page.items] == ["r-1", "r-2"]
    assert all(isinstance(item, spec.model) for item in page.items)
    assert (page.page, page.total, page.has_more) == (2, 45, True)


@pytest.mark.anyio
async def test_drf_list_last_page_has_no_more(client: CrmClient, on: Callable[..., respx.Route]) -> None:
    on("GET", "tasks/", {"page": 3, "limit": 20, "offset": 40}).respond(
        json={"count": 45, "next": None, "previous": f"{CRM}/tasks/?page=2", "results": [rec("t-1")] * 5}
    )

    page = await client.records("tasks").list(page=3)

    assert (page.page, page.total, page.has_more, len(page.items)) == (3, 45, False, 5)


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_django_crm_keyed_list_yields_records_and_skips_catalogues(
    client: CrmClient, on: Callable[..., respx.Route], spec: ResourceSpec[Any, Any, Any]
) -> None:
    on("GET", f"{spec.path}/", FIRST).respond(json=DJANGO_LISTS[spec.path])

    page = await client.records(spec.path).list()

    ids = [item.id for item in page.items]
    assert len(ids) == 2
    assert not {"u-1", "u-2"} & set(ids)
    assert all(isinstance(item, spec.model) for item in page.items)
    assert page.has_more is False
    assert page.total == (None if spec.path == "accounts" else 2)


@pytest.mark.anyio
async def test_django_crm_accounts_list_merges_open_and_closed_accounts(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "accounts/", FIRST).respond(json=DJANGO_LISTS["accounts"])

    page = await client.records("accounts").list()

    assert [(item.id, item.status) for item in page.items] == [("a-1", "open"), ("a-2", "close")]


@pytest.mark.anyio
async def test_django_crm_offset_says_whether_there_is_more(client: CrmClient, on: Callable[..., respx.Route]) -> None:
    body = {**DJANGO_LISTS["contacts"], "contacts_count": 57, "offset": 20}
    on("GET", "contacts/", FIRST).respond(json=body)

    page = await client.records("contacts").list()

    assert (page.has_more, page.total) == (True, 57)


@pytest.mark.anyio
@pytest.mark.parametrize(("page_number", "rows", "next_start"), [(2, 20, 40), (3, 5, None), (3, 1, 41)])
async def test_django_crm_count_without_offset_says_where_the_next_slice_starts(
    client: CrmClient, on: Callable[..., respx.Route], page_number: int, rows: int, next_start: int | None
) -> None:
    query = {"page": page_number, "limit": 20, "offset": (page_number - 1) * 20}
    on("GET", "cases/", query).respond(json={"cases_count": 45, "cases": [rec(f"k-{n}") for n in range(rows)]})

    page = await client.records("cases").list(page=page_number)

    assert (page.page, page.total, page.next_start) == (page_number, 45, next_start)


@pytest.mark.anyio
async def test_bare_list_body_is_read_as_records(client: CrmClient, on: Callable[..., respx.Route]) -> None:
    on("GET", "contacts/", FIRST).respond(json=[rec("c-1"), rec("c-2")])

    page = await client.records("contacts").list()

    assert [item.id for item in page.items] == ["c-1", "c-2"]
    assert (page.total, page.has_more) == (None, False)


@pytest.mark.anyio
async def test_list_body_without_records_is_a_protocol_error(client: CrmClient, on: Callable[..., respx.Route]) -> None:
    on("GET", "contacts/", FIRST).respond(json={"users": USERS, "countries": COUNTRIES})

    with pytest.raises(CrmProtocolError, match="no records"):
        await client.records("contacts").list()


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_drf_bare_detail_is_read(
    client: CrmClient, on: Callable[..., respx.Route], spec: ResourceSpec[Any, Any, Any]
) -> None:
    on("GET", f"{spec.path}/r-1/").respond(json=rec("r-1", description="hello"))

    record = await client.records(spec.path).get("r-1")

    assert isinstance(record, spec.model)
    assert (record.id, record.description) == ("r-1", "hello")


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_django_crm_wrapped_detail_is_unwrapped_next_to_side_lists(
    client: CrmClient, on: Callable[..., respx.Route], spec: ResourceSpec[Any, Any, Any]
) -> None:
    body = {
        DJANGO_DETAIL_KEYS[spec.path]: rec("r-1", description="wrapped"),
        "comments": [{"id": "m-1", "comment": "hi"}],
        "attachments": [],
        "users_mention": USERS,
        "assigned_data": {"id": "u-1", "email": "owner@example.com"},
    }
    on("GET", f"{spec.path}/r-1/").respond(json=body)

    record = await client.records(spec.path).get("r-1")

    assert (record.id, record.description) == ("r-1", "wrapped")


@pytest.mark.anyio
async def test_unknown_fields_are_kept_and_loose_types_normalised(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "opportunities/42/").respond(
        json={
            "id": 42,
            "name": "Big deal",
            "amount": 1500,
            "account": {"id": "a-1", "name": "Acme"},
            "contacts": [{"id": "c-1"}, "c-2"],
            "pipeline": "p-1",
            "pipeline_stage": {"id": "s-1", "name": "Prospecting"},
            "org": {"name": "Lava"},
            "tags": ["vip"],
        }
    )

    deal = await client.records("opportunities").get("42")

    assert (deal.id, deal.amount, deal.account, deal.contacts) == ("42", "1500.00", "a-1", ["c-1", "c-2"])
    assert deal.pipeline_stage == "s-1"
    assert deal.model_extra == {"org": {"name": "Lava"}, "tags": ["vip"]}


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_drf_create_returns_the_record_from_the_answer(
    client: CrmClient, on: Callable[..., respx.Route], spec: ResourceSpec[Any, Any, Any], crm_api: respx.MockRouter
) -> None:
    on("POST", f"{spec.path}/").respond(201, json=rec("r-9", **required(spec)))

    created = await client.records(spec.path).create(required(spec))

    assert created.record is not None
    assert created.record.id == "r-9"
    assert created.message is None
    assert crm_api.calls.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
async def test_django_crm_create_ack_with_id_is_read_back_by_id(
    client: CrmClient,
    on: Callable[..., respx.Route],
    crm_api: respx.MockRouter,
    target_of: Callable[[httpx.Request], str],
    spec: ResourceSpec[Any, Any, Any],
) -> None:
    on("POST", f"{spec.path}/").respond(json={"error": False, "message": "Created Successfuly", "id": "r-9"})
    reread = on("GET", f"{spec.path}/r-9/")
    reread.respond(json={DJANGO_DETAIL_KEYS[spec.path]: rec("r-9", description="fresh"), "comments": []})

    created = await client.records(spec.path).create(required(spec))

    assert created.record is not None
    assert (created.record.id, created.record.description) == ("r-9", "fresh")
    assert created.message == "Created Successfuly"
    assert [call.request.method for call in crm_api.calls] == ["POST", "GET"]
    assert target_of(reread.calls.last.request) == f"{CRM}/{spec.path}/r-9/"


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["leads", "tasks"])
async def test_django_crm_create_without_id_says_so_instead_of_inventing_a_record(
    client: CrmClient, crm_api: respx.MockRouter, path: str
) -> None:
    crm_api.route().respond(json={"error": False, "message": "Lead Created Successfully"})

    created = await client.records(path).create({"title": "New"})

    assert created.record is None
    assert created.message == "Lead Created Successfully"
    assert crm_api.calls.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["update", "replace"])
async def test_django_crm_update_ack_is_read_back(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter, method: str
) -> None:
    verb = "PATCH" if method == "update" else "PUT"
    on(verb, "contacts/c-1/").respond(json={"error": False, "message": "Contact Updated Successfully"})
    on("GET", "contacts/c-1/").respond(json={"contact_obj": rec("c-1", first_name="Ada", last_name="King")})

    contact = await getattr(client.records("contacts"), method)("c-1", {"first_name": "Ada", "last_name": "King"})

    assert (contact.id, contact.last_name) == ("c-1", "King")
    assert [call.request.method for call in crm_api.calls] == [verb, "GET"]


@pytest.mark.anyio
async def test_drf_update_answer_is_the_record(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    on("PATCH", "tasks/t-1/").respond(json=rec("t-1", title="Call", status="Completed"))

    task = await client.records("tasks").update("t-1", {"status": "Completed"})

    assert task.status == "Completed"
    assert crm_api.calls.call_count == 1


@pytest.mark.anyio
async def test_delete_with_204_and_empty_body_returns_none(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(204)

    assert await client.records("cases").delete("k-1") is None


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 400])
async def test_django_crm_field_errors_become_crm_invalid_fields(
    client: CrmClient, crm_api: respx.MockRouter, status: int
) -> None:
    errors = {"primary_email": ["Contact with this Email already exists."], "address": {"city": ["Too long."]}}
    crm_api.route().respond(status, json={"error": True, "errors": errors})

    with pytest.raises(CrmInvalid) as caught:
        await client.records("contacts").create(
            {"first_name": "Ada", "last_name": "King", "primary_email": "ada@example.com"}
        )

    assert caught.value.fields == {
        "primary_email": ["Contact with this Email already exists."],
        "address.city": ["Too long."],
    }
    assert "primary_email: Contact with this Email already exists." in str(caught.value)


@pytest.mark.anyio
async def test_django_crm_text_error_is_the_message(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(400, json={"error": True, "errors": "That title is reserved for the owner"})

    with pytest.raises(CrmInvalid, match="That title is reserved for the owner") as caught:
        await client.records("contacts").update("c-1", {"title": "CEO"})

    assert caught.value.fields == {}


@pytest.mark.anyio
async def test_django_crm_text_error_about_permission_says_this_user_may_not(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(400, json={"error": True, "errors": "You don't have permission to update this contact"})

    with pytest.raises(CrmForbidden, match="because this user may not do it") as caught:
        await client.records("contacts").update("c-1", {"title": "CEO"})

    assert "You don't have permission to update this contact" in str(caught.value)
    assert "Fix these" not in str(caught.value)


@pytest.mark.anyio
async def test_drf_field_errors_and_non_field_errors(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(
        400, json={"name": ["An account with this name already exists."], "non_field_errors": ["Check the name."]}
    )

    with pytest.raises(CrmInvalid) as caught:
        await client.records("accounts").create({"name": "Acme"})

    assert caught.value.fields == {"name": ["An account with this name already exists."]}
    assert caught.value.status == 400
    assert "Check the name." in str(caught.value)


@pytest.mark.anyio
async def test_django_crm_403_detail_is_an_auth_error(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(403, json={"detail": "Authentication credentials were not provided."})

    with pytest.raises(CrmAuthError, match="credentials were not provided"):
        await client.records("contacts").list()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body", [{"detail": "Not found."}, {"error": True, "errors": "Opportunity not found."}], ids=["drf", "django-crm"]
)
async def test_not_found_in_either_dialect_is_crm_not_found(
    client: CrmClient, crm_api: respx.MockRouter, body: dict[str, Any]
) -> None:
    crm_api.route().respond(404, json=body)

    with pytest.raises(CrmNotFound, match="not found") as caught:
        await client.records("opportunities").get("o-404")

    assert caught.value.status == 404
    assert "'o-404'" in str(caught.value)


HTML = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    + ("<p>upstream connect error or disconnect/reset before headers.</p>" * 20)
    + "</body></html>"
)


def assert_short_and_clean(message: str) -> None:
    assert len(message) < 400
    assert "<" not in message
    assert "Traceback" not in message
    assert "Expecting value" not in message
    assert "JSONDecodeError" not in message


@pytest.mark.anyio
async def test_html_success_body_is_a_protocol_error_with_status_and_excerpt(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(200, text=HTML, headers={"content-type": "text/html"})

    with pytest.raises(CrmProtocolError) as caught:
        await client.records("contacts").get("c-1")

    message = str(caught.value)
    assert "HTTP 200" in message
    assert "502 Bad Gateway" in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert_short_and_clean(message)


@pytest.mark.anyio
async def test_html_error_page_keeps_its_status_class_and_an_excerpt(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(502, text=HTML, headers={"content-type": "text/html"})

    with pytest.raises(CrmUnavailable) as caught:
        await make_client(ONCE).records("contacts").get("c-1")

    message = str(caught.value)
    assert caught.value.status == 502
    assert "HTTP 502" in message
    assert "Bad Gateway" in message
    assert "…" in message
    assert_short_and_clean(message)


@pytest.mark.anyio
async def test_plain_text_401_is_an_auth_error_with_the_text(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(401, text="Unauthorized")

    with pytest.raises(CrmAuthError, match="Unauthorized"):
        await make_client(ONCE).records("contacts").get("c-1")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "call", [lambda c: c.records("contacts").get("c-1"), lambda c: c.records("contacts").list()], ids=["detail", "list"]
)
async def test_empty_success_body_where_a_record_is_due_is_a_protocol_error(
    client: CrmClient, crm_api: respx.MockRouter, call: Callable[[CrmClient], Any]
) -> None:
    crm_api.route().respond(200, text="")

    with pytest.raises(CrmProtocolError) as caught:
        await call(client)

    assert_short_and_clean(str(caught.value))


@pytest.mark.anyio
async def test_empty_error_body_keeps_its_status_class(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(500, text="")

    with pytest.raises(CrmUnavailable, match=r"HTTP 500: no details given") as caught:
        await make_client(ONCE).records("contacts").get("c-1")

    assert_short_and_clean(str(caught.value))


@pytest.mark.anyio
async def test_record_missing_its_id_is_a_protocol_error_naming_the_field(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(json={"first_name": "Ada"})

    with pytest.raises(CrmProtocolError, match="first at id"):
        await client.records("contacts").get("c-1")


@pytest.mark.anyio
async def test_board_is_read_with_pipeline_columns_and_deal_cards(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "deal-pipelines/board/", {"pipeline_id": "p-1"}).respond(
        json={
            "pipeline": {"id": "p-1", "name": "Sales Pipeline", "is_default": True},
            "stages": [
                {
                    "id": "s-1",
                    "name": "Prospecting",
                    "stage_type": "open",
                    "order": 1,
                    "deal_count": 1,
                    "deals": [
                        {
                            "id": "d-1",
                            "name": "Big",
                            "amount": "10.00",
                            "currency": "USD",
                            "account": None,
                            "is_closed": False,
                            "position": 0,
                        }
                    ],
                },
                {"id": "s-5", "name": "Won", "stage_type": "won", "order": 5, "deal_count": 0, "deals": []},
            ],
        }
    )

    board = await client.pipelines.board("p-1")

    assert (board.pipeline.id, board.pipeline.name) == ("p-1", "Sales Pipeline")
    assert [(column.id, column.is_terminal) for column in board.stages] == [("s-1", False), ("s-5", True)]
    assert [card.id for card in board.stages[0].deals] == ["d-1"]


@pytest.mark.anyio
async def test_django_crm_ack_on_pipeline_create_is_found_in_the_pipeline_list(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("POST", "deal-pipelines/").respond(json={"error": False, "message": "Pipeline created", "id": "p-2"})
    on("GET", "deal-pipelines/", FIRST).respond(
        json={"count": 1, "next": None, "previous": None, "results": [{"id": "p-2", "name": "Renewals", "stages": []}]}
    )

    pipeline = await client.pipelines.create("Renewals")

    assert (pipeline.id, pipeline.name) == ("p-2", "Renewals")
