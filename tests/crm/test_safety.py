"""Nothing unsafe reaches the wire, deals change stage only by moving, and secrets never leak."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from lava_crm_mcp.crm import (
    RESOURCES,
    CrmClient,
    CrmError,
    CrmInvalid,
    ResourceSpec,
    RetryPolicy,
    StageChangeRefused,
    Upstream,
)
from lava_crm_mcp.crm.inputs import OpportunityCreate
from lava_crm_mcp.settings import MissingCredentials, Settings

BAD_IDS: list[Any] = ["../../admin", "x/y?z", "a b", "", "a" * 65, "c-1\n", "c-1#top", "%2e%2e", "ïd", 123, None]
LEGACY = ["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"]
PATHS = [spec.path for spec in RESOURCES]


def required(spec: ResourceSpec[Any, Any, Any]) -> dict[str, str]:
    return {name: "X" for name, field in spec.create.model_fields.items() if field.is_required()}


@pytest.fixture
def spec(request: pytest.FixtureRequest) -> ResourceSpec[Any, Any, Any]:
    return next(spec for spec in RESOURCES if spec.path == request.param)


RECORD_ID_CALLS: dict[str, Callable[[CrmClient, ResourceSpec[Any, Any, Any], Any], Any]] = {
    "get": lambda c, spec, bad: c.records(spec.path).get(bad),
    "update": lambda c, spec, bad: c.records(spec.path).update(bad, {"description": "x"}),
    "replace": lambda c, spec, bad: c.records(spec.path).replace(bad, required(spec)),
    "delete": lambda c, spec, bad: c.records(spec.path).delete(bad),
}


@pytest.mark.anyio
@pytest.mark.parametrize("spec", PATHS, indirect=True)
@pytest.mark.parametrize("operation", list(RECORD_ID_CALLS))
async def test_injection_ids_are_refused_before_anything_is_sent(
    client: CrmClient, crm_api: respx.MockRouter, spec: ResourceSpec[Any, Any, Any], operation: str
) -> None:
    for bad in BAD_IDS:
        with pytest.raises(CrmInvalid, match="is not a valid id") as caught:
            await RECORD_ID_CALLS[operation](client, spec, bad)
        assert caught.value.fields == {f"{spec.noun}_id": ["Not a valid id."]}

    assert crm_api.calls.call_count == 0


PIPELINE_ID_CALLS: dict[str, Callable[[CrmClient, Any], Any]] = {
    "board": lambda c, bad: c.pipelines.board(bad),
    "add_stage": lambda c, bad: c.pipelines.add_stage(bad, "Contacted"),
    "rename_stage": lambda c, bad: c.pipelines.rename_stage(bad, "Called"),
    "delete_stage": lambda c, bad: c.pipelines.delete_stage(bad),
    "move_deal deal_id": lambda c, bad: c.pipelines.move_deal(bad, "s-1"),
    "move_deal stage_id": lambda c, bad: c.pipelines.move_deal("d-1", bad),
    "move_deal above_id": lambda c, bad: c.pipelines.move_deal("d-1", "s-1", above_id=bad),
    "move_deal below_id": lambda c, bad: c.pipelines.move_deal("d-1", "s-1", below_id=bad),
    "move_deal_to_stage deal_id": lambda c, bad: c.pipelines.move_deal_to_stage(bad, "Won"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("operation", list(PIPELINE_ID_CALLS))
async def test_injection_ids_in_pipeline_calls_are_refused_before_anything_is_sent(
    client: CrmClient, crm_api: respx.MockRouter, operation: str
) -> None:
    # None means "omitted" for the optional ids, and board() also reads "" as "the default pipeline".
    optional = operation in ("board", "move_deal above_id", "move_deal below_id")
    bad_ids = [bad for bad in BAD_IDS if bad or (bad == "" and operation != "board")] if optional else BAD_IDS
    for bad in bad_ids:
        with pytest.raises(CrmInvalid):
            await PIPELINE_ID_CALLS[operation](client, bad)

    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("contacts", {"first_name": "A", "last_name": "B", "account": "../../admin"}, "account"),
        ("opportunities", {"name": "D", "contacts": ["c-1", "x/y?z"]}, "contacts.1"),
        ("opportunities", {"name": "D", "pipeline_stage": "a b"}, "pipeline_stage"),
        ("tasks", {"title": "T", "opportunity": "a" * 65}, "opportunity"),
        ("invoices", {"invoice_title": "I", "contact": "c-1\n"}, "contact"),
    ],
)
async def test_bad_reference_ids_in_a_body_are_refused_before_anything_is_sent(
    client: CrmClient, crm_api: respx.MockRouter, path: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(CrmInvalid) as caught:
        await client.records(path).create(body)

    assert list(caught.value.fields) == [field]
    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["update", "replace"])
@pytest.mark.parametrize(
    "change",
    [{"stage": "Meeting"}, {"stage": "PROPOSAL"}, {"pipeline_stage": "s-2"}, {"pipeline": "p-2"}, {"stage": None}],
)
async def test_deal_update_or_replace_carrying_a_stage_is_refused_naming_move_deal(
    client: CrmClient, crm_api: respx.MockRouter, method: str, change: dict[str, Any]
) -> None:
    with pytest.raises(StageChangeRefused, match="move_deal") as caught:
        await getattr(client.records("opportunities"), method)("o-1", {"name": "Big deal", **change})

    assert set(caught.value.fields) == set(change)
    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
async def test_typed_deal_replacement_carrying_a_stage_is_refused(client: CrmClient, crm_api: respx.MockRouter) -> None:
    with pytest.raises(StageChangeRefused, match="move_deal"):
        await client.records("opportunities").replace("o-1", OpportunityCreate(name="Big deal", stage="PROPOSAL"))

    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
async def test_other_resources_may_update_their_own_status_fields(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(json={"id": "t-1", "status": "Completed"})

    await client.records("tasks").update("t-1", {"status": "Completed"})

    assert crm_api.calls.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("stage", LEGACY)
async def test_deal_create_accepts_each_legacy_stage(client: CrmClient, crm_api: respx.MockRouter, stage: str) -> None:
    crm_api.route().respond(201, json={"id": "o-1", "name": "Big deal", "stage": stage, "pipeline_stage": "s-1"})

    created = await client.records("opportunities").create({"name": "Big deal", "stage": stage})

    assert created.record is not None
    assert created.record.stage == stage
    assert b'"stage":"' + stage.encode() + b'"' in crm_api.calls.last.request.content


@pytest.mark.anyio
@pytest.mark.parametrize("stage", ["Meeting", "Contacted", "proposal", "CLOSED", "", 3])
async def test_deal_create_with_any_other_stage_is_invalid_and_sends_nothing(
    client: CrmClient, crm_api: respx.MockRouter, stage: Any
) -> None:
    with pytest.raises(CrmInvalid) as caught:
        await client.records("opportunities").create({"name": "Big deal", "stage": stage})

    assert not isinstance(caught.value, StageChangeRefused)
    assert list(caught.value.fields) == ["stage"]
    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "method", "body", "field", "said"),
    [
        ("contacts", "create", {"first_name": "A", "last_name": "B", "nickname": "Al"}, "nickname", "Unknown field."),
        ("contacts", "update", {"favourite_colour": "red"}, "favourite_colour", "Unknown field."),
        (
            "contacts",
            "create",
            {"first_name": "A", "last_name": "B", "primary_email": "not-an-email"},
            "primary_email",
            "email address",
        ),
        ("accounts", "update", {"email": "a@b"}, "email", "email address"),
        ("accounts", "create", {"name": "Acme", "industry": "SPACE"}, "industry", "Input should be"),
        ("tasks", "update", {"priority": "Urgent"}, "priority", "Input should be"),
        ("cases", "update", {"status": "Open"}, "status", "Input should be"),
        ("opportunities", "create", {"name": "D", "amount": "lots"}, "amount", "decimal"),
        ("opportunities", "update", {"amount": "-5"}, "amount", "greater than or equal to 0"),
        ("invoices", "update", {"amount": "10.005"}, "amount", "decimal places"),
        ("leads", "update", {"opportunity_amount": "1e3x"}, "opportunity_amount", "decimal"),
        ("leads", "update", {"probability": 101}, "probability", "less than or equal to 100"),
        ("contacts", "update", {"country": "United Kingdom"}, "country", "ISO-2 country code"),
        ("invoices", "update", {"currency": "usd"}, "currency", "ISO-4217 currency code"),
        ("tasks", "update", {"due_date": "next week"}, "due_date", "date"),
        ("accounts", "create", {"email": "a@example.com"}, "name", "Field required"),
        ("leads", "create", {"title": "   "}, "title", "at least 1 character"),
    ],
)
async def test_invalid_input_is_refused_with_field_messages_and_sends_nothing(
    client: CrmClient, crm_api: respx.MockRouter, path: str, method: str, body: dict[str, Any], field: str, said: str
) -> None:
    records = client.records(path)
    call = records.create(body) if method == "create" else records.update("r-1", body)

    with pytest.raises(CrmInvalid) as caught:
        await call

    assert list(caught.value.fields) == [field]
    assert said in " ".join(caught.value.fields[field])
    assert f"{field}:" in str(caught.value)
    assert "Valid fields:" in str(caught.value)
    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
async def test_money_is_sent_as_a_two_place_decimal_string(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(201, json={"id": "o-1", "name": "D", "amount": "1500.50", "pipeline_stage": "s-1"})

    await client.records("opportunities").create({"name": "D", "amount": 1500.5})

    assert json.loads(crm_api.calls.last.request.content) == {"name": "D", "amount": "1500.50"}


@pytest.mark.anyio
async def test_update_sends_only_the_fields_given(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(json={"id": "c-1"})

    await client.records("contacts").update("c-1", {"title": "CEO", "description": None})

    assert json.loads(crm_api.calls.last.request.content) == {"title": "CEO", "description": None}


ECHO = "sk_test_SECRET_123"


def failing_calls() -> list[tuple[Callable[[CrmClient], Any], list[Any]]]:
    """Calls that fail in every way the adapter reports, several with the server echoing the credential."""
    new = {"first_name": "Ada", "last_name": "King"}
    return [
        (lambda c: c.records("contacts").get("c-1"), [httpx.Response(401, json={"detail": f"Invalid token {ECHO}."})]),
        (lambda c: c.records("contacts").get("c-1"), [httpx.Response(403, text=f"Forbidden for Bearer {ECHO}")]),
        (
            lambda c: c.records("contacts").list(),
            [
                httpx.Response(503),
                httpx.Response(503),
                httpx.Response(503),
                httpx.Response(503, text=f"<h1>down</h1><pre>Authorization: Bearer {ECHO}</pre>"),
            ],
        ),
        (lambda c: c.records("contacts").create(new), [httpx.ConnectError("refused"), httpx.ReadTimeout("lost")]),
        (lambda c: c.records("contacts").create(new), [httpx.Response(200, text=f"<html>key={ECHO}</html>")]),
        (
            lambda c: c.records("contacts").create(new),
            [httpx.Response(200, json={"error": True, "errors": {"token": [ECHO]}})],
        ),
        (
            lambda c: c.records("contacts").update("c-1", {"title": "x"}),
            [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(500, json={"detail": ECHO})],
        ),
        (
            lambda c: c.records("opportunities").get("o-1"),
            [httpx.Response(404, json={"error": True, "errors": "Not found."})],
        ),
        (lambda c: c.records("contacts").get("../../admin"), []),
        (lambda c: c.records("opportunities").update("o-1", {"stage": "Won"}), []),
    ]


@pytest.mark.anyio
async def test_no_secret_in_any_exception_string_or_captured_log(
    client: CrmClient, crm_api: respx.MockRouter, caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[CrmError] = []
    for call, answers in failing_calls():
        crm_api.reset()
        crm_api.routes.clear()
        crm_api.route().mock(side_effect=answers)
        with pytest.raises(CrmError) as caught:
            await call(client)
        errors.append(caught.value)

    assert len(errors) == len(failing_calls())
    for error in errors:
        shown = [str(error), repr(error), repr(error.args), repr(getattr(error, "fields", None))]
        assert not [text for text in shown if secret in text], error
    assert any("retry" in record.getMessage() for record in caplog.records)
    assert secret not in caplog.text
    assert all(secret not in record.getMessage() and secret not in repr(record.args) for record in caplog.records)


@pytest.mark.anyio
async def test_a_record_echoing_the_credential_comes_back_blanked(
    client: CrmClient, crm_api: respx.MockRouter, secret: str
) -> None:
    crm_api.route().respond(json={"id": "c-1", "description": f"token {secret}"})

    contact = await client.records("contacts").get("c-1")

    assert contact.description == "token **********"


def test_upstream_and_client_reprs_hide_the_credential(secret: str) -> None:
    for upstream in (
        Upstream("https://crm.example", SecretStr(secret)),
        Upstream("https://crm.example", SecretStr(secret), gateway_url="https://gw.example/forward"),
    ):
        client = CrmClient(upstream, transport=httpx.MockTransport(lambda request: httpx.Response(200)))
        assert secret not in repr(upstream)
        assert secret not in str(upstream)
        assert secret not in repr(client)
        assert secret not in repr(vars(client.upstream))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment: no LAVA_* variable leaks in from the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith("LAVA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_no_credential_is_one_clear_error_naming_both_variables_and_the_sandbox(env: pytest.MonkeyPatch) -> None:
    settings = Settings()

    with pytest.raises(MissingCredentials) as caught:
        settings.upstream()

    assert not settings.has_credentials()
    for name in ("LAVA_SECRET_KEY", "LAVA_CRM_TOKEN", "--sandbox"):
        assert name in str(caught.value)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_credential_variables_count_as_unset(env: pytest.MonkeyPatch, blank: str) -> None:
    env.setenv("LAVA_SECRET_KEY", blank)
    env.setenv("LAVA_CRM_TOKEN", blank)

    with pytest.raises(MissingCredentials):
        Settings().upstream()

    env.setenv("LAVA_CRM_TOKEN", "crm_tok_SECRET_456")
    assert Settings().upstream().route == "direct"


def test_secret_key_selects_the_gateway_and_crm_token_the_direct_route(env: pytest.MonkeyPatch, secret: str) -> None:
    env.setenv("LAVA_CRM_TOKEN", "crm_tok_SECRET_456")
    direct = Settings().upstream()
    env.setenv("LAVA_SECRET_KEY", secret)
    gateway = Settings().upstream()

    assert (direct.route, direct.gateway_url, direct.authorization()) == ("direct", None, "Bearer crm_tok_SECRET_456")
    assert (gateway.route, gateway.gateway_url) == ("gateway", "https://api.lava.so/v1/forward")
    assert gateway.authorization() == f"Bearer {secret}"
    assert gateway.base_url == direct.base_url == "https://lava-crm-api.fly.dev"


def test_settings_never_show_secrets(env: pytest.MonkeyPatch, secret: str) -> None:
    env.setenv("LAVA_SECRET_KEY", secret)
    env.setenv("LAVA_CRM_TOKEN", "crm_tok_SECRET_456")
    env.setenv("LAVA_MCP_AUTH_TOKENS", "mcp_tok_SECRET_A, mcp_tok_SECRET_B")

    settings = Settings()

    assert [token.get_secret_value() for token in settings.auth_tokens] == ["mcp_tok_SECRET_A", "mcp_tok_SECRET_B"]
    shown = " ".join([repr(settings), str(settings), settings.model_dump_json(), repr(settings.upstream())])
    assert "SECRET" not in shown


def test_settings_retry_policy_comes_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAVA_CRM_RETRY_DEADLINE", "5")
    env.setenv("LAVA_CRM_MAX_ATTEMPTS", "2")

    assert Settings().retry == RetryPolicy(deadline=5.0, max_attempts=2)


@pytest.mark.anyio
@pytest.mark.parametrize("page", [0, -1])
async def test_a_page_below_one_is_refused_before_any_request(
    client: CrmClient, crm_api: respx.MockRouter, page: int
) -> None:
    with pytest.raises(CrmInvalid) as caught:
        await client.records("contacts").list(page=page)

    assert "page" in caught.value.fields
    assert not crm_api.calls


@pytest.mark.anyio
async def test_a_short_demo_token_never_rewrites_record_data(crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(json={"id": "c-1", "description": "Met at the sandbox demo"})
    upstream = Upstream("https://crm.example", SecretStr("sandbox"))
    async with CrmClient(upstream, transport=httpx.MockTransport(crm_api.handler)) as client:
        contact = await client.records("contacts").get("c-1")

    assert contact.description == "Met at the sandbox demo"
